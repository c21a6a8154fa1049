"""Quiet hours and blackout windows: when no release may go out (on some channels, or all).

The one home of the quiet-hours rule: the schedules' windows and a WeChat account's own
`quiet_hours` (read by `daily_windows`) are both these windows, asked through `blocking` and
`next_open`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from publisher.errors import PublisherError

# A channel blocked for longer than this many hops of windows is misconfigured, not busy.
MAX_HOPS = 10_000


def _applies(channels: frozenset[str], channel: str) -> bool:
    return not channels or channel in channels


@dataclass(frozen=True, slots=True)
class QuietWindow:
    """Every day from `start` to `end`, local time; `end` before `start` runs past midnight."""

    start: time
    end: time
    tz: ZoneInfo
    channels: frozenset[str] = frozenset()
    reason: str = ""

    def applies(self, channel: str) -> bool:
        return _applies(self.channels, channel)

    def blocks(self, at: datetime) -> bool:
        now = at.astimezone(self.tz).time()
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def opens_after(self, at: datetime) -> datetime:
        """The first end of these quiet hours after `at`, in UTC."""
        local = at.astimezone(self.tz)
        candidate = datetime.combine(local.date(), self.end, tzinfo=self.tz)
        if candidate <= local:
            candidate = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.tz)
        return candidate.astimezone(UTC)

    def describe(self) -> str:
        span = f"{self.start:%H:%M}–{self.end:%H:%M}"
        why = f"（{self.reason}）" if self.reason else ""
        return f"静默时段 {span}{why} / quiet hours {span} ({self.tz.key})"


@dataclass(frozen=True, slots=True)
class BlackoutWindow:
    """From `start` to `end` (aware UTC, end excluded) nothing goes out."""

    start: datetime
    end: datetime
    tz: ZoneInfo
    channels: frozenset[str] = frozenset()
    reason: str = ""

    def applies(self, channel: str) -> bool:
        return _applies(self.channels, channel)

    def blocks(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def opens_after(self, at: datetime) -> datetime:
        return self.end

    def describe(self) -> str:
        span = (
            f"{self.start.astimezone(self.tz):%Y-%m-%d %H:%M} – {self.end.astimezone(self.tz):%Y-%m-%d %H:%M}"
        )
        why = f"（{self.reason}）" if self.reason else ""
        return f"停发时段 {span}{why} / blackout {span} ({self.tz.key})"


Window = QuietWindow | BlackoutWindow


def blocking(windows: tuple[Window, ...], channel: str, at: datetime) -> list[Window]:
    return [w for w in windows if w.applies(channel) and w.blocks(at)]


def next_open(windows: tuple[Window, ...], channel: str, at: datetime) -> datetime:
    """The first moment at or after `at` (aware) when none of these windows blocks `channel`, in UTC."""
    moment = at.astimezone(UTC)
    for _ in range(MAX_HOPS):
        found = blocking(windows, channel, moment)
        if not found:
            return moment
        # Overlapping windows: jump past the one that lasts longest, then look again.
        moment = max(w.opens_after(moment) for w in found)
    raise PublisherError(f"渠道 {channel} 的静默/停发时段没有尽头 / channel {channel!r} never opens")


def daily_windows(spans: Iterable[str], tz: ZoneInfo) -> tuple[QuietWindow, ...]:
    """Quiet hours written "HH:MM-HH:MM" (a WeChat account's `quiet_hours`, validated by its settings)
    as windows in `tz`. A span that starts where it ends is empty: it blocks nothing."""
    windows = []
    for span in spans:
        start, end = (time.fromisoformat(part) for part in span.split("-"))
        if start != end:
            windows.append(QuietWindow(start, end, tz))
    return tuple(windows)
