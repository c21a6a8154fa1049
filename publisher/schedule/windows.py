"""Quiet hours and blackout windows: when no release may go out (on some channels, or all)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


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
