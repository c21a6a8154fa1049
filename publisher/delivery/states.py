"""A delivery's states, and the one table of the steps between them.

Every change of a delivery's state is one `Step`: where it may start, where it ends, and the
audit action it writes (empty for bookkeeping that is not an event, such as a claim). The engine
and the scheduling service name the step; the state and the audit action follow from it, so a
state cannot be reached by a path this table does not draw.

    (new) ─SCHEDULE─▶ scheduled ─CLAIM─▶ claimed ─DONE─▶ done
                       │               ├─RETRY / DEFER / RELEASE─▶ scheduled
                       │               ├─FAIL─▶ failed ─┐
                       │               ├─HOLD─▶ held ───┤ RESCHEDULE ─▶ scheduled (a person decides)
                       │               └─LOSE─▶ unknown ─RECONCILED_DONE─▶ done
                       │                                └RECONCILED_RETRY─▶ scheduled
                       ├─MISS─▶ missed ─────────────────┤
                       └─CANCEL (also from held, missed)─▶ canceled ─RESCHEDULE─▶ scheduled
scheduled, held ─MOVE─▶ scheduled (scheduling the article on the channel again: a new time)

A takedown (撤稿) is a delivery too, with `action = DeliveryAction.TAKE_DOWN`: it walks the same
states, so it gets the same retries, leases and reconciliation as a release.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import NamedTuple


class DeliveryState(StrEnum):
    SCHEDULED = "scheduled"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"
    HELD = "held"
    MISSED = "missed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"


class DeliveryAction(StrEnum):
    PUBLISH = "publish"
    # Stored as "kill" since migration 0005, when only partners had takedowns (their kill notice).
    TAKE_DOWN = "kill"


# A delivery planned and not performed yet (a release not shown before it is performed): the
# release rule (engine/release.py) and where an article stands (standing.py) both ask this.
PLANNED = (
    DeliveryState.SCHEDULED,
    DeliveryState.CLAIMED,
    DeliveryState.HELD,
    DeliveryState.MISSED,
    DeliveryState.UNKNOWN,
)


class IllegalTransition(Exception):
    pass


S = DeliveryState


class _Edge(NamedTuple):
    sources: frozenset[DeliveryState]  # empty: the step creates the delivery
    target: DeliveryState
    audit: str  # the audit action; "" when the step is bookkeeping, not an event


class Step(Enum):
    SCHEDULE = _Edge(frozenset(), S.SCHEDULED, "delivery.schedule")
    RESCHEDULE = _Edge(frozenset({S.FAILED, S.HELD, S.MISSED, S.CANCELED}), S.SCHEDULED, "delivery.schedule")
    # Scheduling an article on a channel again moves its release that is not under way yet.
    MOVE = _Edge(frozenset({S.SCHEDULED, S.HELD}), S.SCHEDULED, "delivery.move")
    # A claim whose lease ran out is claimed again by the next worker.
    CLAIM = _Edge(frozenset({S.SCHEDULED, S.CLAIMED}), S.CLAIMED, "")
    DONE = _Edge(frozenset({S.CLAIMED}), S.DONE, "delivery.done")
    RETRY = _Edge(frozenset({S.CLAIMED}), S.SCHEDULED, "delivery.retry")
    DEFER = _Edge(frozenset({S.CLAIMED}), S.SCHEDULED, "delivery.deferred")
    RELEASE = _Edge(frozenset({S.CLAIMED}), S.SCHEDULED, "")  # given back unperformed
    FAIL = _Edge(frozenset({S.CLAIMED}), S.FAILED, "delivery.failed")
    HOLD = _Edge(frozenset({S.CLAIMED}), S.HELD, "delivery.held")
    LOSE = _Edge(frozenset({S.CLAIMED}), S.UNKNOWN, "delivery.unknown")
    MISS = _Edge(frozenset({S.SCHEDULED}), S.MISSED, "delivery.missed")
    CANCEL = _Edge(frozenset({S.SCHEDULED, S.HELD, S.MISSED}), S.CANCELED, "delivery.cancel")
    RECONCILED_DONE = _Edge(frozenset({S.UNKNOWN}), S.DONE, "delivery.done")
    RECONCILED_RETRY = _Edge(frozenset({S.UNKNOWN}), S.SCHEDULED, "delivery.retry")

    @property
    def sources(self) -> frozenset[DeliveryState]:
        return self.value.sources

    @property
    def target(self) -> DeliveryState:
        return self.value.target

    @property
    def audit(self) -> str:
        return self.value.audit

    def starts_from(self, state: str | None) -> bool:
        if state is None:
            return not self.value.sources
        return state in self.value.sources

    def apply(self, state: str | None) -> DeliveryState:
        """The state after this step from `state`, or IllegalTransition."""
        if not self.starts_from(state):
            raise IllegalTransition(f"{self.name} cannot start from {state or '(new)'}")
        return self.value.target
