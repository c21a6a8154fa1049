"""Time rules: stored in UTC, planned and shown in the newsroom's timezone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: a time without a UTC offset is ambiguous")
    return moment.astimezone(UTC)


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    return to_utc(moment).astimezone(tz)


def show(moment: datetime, tz: ZoneInfo) -> str:
    """A time as staff read it: local, to the minute, with the offset so nothing is ambiguous."""
    return local(moment, tz).strftime("%Y-%m-%d %H:%M %z")


# The newsroom's day (quotas count per local day) starts and ends here, for the engine's quotas
# and a WeChat account's pushes alike.
def day_start(moment: datetime, tz: ZoneInfo) -> datetime:
    """The local midnight that begins `moment`'s day in `tz`."""
    return datetime.combine(local(moment, tz).date(), time(0), tz)


def next_day_start(moment: datetime, tz: ZoneInfo) -> datetime:
    """The local midnight that begins the day after `moment`'s day in `tz`."""
    return datetime.combine(local(moment, tz).date() + timedelta(days=1), time(0), tz)
