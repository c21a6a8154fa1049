"""The meeting register (`schedules/meetings.toml`): the record meeting reports are checked against."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from publisher.errors import ConfigError, Problem

REGISTER_FILE = "meetings.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VoteResult(_Strict):
    model_config = ConfigDict(
        extra="allow", frozen=True
    )  # tallies differ: for/against/abstain, or evaluation grades
    passed: bool


class AgendaItem(_Strict):
    title: str = Field(min_length=1)
    voted: bool
    result: VoteResult | None = None
    note: str = ""


class RegisteredMeeting(_Strict):
    id: str
    body: Literal["standing-committee", "congress"] = "standing-committee"
    name: str
    term: int = Field(ge=1)
    session: int = Field(ge=1)
    start: date
    end: date
    items: list[AgendaItem] = []


class MeetingRegister(_Strict):
    meeting: list[RegisteredMeeting] = []

    def find(self, name: str, term: int, session: int, body: str | None = None) -> RegisteredMeeting | None:
        """The meeting of that name; else that body's meeting of that term and session (a
        congress and its standing committee number their sessions separately)."""
        for meeting in self.meeting:
            if meeting.name == name:
                return meeting
        for meeting in self.meeting:
            if (meeting.term, meeting.session) == (term, session) and body in (None, meeting.body):
                return meeting
        return None


def body_of(name: str) -> str | None:
    """Which body a meeting's name says it is: 常务委员会 sessions, or the congress's own."""
    if "常务委员会" in name:
        return "standing-committee"
    if "人民代表大会" in name:
        return "congress"
    return None


def load_register(schedules_dir: Path, root: Path) -> MeetingRegister:
    path = schedules_dir / REGISTER_FILE
    shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    if not path.is_file():
        return MeetingRegister()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return MeetingRegister.model_validate(data)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [Problem(shown, f"会议登记文件无法读取 / cannot read the meeting register: {exc}")]
        ) from None
    except ValidationError as exc:
        raise ConfigError(
            [Problem(shown, e["msg"], field=".".join(str(p) for p in e["loc"])) for e in exc.errors()]
        ) from None
