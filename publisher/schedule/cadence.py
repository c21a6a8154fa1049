"""A campaign's cadence over its window becomes numbered slots.

Slot numbers count the cadence's nominal occurrences from the window's start, before the
working-day policy and the campaign's own windows drop any: skipping a holiday or adding a
blackout leaves a gap and never renumbers a later slot that a delivery already points at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from publisher.schedule.schedules import Campaign, Slot
from publisher.schedule.windows import Window, blocking
from publisher.schedule.workdays import WorkingCalendar, fallback_warning


@dataclass(frozen=True, slots=True)
class Occurrence:
    day: date
    at: time
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Countdown:
    target: date
    name: str


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def weekly(start: date, end: date, weekdays: list[int], times: list[time]) -> list[Occurrence]:
    wanted = set(weekdays)
    ordered = sorted(set(times))
    return [Occurrence(d, t) for d in days_between(start, end) if d.weekday() in wanted for t in ordered]


def daily(start: date, end: date, times: list[time]) -> list[Occurrence]:
    ordered = sorted(set(times))
    return [Occurrence(d, t) for d in days_between(start, end) for t in ordered]


def _cn_date(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _countdown_label(countdown: Countdown, day: date) -> str:
    left = (countdown.target - day).days
    if left > 0:
        return f"距{countdown.name}还有{left}天"
    if left == 0:
        return f"今天是{countdown.name}"
    return f"{countdown.name}后第{-left}天"


def expand(
    campaign: Campaign,
    occurrences: list[Occurrence],
    *,
    tz: ZoneInfo,
    calendar: WorkingCalendar,
    newsroom_windows: tuple[Window, ...],
    template: str | None = None,
    countdown: Countdown | None = None,
) -> tuple[list[Slot], set[int]]:
    """The slots, and the years whose working days had to be guessed."""
    guessed_years: set[int] = set()
    slots: list[Slot] = []
    taken: set[datetime] = set()
    campaign_windows: tuple[Window, ...] = (*campaign.quiet_hours, *campaign.blackouts)
    for number, occ in enumerate(occurrences, start=1):
        day, shifted_from, guessed = occ.day, None, False
        if campaign.non_working_day != "publish":
            info = calendar.day(day)
            guessed = info.guessed
            if not info.working:
                if campaign.non_working_day == "skip":
                    if guessed:
                        guessed_years.add(day.year)
                    continue
                moved, guessed_on_way = calendar.next_working_day(day)
                guessed = guessed or guessed_on_way
                if moved is None:
                    continue
                day, shifted_from = moved, occ.day
        due = datetime.combine(day, occ.at, tzinfo=tz).astimezone(UTC)
        if due in taken:  # two shifted slots landed on one instant: the earlier number keeps it
            continue
        channels = tuple(c for c in campaign.channels if not blocking(campaign_windows, c, due))
        if not channels:
            continue
        taken.add(due)

        notes: list[str] = []
        if guessed:
            guessed_years.add(day.year)
            notes.append(fallback_warning(day.year, calendar.settings.fallback))
        for channel in channels:
            found = blocking(newsroom_windows, channel, due)
            if found:
                reasons = "；".join(w.describe() for w in found)
                notes.append(f"{channel}: {reasons}")

        days_left = (countdown.target - occ.day).days if countdown else None
        if occ.label:
            label = occ.label
        elif template:
            label = template.format(
                name=campaign.name,
                number=number,
                date=_cn_date(day),
                days="" if days_left is None else days_left,
            )
        elif countdown:
            label = _countdown_label(countdown, occ.day)
        else:
            label = f"{campaign.name} · {_cn_date(day)}"
        slots.append(
            Slot(
                campaign=campaign.key,
                number=number,
                due=due,
                channels=channels,
                column=campaign.column,
                label=label,
                shifted_from=shifted_from,
                warning="\n".join(notes) or None,
            )
        )
    return slots, guessed_years
