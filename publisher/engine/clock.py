"""Clocks: the real one, and a compressed one that lets a demo watch a week of releases in a minute."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    speed: float  # clock seconds per wall-clock second

    def now(self) -> datetime: ...

    def to_wall(self, moment: datetime) -> datetime:
        """The wall-clock instant at which `moment` (in this clock's time) arrives."""
        ...


class RealClock:
    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def to_wall(self, moment: datetime) -> datetime:
        return moment


@dataclass
class CompressedClock:
    """Virtual time runs `speed` times faster than the wall clock, starting at `virtual_start`."""

    virtual_start: datetime
    speed: float
    wall_start: datetime | None = None

    def __post_init__(self) -> None:
        if self.wall_start is None:
            self.wall_start = datetime.now(UTC)

    def now(self) -> datetime:
        assert self.wall_start is not None
        return self.virtual_start + (datetime.now(UTC) - self.wall_start) * self.speed

    def to_wall(self, moment: datetime) -> datetime:
        assert self.wall_start is not None
        return self.wall_start + (moment - self.virtual_start) / self.speed


@dataclass
class FixedClock:
    """For tests: time stands still until moved."""

    moment: datetime
    speed: float = 1.0

    def now(self) -> datetime:
        return self.moment

    def to_wall(self, moment: datetime) -> datetime:
        return datetime.now(UTC) + (moment - self.moment)

    def advance(self, delta: timedelta) -> None:
        self.moment += delta
