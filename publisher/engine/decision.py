"""What the worker does with a due delivery, decided in one pure function.

The worker reads (the channel, the article's current revision, the gate's answer) and this module
decides, with no database and no clock of its own: so every branch of the decision can be tested
with plain values, and each rule it applies is asked of the one module that owns it (the embargo
of `publisher.review.gate`, the quiet hours and blackouts of the schedules through `Windows`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from publisher.channels.registry import Channel
from publisher.delivery.states import DeliveryAction
from publisher.review.gate import GateDecision, embargo_holds

__all__ = [
    "Decision",
    "Defer",
    "DueDelivery",
    "DueFacts",
    "Fail",
    "Go",
    "Hold",
    "Windows",
    "asks_gate",
    "decide_due",
]


class DueDelivery(Protocol):
    """What the decision reads of a delivery: an ORM `Delivery` is one."""

    @property
    def channel(self) -> str: ...

    @property
    def action(self) -> str: ...


class Windows(Protocol):
    """Quiet hours and blackout windows (the schedules/ files); pure lookups, no database."""

    def window_block(self, channel: str, at: datetime) -> str | None: ...

    def next_open(self, channel: str, at: datetime) -> datetime: ...


@dataclass(frozen=True, slots=True)
class DueFacts:
    """What the worker read for one due delivery."""

    revision_id: str | None  # the article's current revision; None when it has none
    meta: Mapping[str, Any] = field(default_factory=dict)  # that revision's front matter
    gate: GateDecision | None = None  # the gate's answer; None when it was not asked (`asks_gate`)


@dataclass(frozen=True, slots=True)
class Go:
    """Every check passed: only the side effect remains."""


@dataclass(frozen=True, slots=True)
class Defer:
    """Not yet: come back at `until`, without using up an attempt."""

    until: datetime
    reason: str
    revision_id: str | None = None  # the revision the deferral concerns, recorded on the delivery


@dataclass(frozen=True, slots=True)
class Hold:
    """The gate refuses this revision on this channel: held until someone acts."""

    reasons: tuple[str, ...]
    revision_id: str | None = None


@dataclass(frozen=True, slots=True)
class Fail:
    """Nothing to do and nothing to wait for."""

    reason: str


Decision = Go | Defer | Hold | Fail


def asks_gate(delivery: DueDelivery) -> bool:
    """A takedown publishes nothing of the article: it is allowed whatever the review state or the
    embargo says now, so its gate is never asked."""
    return delivery.action != DeliveryAction.TAKE_DOWN


def decide_due(
    delivery: DueDelivery,
    facts: DueFacts,
    channel: Channel | None,
    windows: Windows | None,
    now: datetime,
) -> Decision:
    """The worker's decision for a due delivery, in the order the checks are owed: a channel to
    deliver to, quiet hours (a takedown is urgent and skips them), a revision, the embargo (a
    deferral to its moment, where the gate would only say no), then the gate."""
    if channel is None or not channel.enabled:
        return Fail(f"渠道不存在或已停用 / channel {delivery.channel} unavailable")
    takedown = delivery.action == DeliveryAction.TAKE_DOWN
    if windows is not None and not takedown:
        blocked = windows.window_block(delivery.channel, now)
        if blocked:
            return Defer(windows.next_open(delivery.channel, now), blocked)
    if facts.revision_id is None:
        return Fail("稿件没有版本 / no revision")
    if takedown:
        return Go()
    embargo = embargo_holds(facts.meta, channel, now)
    if embargo is not None:
        return Defer(embargo.until, embargo.reason, facts.revision_id)
    if facts.gate is None:  # fail closed: a release the gate was not asked about does not go out
        return Hold(("未经发布闸门检查 / the publication gate was not asked",), facts.revision_id)
    if not facts.gate.allowed:
        return Hold(facts.gate.reasons, facts.revision_id)
    return Go()
