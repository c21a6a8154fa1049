"""Automatic checks run at submission and again at final approval.

- secrecy markings: a hard block from every external channel;
- terminology: warnings a reviewer must acknowledge by name;
- meeting reports: the named meeting, its dates and every 表决通过 claim against the register;
- each target channel's own limits, through the hook `ChannelCheck`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from publisher.errors import ConfigError, Problem
from publisher.review.register import MeetingRegister, body_of
from publisher.tomlproblems import TomlSource, validation_problems

Severity = Literal["block", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    check: str  # secrecy | terminology | meeting | channel
    severity: Severity
    code: str  # what a reviewer names to acknowledge a warning
    message: str
    line: int | None = None  # line of the body, 1-based; None for front matter

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"正文第 {self.line} 行 / body line {self.line}: " if self.line else ""
        return f"[{self.check}] {where}{self.message}"


@dataclass(frozen=True, slots=True)
class Subject:
    """What the checks read: one revision's text and metadata."""

    meta: dict[str, Any]
    body: str

    @property
    def title(self) -> str:
        return str(self.meta.get("title", ""))


# A channel kind's own limits; the channel issues register theirs.
ChannelCheck = Callable[[Subject], list[Problem]]


# -- the newsroom's lists --------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Marking(_Strict):
    name: str
    pattern: str
    scope: Literal["anywhere", "standalone"] = "anywhere"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"正则表达式无效 / invalid regular expression: {exc}") from None
        return value


class Term(_Strict):
    wrong: str = Field(min_length=1)
    preferred: str = Field(min_length=1)
    note: str = ""


class SecrecyList(_Strict):
    marking: list[Marking] = []


class TermList(_Strict):
    term: list[Term] = []


# Classification marks that no newsroom list can switch off: the gate checks them at every delivery.
BUILTIN_MARKINGS = SecrecyList(
    marking=[
        Marking(name="密级标志（绝密/机密/秘密★）", pattern=r"(?:绝密|机密|秘密)\s*[★☆]", scope="anywhere")
    ]
)


def _load(path: Path, root: Path, model: type[_Strict]) -> Any:
    shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    if not path.is_file():
        return model()
    try:
        text = path.read_text(encoding="utf-8")
        return model.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise ConfigError(
            [Problem(shown, f"无法读取 / cannot read: {exc}", line=int(line.group(1)) if line else None)]
        ) from None
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, TomlSource(shown, text), model)) from None


def check_lists(review_dir: Path, root: Path) -> list[Problem]:
    """For `publisher check`: every problem of every review list, nothing raised."""
    problems: list[Problem] = []
    for load in (load_secrecy, load_terms):
        try:
            load(review_dir, root)
        except ConfigError as exc:
            problems += exc.problems
    return problems


def load_secrecy(review_dir: Path, root: Path) -> SecrecyList:
    result: SecrecyList = _load(review_dir / "secrecy.toml", root, SecrecyList)
    return result


def load_terms(review_dir: Path, root: Path) -> TermList:
    result: TermList = _load(review_dir / "terminology.toml", root, TermList)
    return result


# -- secrecy ---------------------------------------------------------------------------------------
_FRAME = r"[\s*#>_`【】\[\]（）()「」《》:：，,、。.·\-—|]*"
_OPEN, _CLOSE = r"[【\[（(「]\s*", r"\s*[】\]）)」]"


def _marking_hits(marking: Marking, text: str) -> list[int]:
    """1-based lines of `text` where the marking stands (as its scope defines)."""
    pattern = re.compile(marking.pattern)
    framed = re.compile(f"{_FRAME}(?:{marking.pattern}){_FRAME}")
    bracketed = re.compile(f"{_OPEN}(?:{marking.pattern}){_CLOSE}")
    hits = []
    for number, line in enumerate(text.split("\n"), 1):
        if marking.scope == "anywhere":
            found = pattern.search(line) is not None
        else:
            found = framed.fullmatch(line) is not None or bracketed.search(line) is not None
        if found:
            hits.append(number)
    return hits


def check_secrecy(subject: Subject, markings: SecrecyList) -> list[Finding]:
    findings: list[Finding] = []
    for marking in markings.marking:
        head = re.compile(f"^{_FRAME}(?:{marking.pattern})")
        title_hit = (
            bool(re.search(marking.pattern, subject.title))
            if marking.scope == "anywhere"
            else bool(head.match(subject.title))
        )
        if title_hit:
            findings.append(
                Finding(
                    "secrecy",
                    "block",
                    marking.name,
                    f"标题带有密级或内部标志「{marking.name}」 / the title carries a secrecy marking",
                )
            )
        summary = str(subject.meta.get("summary") or "")
        if summary and _marking_hits(marking, summary):
            findings.append(
                Finding(
                    "secrecy",
                    "block",
                    marking.name,
                    f"摘要带有密级或内部标志「{marking.name}」 / the summary carries a secrecy marking",
                )
            )
        for line in _marking_hits(marking, subject.body):
            findings.append(
                Finding(
                    "secrecy",
                    "block",
                    marking.name,
                    f"带有密级或内部标志「{marking.name}」，禁止对外发布 / secrecy marking: blocked from every external channel",
                    line,
                )
            )
    return findings


