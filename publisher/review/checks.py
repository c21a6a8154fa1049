"""Automatic checks run at submission and again at final approval.

- secrecy markings (built-in and the newsroom's): a hard block from every external channel;
- terminology: warnings a reviewer must acknowledge by name;
- meeting reports: the named meeting, its dates, 届/次 named in the text, and every vote claim
  against the register;

All of them read text through `normalize`: every shown field, the body as written and as
rendered, folded so that a marking or a claim cannot be dodged by its form.
- each target channel's own limits, through the hook `ChannelCheck`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from publisher.errors import ConfigError, Problem
from publisher.imaging.glyphs import Face, missing_glyphs
from publisher.numerals import NUMERAL_CHARS, chinese_number
from publisher.review.normalize import (
    MEETING_NAME_LABEL,
    TITLE_LABEL,
    fold,
    mark_views,
    rendered_blocks,
    sentences,
    shown_fields,
    source_view_text,
)
from publisher.review.register import MeetingRegister, RegisteredMeeting, body_of
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


# Classification and handling marks that no newsroom list can switch off, and that a newsroom
# with no list at all (a fresh `publisher init`) is checked for: at submission, at final approval
# and by the gate at every delivery. Read in folded text, where every star-like character is ★.
BUILTIN_MARKINGS = SecrecyList(
    marking=[
        Marking(
            name="密级标志（绝密/机密/秘密★）",
            pattern=r"(?:绝密|机密|秘密)\s*[★☆]",
            scope="anywhere",
        ),
        Marking(name="内部资料 注意保存", pattern=r"内部资料[\s，,、]*注意保存", scope="anywhere"),
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
# Read in folded text (`normalize.mark_views`), where every star-like character is ★.
_FRAME = r"[\s*★#>_`【】\[\]（）()「」《》:：，,、。.·\-—|]*"
_OPEN, _CLOSE = r"[【\[（(「]\s*", r"\s*[】\]）)」]"


@dataclass(frozen=True, slots=True)
class _Matcher:
    marking: Marking
    pattern: re.Pattern[str]
    framed: re.Pattern[str]
    bracketed: re.Pattern[str]
    head: re.Pattern[str]

    def in_line(self, views: Iterable[str]) -> bool:
        """The marking stands in one of these readings of a line (as its scope defines)."""
        for view in views:
            if self.marking.scope == "anywhere":
                if self.pattern.search(view):
                    return True
            elif self.framed.fullmatch(view) or self.bracketed.search(view):
                return True
        return False

    def at_head(self, views: Iterable[str]) -> bool:
        """For a title: anywhere-markings anywhere, standalone ones only at its head."""
        if self.marking.scope == "anywhere":
            return self.in_line(views)
        return any(self.head.match(view) or self.bracketed.search(view) for view in views)


@lru_cache(maxsize=256)
def _matcher(marking: Marking) -> _Matcher:
    pattern = marking.pattern
    return _Matcher(
        marking,
        re.compile(pattern),
        re.compile(f"{_FRAME}(?:{pattern}){_FRAME}"),
        re.compile(f"{_OPEN}(?:{pattern}){_CLOSE}"),
        re.compile(f"^{_FRAME}(?:{pattern})"),
    )


def with_builtin(markings: SecrecyList) -> SecrecyList:
    """The built-in marks, then the newsroom's own: a list can add markings, never remove one,
    and a newsroom with no list at all is still checked for them."""
    known = {m.pattern for m in BUILTIN_MARKINGS.marking}
    extra = [m for m in markings.marking if m.pattern not in known]
    return SecrecyList(marking=[*BUILTIN_MARKINGS.marking, *extra])


def _lines_views(text: str) -> list[tuple[str, ...]]:
    # A field is read whole (a line break inside a word joins up) and line by line (a standalone
    # marking on its own line of a summary).
    parts = [text, *text.split("\n")] if "\n" in text else [text]
    return [mark_views(part) for part in parts]


def check_secrecy(subject: Subject, markings: SecrecyList) -> list[Finding]:
    """Every marking (built-in and the newsroom's), in every shown field, the body as written
    (with its line) and as rendered (what emphasis, entities and line joins make of it)."""
    findings: list[Finding] = []
    matchers = [_matcher(m) for m in with_builtin(markings).marking]
    for label, text in shown_fields(subject.meta):
        field_views = _lines_views(text)
        cn, _, en = label.partition(" / ")
        for m in matchers:
            if label == TITLE_LABEL:
                hit = any(m.at_head(views) for views in field_views)
            else:
                hit = any(m.in_line(views) for views in field_views)
            if hit:
                findings.append(
                    Finding(
                        "secrecy",
                        "block",
                        m.marking.name,
                        f"{cn}带有密级或内部标志「{m.marking.name}」 / the {en} carries a secrecy marking",
                    )
                )
    source = [(n, mark_views(source_view_text(line))) for n, line in enumerate(subject.body.split("\n"), 1)]
    rendered = [mark_views(block) for block in rendered_blocks(subject.body)]
    for m in matchers:
        lines = [n for n, views in source if m.in_line(views)]
        for line in lines:
            findings.append(
                Finding(
                    "secrecy",
                    "block",
                    m.marking.name,
                    f"带有密级或内部标志「{m.marking.name}」，禁止对外发布 / "
                    "secrecy marking: blocked from every external channel",
                    line,
                )
            )
        if not lines and any(m.in_line(views) for views in rendered):
            findings.append(
                Finding(
                    "secrecy",
                    "block",
                    m.marking.name,
                    f"正文排版后显示密级或内部标志「{m.marking.name}」（被强调、换行、字符引用或不可见字符拆开），"
                    "禁止对外发布 / the rendered body shows a secrecy marking (split in the source by "
                    "emphasis, a line break, a character reference or an invisible character): "
                    "blocked from every external channel",
                )
            )
    return list(dict.fromkeys(findings))


# -- terminology -----------------------------------------------------------------------------------
def check_terms(subject: Subject, terms: TermList) -> list[Finding]:
    findings: list[Finding] = []
    texts: list[tuple[int | None, str]] = [(None, fold(text)) for _, text in shown_fields(subject.meta)]
    texts += [(n, fold(source_view_text(line))) for n, line in enumerate(subject.body.split("\n"), 1)]
    texts += [(None, fold(block)) for block in rendered_blocks(subject.body)]
    for term in terms.term:
        wrong = fold(term.wrong)
        lines = [n for n, text in texts if wrong in text]
        if lines:
            note = f"（{term.note}）" if term.note else ""
            numbered = sorted({n for n in lines if n is not None})
            where = "、".join(str(n) for n in numbered) or "标题、摘要或排版后的正文"
            findings.append(
                Finding(
                    "terminology",
                    "warning",
                    term.wrong,
                    f"用语「{term.wrong}」应为「{term.preferred}」{note}；出现在第 {where} 行 / "
                    f"'{term.wrong}' should read '{term.preferred}'",
                    numbered[0] if numbered else None,
                )
            )
    return findings


# -- characters the fonts cannot print ------------------------------------------------------------
def check_glyphs(subject: Subject) -> list[Finding]:
    """A character neither face the install ships can draw (a rare character of a name, 生僻字,
    outside Noto SC): long images, covers and the printed bulletin would leave a blank there. A
    warning, one per character, for the reviewer to see before it reaches paper (a bulletin issue
    refuses such an article outright, bulletin/compile.py)."""
    texts: list[tuple[int | None, str]] = [(None, text) for _, text in shown_fields(subject.meta)]
    texts += list(enumerate(subject.body.split("\n"), 1))
    first: dict[str, int | None] = {}  # each character, at the first body line that has it
    for line, text in texts:
        for char in [*missing_glyphs(text, Face.SERIF), *missing_glyphs(text, Face.SANS)]:
            if first.get(char) is None:
                first[char] = line
    return [
        Finding(
            "glyphs",
            "warning",
            f"glyph:{char}",
            f"字体中没有「{char}」（U+{ord(char):04X}），长图、封面和印刷版公报会在此处留白；请改用规范字 / "
            f"the fonts have no glyph for {char!r} (U+{ord(char):04X}): images and print would show a blank",
            line,
        )
        for char, line in first.items()
    ]


# -- meeting procedure -----------------------------------------------------------------------------
# A clause claims a vote by its structure: 表决…通过, 审议通过, (获)得通过, 全票/高票/一致通过,
# 会议…通过了/《/关于, a clause opening with 通过了 or 通过《 (after the tally), 通过了 (not 通过了解).
_CLAIM = re.compile(
    r"表决[^，,；;]*?通过|审议通过|获得?通过|[全高]票通过|一致通过"
    r"|(?:会议|大会|常委会|常务委员会)[^，,；;]{0,12}?通过(?:了|《|关于)"
    r"|^通过(?:了|《|关于)|通过了(?!解)"
)
_NEGATED = re.compile(r"(?:未|没有|不予|尚未|未能)(?:获得?|能)?(?:表决)?通过")
_INSTRUMENT = re.compile(r"《[^《》]+》|关于[^《》，,；;。]*?的(?:决定|决议)")
_LINKS = re.compile(r"[和及与、等\s]|以及")
_CLAUSE = re.compile(r"[，,；;：:]")
_NUM = rf"[{NUMERAL_CHARS}\d]+"
_TERM_SESSION = re.compile(f"第?({_NUM})届([^。；;，,]{{0,24}}?)第?({_NUM})次(?:全体)?会议")


def _norm(title: str) -> str:
    return fold(title).strip("《》 ").replace("（", "(").replace("）", ")")


def _number(text: str) -> int:
    """The number of a 届 or 次; a numeral that cannot be read counts as no meeting's (-1), so a
    claim written with one is reported rather than waved through."""
    try:
        return chinese_number(text)
    except ValueError:
        return -1


@dataclass(frozen=True, slots=True)
class VoteClaim:
    sentence: str
    claim: str  # the clause that claims the vote
    instrument: str  # as written: 《…》 or 关于…的决定


def vote_claims(text: str) -> list[VoteClaim]:
    """Every instrument a sentence of this (folded) text says was voted through."""
    claims: list[VoteClaim] = []
    for sentence in sentences(text):
        clauses = [c for c in _CLAUSE.split(sentence) if c.strip()]
        claiming = False
        pending: list[str] = []  # instruments of clauses that only list them, before their verb
        for clause in clauses:
            named = _INSTRUMENT.findall(clause)
            bare = not _LINKS.sub("", _INSTRUMENT.sub("", clause)).strip("。！？!?")
            if _CLAIM.search(clause) and not _NEGATED.search(clause):
                claiming = True
                named = named or pending
            elif not (bare and named and claiming):
                claiming = False
                pending = named if bare else []
                continue
            claims += [VoteClaim(sentence, clause, title) for title in named]
            pending = []
    return claims


def _meeting_texts(subject: Subject) -> list[str]:
    """Title, summary, every other shown field and the rendered body, folded, one entry each."""
    texts = [fold(text) for label, text in shown_fields(subject.meta) if label != MEETING_NAME_LABEL]
    return texts + [fold(block) for block in rendered_blocks(subject.body)]


def _check_claims(texts: list[str], found: RegisteredMeeting) -> list[Finding]:
    voted = {_norm(item.title): item for item in found.items if item.voted}
    listed = {_norm(item.title): item for item in found.items}
    titles = sorted(listed, key=len, reverse=True)
    entry = f"会议登记「{found.name}」（{found.id}）"
    findings: list[Finding] = []
    for text in texts:
        for claim in vote_claims(text):
            key = _norm(claim.instrument)
            # 《…》 named inside a longer registered item (关于《…》实施情况的工作评议) is that item.
            key = next((t for t in titles if key != t and key in t and t in _norm(claim.claim)), key)
            if key in voted:
                continue
            item = listed.get(key)
            if item is not None:
                recorded = f"登记为未表决事项「{item.title}」 / the register records it as not voted"
            else:
                near = [v.title for k, v in voted.items() if key in k or k in key]
                hint = f"；相近的表决事项：「{'」「'.join(near)}」" if near else ""
                recorded = (
                    f"会议登记中没有该事项{hint} / the register has no such voted item"
                    f"{' (a similar one: ' + '; '.join(near) + ')' if near else ''}"
                )
            findings.append(
                Finding(
                    "meeting",
                    "block",
                    f"vote:{key}",
                    f"「{claim.sentence}」称{claim.instrument}已表决通过（{claim.claim}），但{entry}"
                    f"{recorded} / claims a vote the register does not record",
                )
            )
    return findings


def _check_term_session(texts: list[str], found: RegisteredMeeting) -> list[Finding]:
    findings: list[Finding] = []
    for text in texts:
        for sentence in sentences(text):
            for match in _TERM_SESSION.finditer(sentence):
                term, middle, session = _number(match[1]), match[2], _number(match[3])
                said = "standing-committee" if re.search("常务委员会|常委会", middle) else "congress"
                if said != found.body or (term, session) == (found.term, found.session):
                    continue
                findings.append(
                    Finding(
                        "meeting",
                        "block",
                        "meeting-session",
                        f"「{sentence}」写明第{term}届第{session}次会议，与会议登记「{found.name}」"
                        f"（第{found.term}届第{found.session}次）不符 / term or session named in the text "
                        "disagrees with the register",
                    )
                )
    return list(dict.fromkeys(findings))


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
    texts = _meeting_texts(subject)
    return findings + _check_claims(texts, found) + _check_term_session(texts, found)


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
    findings += check_glyphs(subject)
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
