"""The shapes of the files in `schedules/`, as staff write them (pydantic, every field checked).

References between files (key dates, columns, channels, meetings) are resolved later, in
`load.py`, because they need the other files and the newsroom's declarations.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")

WEEKDAY_NAMES: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("mon", "monday", "周一", "星期一", "一"),
        ("tue", "tuesday", "周二", "星期二", "二"),
        ("wed", "wednesday", "周三", "星期三", "三"),
        ("thu", "thursday", "周四", "星期四", "四"),
        ("fri", "friday", "周五", "星期五", "五"),
        ("sat", "saturday", "周六", "星期六", "六"),
        ("sun", "sunday", "周日", "星期日", "周天", "星期天", "日", "天"),
    )
):
    for _name in _names:
        WEEKDAY_NAMES[_name] = _i


def _local_time(value: Any) -> time:
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError("时间按本地时间书写，不带时区 / write local times without an offset")
        return value
    if isinstance(value, str):
        match = _TIME.match(value.strip())
        if match:
            hour, minute = int(match.group(1)), int(match.group(2))
            if hour < 24 and minute < 60:
                return time(hour, minute)
    raise ValueError(
        f"时间格式应为 HH:MM（00:00–23:59） / time must be HH:MM between 00:00 and 23:59, not {value!r}"
    )


def _weekday(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7:
        return value - 1
    if isinstance(value, str) and value.strip().lower() in WEEKDAY_NAMES:
        return WEEKDAY_NAMES[value.strip().lower()]
    raise ValueError(
        f"无法识别的星期 / unknown weekday {value!r}: use mon..sun, 周一..周日 or 1..7 (Monday = 1)"
    )


def _month_day(value: Any) -> str:
    if isinstance(value, str):
        match = _MONTH_DAY.match(value.strip())
        if match:
            try:
                date(2000, int(match.group(1)), int(match.group(2)))  # a leap year: 02-29 is allowed
            except ValueError:
                pass
            else:
                return value.strip()
    raise ValueError(f"每年的日期应写作 MM-DD / an annual date is written MM-DD, not {value!r}")


def _date_ref(value: Any) -> date | str:
    # TOML gives real dates for 2026-11-27; everything else is an expression like `宪法日 - 7d`.
    if isinstance(value, datetime):
        raise ValueError("这里写日期，不写时刻 / a date is expected here, not a date-time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError(f"应为日期或关键日期表达式 / expected a date or a key-date expression, not {value!r}")


LocalTime = Annotated[time, BeforeValidator(_local_time)]
Weekday = Annotated[int, BeforeValidator(_weekday)]
MonthDay = Annotated[str, BeforeValidator(_month_day)]
DateRef = Annotated[date | str, BeforeValidator(_date_ref)]
# A blackout edge: a whole local day, a local date-time, an aware date-time, or a key-date expression.
Moment = date | datetime | str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _check_key(value: str, what: str) -> str:
    if not _KEY.match(value):
        raise ValueError(
            f"{what} key 须为小写 ASCII 单词以连字符连接 / key must be lower-case ASCII words joined by '-'"
        )
    return value


# -- key-dates.toml ------------------------------------------------------------------------------


class AnnualDate(Strict):
    key: str
    name: str = Field(min_length=1)
    date: MonthDay
    end: MonthDay | None = None  # a span such as the Constitution publicity week; may run into January
    aliases: list[str] = []

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return _check_key(value, "关键日期")


DatedKind = Literal["congress-session", "sc-meeting", "regulation-effective", "anniversary", "event"]


class DatedDate(Strict):
    key: str
    name: str | None = None  # taken from the meeting register when `meeting` is set
    kind: DatedKind | None = None
    start: date | None = None
    end: date | None = None
    meeting: str | None = None  # an id in meetings.toml: its dates come from there, never copied
    aliases: list[str] = []

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return _check_key(value, "关键日期")

    @model_validator(mode="after")
    def _dated(self) -> DatedDate:
        if self.meeting is None:
            if self.start is None:
                raise ValueError(
                    "缺少 start（或 meeting） / needs `start`, or `meeting` naming an entry in meetings.toml"
                )
            if not self.name:
                raise ValueError("缺少 name / needs `name`")
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"结束日期早于开始日期 / end {self.end} is before start {self.start}")
        return self


class KeyDatesFile(Strict):
    annual: list[AnnualDate] = []
    dated: list[DatedDate] = []


# -- windows that forbid releases ----------------------------------------------------------------


class QuietHours(Strict):
    """Every day between two local times (it may run past midnight), no release goes out."""

    start: LocalTime
    end: LocalTime
    channels: list[str] = []  # empty: every channel
    reason: str = ""

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("静默时段的开始与结束相同 / quiet hours start and end at the same time")
        return self


class Blackout(Strict):
    """A stretch of time without releases: from `start` to `end`, or the days of one key date."""

    start: Moment | None = None
    end: Moment | None = None
    key_date: str | None = None
    channels: list[str] = []
    reason: str = ""

    @model_validator(mode="after")
    def _one_form(self) -> Blackout:
        if self.key_date is None and (self.start is None or self.end is None):
            raise ValueError(
                "停发时段须有 start 和 end，或 key_date / a blackout needs start and end, or key_date"
            )
        if self.key_date is not None and (self.start is not None or self.end is not None):
            raise ValueError("key_date 与 start/end 只能二选一 / give key_date or start/end, not both")
        return self


# -- campaigns/<key>.toml ------------------------------------------------------------------------


class Window(Strict):
    start: DateRef
    end: DateRef


class WeeklyCadence(Strict):
    kind: Literal["weekly"]
    weekdays: list[Weekday] = Field(min_length=1)
    times: list[LocalTime] = Field(min_length=1)


class DailyCadence(Strict):
    kind: Literal["daily"]
    times: list[LocalTime] = Field(min_length=1)


class CountdownCadence(Strict):
    """Every day up to a key date, each slot labelled with the days left."""

    kind: Literal["countdown"]
    to: DateRef | None = None  # default: the window's end
    times: list[LocalTime] = Field(min_length=1)


class OnceSlot(Strict):
    on: DateRef
    time: LocalTime
    label: str | None = None


class OnceCadence(Strict):
    kind: Literal["once"]
    slots: list[OnceSlot] = Field(min_length=1)


Cadence = Annotated[
    WeeklyCadence | DailyCadence | CountdownCadence | OnceCadence, Field(discriminator="kind")
]
NonWorkingDay = Literal["publish", "skip", "shift"]


class CampaignFile(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    column: str | None = None  # a column's key or name from publisher.toml
    channels: list[str] = Field(min_length=1)
    year: int | None = Field(default=None, ge=2000, le=2100)  # which year an annual key date means
    window: Window | None = None  # optional only for one-off cadences
    cadence: Cadence
    non_working_day: NonWorkingDay = "publish"
    label: str | None = None  # a template: {name} {number} {date} {days}
    quiet_hours: list[QuietHours] = []
    blackout: list[Blackout] = []

    @model_validator(mode="after")
    def _window_needed(self) -> CampaignFile:
        if self.window is None and not isinstance(self.cadence, OnceCadence):
            raise ValueError(
                f"{self.cadence.kind} 节奏需要 [window] / a {self.cadence.kind} cadence needs a [window]"
            )
        return self


# -- newsroom.toml: newsroom-wide rules ------------------------------------------------------------


class HolidayOverride(Strict):
    date: date
    working: bool
    name: str = ""


class CalendarSettings(Strict):
    # For years chinese-calendar does not cover yet: Monday to Friday, or every day, are working days.
    fallback: Literal["weekdays", "every-day"] = "weekdays"
    override: list[HolidayOverride] = []


class PlanSettings(Strict):
    horizon_days: int = Field(default=7, ge=0, le=366)


class InspectionSchedule(Strict):
    """When `publisher run` performs an inspection (定期清查): local times of day, once across workers."""

    at: list[LocalTime] = []
    live_url: str | None = Field(default=None, pattern=r"^https?://")
    # Uptime probes of the website (review/inspection.toml [uptime] says how many a day).
    probe: bool = False


class NewsroomRules(Strict):
    paused: bool = False
    pause_reason: str = ""
    calendar: CalendarSettings = CalendarSettings()
    plan: PlanSettings = PlanSettings()
    quiet_hours: list[QuietHours] = []
    blackout: list[Blackout] = []
    inspection: InspectionSchedule = InspectionSchedule()
