"""Declaring a consultation: the `consultation:` block of a draft's front matter and the clauses
(第X条 headings) a comment may name.

Pure reading of an article, no store: the loader asks it for problems, the site build for what a
page shows and what `register.py` records when the approved revision goes live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from publisher.numerals import NUMERAL_CHARS, chinese_number

DEFAULT_WINDOW_DAYS = 30
# A clause heading: Markdown heading `### 第十二条 标题` (the heading text may run on after it).
CLAUSE_HEADING = re.compile(rf"^#{{1,6}}\s*第([{NUMERAL_CHARS}\d]+)条(?:[\s\u3000]*(.*?))?\s*#*\s*$")


def _moment(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"不是日期（YYYY-MM-DD）或带时区的时间 / not a date or an ISO 8601 time: {text!r}"
            ) from None
    return value


class ConsultationDecl(BaseModel):
    """`consultation:` in front matter. A date opens at the start of that local day and closes at
    the end of it; a time must carry its UTC offset."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    opens: date | datetime
    closes: date | datetime | None = None  # default: DEFAULT_WINDOW_DAYS after opening
    name_required: bool = False
    questions: list[str] = []
    feedback: str | None = None  # the slug of the 采纳情况反馈 article, once there is one

    _moments = field_validator("opens", "closes", mode="before")(_moment)

    @field_validator("opens", "closes")
    @classmethod
    def _aware(cls, value: date | datetime | None) -> date | datetime | None:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError(f"时间缺少时区偏移（如 +08:00） / time {value} has no UTC offset")
        return value

    @field_validator("questions")
    @classmethod
    def _questions(cls, value: list[str]) -> list[str]:
        if any(not q for q in value):
            raise ValueError("列表中有空项 / the list has an empty item")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ConsultationDecl:
        if self.closes is not None:
            tz = ZoneInfo("Asia/Shanghai")  # only for the order check; window() uses the newsroom's
            if window(self, tz)[1] <= window(self, tz)[0]:
                raise ValueError("截止时间早于开始时间 / closes before it opens")
        return self


def _start(value: date | datetime, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0), tz)


def window(decl: ConsultationDecl, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """(opens, closes) as aware times; a closing date means the end of that local day."""
    opens = _start(decl.opens, tz)
    if decl.closes is None:
        return opens, opens + timedelta(days=DEFAULT_WINDOW_DAYS)
    if isinstance(decl.closes, datetime):
        return opens, decl.closes
    return opens, datetime.combine(decl.closes + timedelta(days=1), time(0), tz)


@dataclass(frozen=True, slots=True)
class Clause:
    key: str  # the clause's number in ASCII digits: stable across revisions that keep the numbering
    label: str  # 第三条
    heading: str
    line: int  # 1-based line of the body

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "label": self.label, "heading": self.heading}


@dataclass(frozen=True, slots=True)
class ClauseProblem:
    line: int
    reason: str


def clauses(body: str) -> tuple[list[Clause], list[ClauseProblem]]:
    """The draft's 第X条 headings in order; a numeral that cannot be read or a number used twice is
    a problem (a comment must name exactly one clause)."""
    found: list[Clause] = []
    problems: list[ClauseProblem] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(body.split("\n"), 1):
        match = CLAUSE_HEADING.match(line.strip())
        if match is None:
            continue
        try:
            number = chinese_number(match.group(1))
        except ValueError:
            problems.append(
                ClauseProblem(n, f"条号无法识别 / cannot read the clause number 第{match.group(1)}条")
            )
            continue
        key = str(number)
        if key in seen:
            problems.append(
                ClauseProblem(
                    n, f"条号重复：第{match.group(1)}条已在第 {seen[key]} 行 / clause number used twice"
                )
            )
            continue
        seen[key] = n
        found.append(Clause(key, f"第{match.group(1)}条", (match.group(2) or "").strip(), n))
    return found, problems
