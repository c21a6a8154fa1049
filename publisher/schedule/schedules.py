"""What the engine and the plan read: campaigns, their slots, and the newsroom-wide windows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from publisher.errors import NotFound, Problem
from publisher.schedule.keydates import KeyDate
from publisher.schedule.model import InspectionSchedule
from publisher.schedule.windows import BlackoutWindow, QuietWindow, Window, blocking, next_open
from publisher.schedule.workdays import WorkingCalendar
from publisher.timeutil import to_utc


@dataclass(frozen=True)
class Slot:
    campaign: str
    number: int
    due: datetime  # aware UTC
    channels: tuple[str, ...]
    column: str | None
    label: str
    shifted_from: date | None
    warning: str | None


@dataclass(frozen=True)
class Campaign:
    key: str
    name: str
    description: str
    column: str | None  # the column's key
    channels: tuple[str, ...]
    start: date  # the window, local dates, both included
    end: date
    cadence: str  # weekly | daily | countdown | once
    non_working_day: str  # publish | skip | shift
    source: str
    quiet_hours: tuple[QuietWindow, ...] = ()
    blackouts: tuple[BlackoutWindow, ...] = ()


@dataclass
class Schedules:
    campaigns: dict[str, Campaign]
    paused: bool
    tz: ZoneInfo
    pause_reason: str = ""
    horizon_days: int = 7
    key_dates: dict[str, KeyDate] = field(default_factory=dict)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    windows: tuple[Window, ...] = ()  # newsroom-wide quiet hours and blackouts
    warnings: list[Problem] = field(default_factory=list)
    # Per campaign, the years whose working days were guessed (chinese-calendar has no data yet).
    guessed_years: dict[str, frozenset[int]] = field(default_factory=dict)
    _slots: dict[str, tuple[Slot, ...]] = field(default_factory=dict, repr=False)
    inspection: InspectionSchedule = field(default_factory=InspectionSchedule)

    def campaign(self, key: str) -> Campaign:
        try:
            return self.campaigns[key]
        except KeyError:
            known = ", ".join(sorted(self.campaigns)) or "—"
            raise NotFound(f"没有这个战役 / no campaign {key!r} (known: {known})") from None

    def slots(
        self, campaign_key: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[Slot]:
        """The campaign's slots due in [start, end), in order of their numbers."""
        self.campaign(campaign_key)
        lo = to_utc(start) if start is not None else None
        hi = to_utc(end) if end is not None else None
        return [
            s
            for s in self._slots.get(campaign_key, ())
            if (lo is None or s.due >= lo) and (hi is None or s.due < hi)
        ]

    def slot(self, campaign_key: str, number: int) -> Slot:
        for s in self.slots(campaign_key):
            if s.number == number:
                return s
        raise NotFound(
            f"战役 {campaign_key} 没有第 {number} 个时段 / campaign {campaign_key!r} has no slot #{number}"
        )

    def window_block(self, channel: str, at: datetime) -> str | None:
        """Why a release on `channel` may not go out at `at` (newsroom-wide windows), or None."""
        found = blocking(self.windows, channel, to_utc(at))
        if not found:
            return None
        return "；".join(w.describe() for w in found)

    def next_open(self, channel: str, at: datetime) -> datetime:
        """The first moment at or after `at` when no newsroom-wide window blocks `channel`."""
        return next_open(self.windows, channel, to_utc(at))
