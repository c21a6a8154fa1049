"""Time rules: stored in UTC, planned and shown in the newsroom's timezone."""

from __future__ import annotations

from datetime import UTC, datetime
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