# -- terminology -----------------------------------------------------------------------------------
def check_terms(subject: Subject, terms: TermList) -> list[Finding]:
    findings: list[Finding] = []
    texts: list[tuple[int | None, str]] = [
        (None, subject.title),
        (None, str(subject.meta.get("summary") or "")),
    ]
    texts += [(n, line) for n, line in enumerate(subject.body.split("\n"), 1)]
    for term in terms.term:
        lines = [n for n, text in texts if term.wrong in text]
        if lines:
            note = f"（{term.note}）" if term.note else ""
            where = "、".join(str(n) for n in lines if n is not None) or "标题或摘要"
            findings.append(
                Finding(
                    "terminology",
                    "warning",
                    term.wrong,
                    f"用语「{term.wrong}」应为「{term.preferred}」{note}；出现在第 {where} 行 / "
                    f"'{term.wrong}' should read '{term.preferred}'",
                    next((n for n in lines if n is not None), None),
                )
            )
    return findings


# -- meeting procedure -----------------------------------------------------------------------------
_VOTE = re.compile(r"表决通过|审议通过|会议通过|获得通过|表决并通过|高票通过|全票通过")
_TITLE = re.compile(r"《([^》]+)》")
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")


def _norm(title: str) -> str:
    return title.strip("《》 ").replace("（", "(").replace("）", ")")


def check_meeting(subject: Subject, register: MeetingRegister) -> list[Finding]:
    meta = subject.meta
    if meta.get("kind") != "meeting_report":
        return []
    named = meta.get("meeting")
    if not named:
        return [
            Finding(
                "meeting",
                "block",
                "meeting",
                "会议报道须在元数据中写明会议（meeting） / a meeting report must name its meeting",
            )
        ]
    body = named.get("body") or body_of(str(named["name"]))
    found = register.find(named["name"], named["term"], named["session"], body)
    if found is None:
        return [
            Finding(
                "meeting",
                "block",
                "meeting",
                f"会议登记中没有「{named['name']}」（第{named['term']}届第{named['session']}次） / "
                "the meeting is not in the register (schedules/meetings.toml)",
            )
        ]
    findings: list[Finding] = []
    if (
        found.name != named["name"]
        or (found.term, found.session) != (named["term"], named["session"])
        or (body is not None and found.body != body)
    ):
        findings.append(
            Finding(
                "meeting",
                "block",
                "meeting",
                f"会议名称或届次与登记不符：登记为「{found.name}」第{found.term}届第{found.session}次 / "
                "name, term or session disagree with the register",
            )
        )
    start, end = str(named.get("start")), str(named.get("end") or named.get("start"))
    if (start, end) != (found.start.isoformat(), found.end.isoformat()):
        findings.append(
            Finding(
                "meeting",
                "block",
                "meeting-dates",
                f"会议日期 {start}–{end} 与登记 {found.start}–{found.end} 不符 / the dates disagree with the register",
            )
        )
    voted = {_norm(item.title): item for item in found.items if item.voted}
    unvoted = {_norm(item.title): item for item in found.items if not item.voted}
    for number, line in enumerate(subject.body.split("\n"), 1):
        for sentence in _SENTENCE.findall(line):
            if not _VOTE.search(sentence):
                continue
            for title in _TITLE.findall(sentence):
                key = _norm(title)
                if any(key == v or key in v or v in key for v in voted):
                    continue
                recorded = (
                    "登记为未表决事项"
                    if any(key in u or u in key for u in unvoted)
                    else "会议登记中没有该事项"
                )
                findings.append(
                    Finding(
                        "meeting",
                        "block",
                        f"vote:{key}",
                        f"稿件称《{title}》已表决通过，但{recorded} / claims a vote the register does not record",
                        number,
                    )
                )
    return findings


# -- everything ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CheckLists:
    secrecy: SecrecyList
    terms: TermList
    register: MeetingRegister


def run_checks(
    subject: Subject, lists: CheckLists, channel_checks: Mapping[str, ChannelCheck]
) -> list[Finding]:
    findings = check_secrecy(subject, lists.secrecy)
    findings += check_terms(subject, lists.terms)
    findings += check_meeting(subject, lists.register)
    for channel, check in sorted(channel_checks.items()):
        for problem in check(subject):
            findings.append(
                Finding(
                    "channel",
                    "block",
                    f"{channel}:{problem.field or ''}",
                    f"渠道 {channel}：{problem.field or ''} {problem.reason}".strip(),
                )
            )
    return findings
