"""The Chinese working-day calendar: State Council holidays and 调休 make-up working days.

chinese-calendar ships each year's notice some weeks after the State Council publishes it, so a
plan that reaches into next year may find no data. Then the newsroom's overrides decide, and
after them the configured fallback, with a warning on every slot that depended on a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from publisher.schedule.model import CalendarSettings

# 调休 can make a long run of days off (Spring Festival is nine); a month is far more than enough.
MAX_SHIFT_DAYS = 31


def fallback_warning(year: int, fallback: str) -> str:
    rule = "周一至周五为工作日" if fallback == "weekdays" else "每天都按工作日"
    rule_en = "Monday to Friday are working days" if fallback == "weekdays" else "every day is a working day"
    return (
        f"chinesecalendar 尚无 {year} 年的节假日安排，暂按{rule}推算，请核对国务院通知或在 "
        f"schedules/newsroom.toml 的 [[calendar.override]] 中补录 / chinese-calendar has no data for {year}: "
        f"assuming {rule_en}; check the State Council notice or add [[calendar.override]] entries"
    )


@dataclass(frozen=True, slots=True)
class DayInfo:
    working: bool
    name: str | None = None  # the holiday's name, or the reason of an override
    guessed: bool = False  # decided by the fallback, not by data


@dataclass
class WorkingCalendar:
    settings: CalendarSettings = field(default_factory=CalendarSettings)

    def __post_init__(self) -> None:
        self._overrides = {o.date: o for o in self.settings.override}
        self._days: dict[date, DayInfo] = {}  # a calendar page asks each day three times

    def day(self, day: date) -> DayInfo:
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._decide(day)
        return known

    def _decide(self, day: date) -> DayInfo:
        override = self._overrides.get(day)
        if override is not None:
            return DayInfo(override.working, override.name or None)
        import chinese_calendar  # loaded on first use: most commands never ask about a day

        try:
            off, holiday = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            guess = self.settings.fallback == "every-day" or day.weekday() < 5
            return DayInfo(guess, None, guessed=True)
        return DayInfo(not off, _holiday_name(holiday))

    def is_makeup_workday(self, day: date) -> bool:
        """A weekend day that 调休 makes a working day (shown as 班 on the plan's grid)."""
        info = self.day(day)
        return info.working and day.weekday() >= 5 and not info.guessed

    def is_holiday(self, day: date) -> bool:
        """A weekday off, or a weekend day inside a named holiday (shown as 休)."""
        info = self.day(day)
        return not info.working and not info.guessed and (day.weekday() < 5 or info.name is not None)

    def next_working_day(self, day: date) -> tuple[date | None, bool]:
        """The first working day after `day`, and whether any day on the way was guessed."""
        guessed = False
        for step in range(1, MAX_SHIFT_DAYS + 1):
            candidate = day + timedelta(days=step)
            info = self.day(candidate)
            guessed = guessed or info.guessed
            if info.working:
                return candidate, guessed
        return None, guessed


_HOLIDAY_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _holiday_name(holiday: object) -> str | None:
    if holiday is None:
        return None
    english = str(getattr(holiday, "value", holiday))
    return _HOLIDAY_ZH.get(english, english)
