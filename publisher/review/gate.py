"""The one publication gate every channel calls at the moment of delivery.

A revision may leave the building only when it is its article's current revision, fully approved
through the review chain, not withdrawn, not blocked by a secrecy marking (for external channels),
and past its embargo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from publisher.channels.registry import Channel
from publisher.store.tables import Revision


@dataclass(frozen=True, slots=True)
class GateDecision:
    allowed: bool
    reasons: tuple[str, ...] = ()

    @classmethod
    def allow(cls) -> GateDecision:
        return cls(True)

    @classmethod
    def deny(cls, *reasons: str) -> GateDecision:
        return cls(False, reasons)


# Channels receive the gate as a parameter, so their tests can pass a fake one.
Gate = Callable[[Session, Revision, Channel, datetime], GateDecision]
