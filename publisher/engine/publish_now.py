"""Publishing at once (`publisher publish`), through the engine like any release.

"Now" is no side door: the release is scheduled at this moment (a pending release on the channel
is moved here, audited as a move) and the engine performs just these deliveries, with the
publication gate, quiet hours, leases, retries and receipts of every other release. An article
that is not approved is held by the gate here exactly as it would be at its due time, and the
staff member reads why. What the engine could not settle in this one round (a channel down, quiet hours) stays
queued for the next `publisher run`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, select

from publisher.delivery.states import DeliveryState
from publisher.engine import scheduling
from publisher.newsroom import Newsroom
from publisher.schedule import load_schedules
from publisher.store.engine import read_session
from publisher.store.tables import Delivery
from publisher.timeutil import utc_now

log = logging.getLogger("publisher.publish")


class Outcome(StrEnum):
    DONE = "done"
    HELD = "held"  # the gate refused it: `detail` says why
    FAILED = "failed"  # the channel refused it for good, or it was canceled meanwhile
    PENDING = "pending"  # the engine will try again (a channel down, quiet hours, a WeChat wait)


# Where each delivery state leaves a release published "now", seen from the person who asked.
_OUTCOME = {
    DeliveryState.DONE: Outcome.DONE,
    DeliveryState.HELD: Outcome.HELD,
    DeliveryState.FAILED: Outcome.FAILED,
    DeliveryState.MISSED: Outcome.FAILED,
    DeliveryState.CANCELED: Outcome.FAILED,
    DeliveryState.SCHEDULED: Outcome.PENDING,
    DeliveryState.CLAIMED: Outcome.PENDING,
    DeliveryState.UNKNOWN: Outcome.PENDING,
}


@dataclass(frozen=True, slots=True)
class ChannelOutcome:
    channel: str
    outcome: Outcome
    delivery_id: int
    detail: str | None = None  # the gate's refusals (joined by "；"), or the channel's last error
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PublishReport:
    slug: str
    channels: list[ChannelOutcome]
    warnings: list[str]

    @property
    def exit_code(self) -> int:
        """0 all done; 1 any failed or held (a person must act); 2 any still pending."""
        outcomes = {c.outcome for c in self.channels}
        if outcomes & {Outcome.FAILED, Outcome.HELD}:
            return 1
        return 2 if Outcome.PENDING in outcomes else 0


def publish_now(
    room: Newsroom, slug: str, channels: list[str], actor: str, *, now: datetime | None = None
) -> PublishReport:
    """Schedule the article at `now` on these channels and run the engine once for just those
    releases. Scheduling errors (unknown slug or channel) raise; a channel's failure does not."""
    from publisher.engine.worker import DeliveryWorker  # the worker loads only when asked to run

    moment = now or utc_now()
    # Read before anything is scheduled: a broken schedules/ file is an error that plans nothing.
    windows = load_schedules(room)
    result = scheduling.schedule(room, slug, channels, moment, actor, now=moment)
    ids = [item.delivery_id for item in result.items]
    try:
        # The newsroom's quiet hours, blackouts and pause switch hold "now" as they hold any release.
        DeliveryWorker(room, windows=windows).run_once(only=ids)
    except Exception as exc:  # the releases stay queued: `publisher run` performs them
        log.warning("publishing %s now stopped: %s", slug, exc)
    return PublishReport(slug, outcomes(room, ids), result.warnings)


def outcomes(room: Newsroom, delivery_ids: list[int]) -> list[ChannelOutcome]:
    """Where each of these releases stands now, by channel."""
    with read_session(room.engine) as session:
        rows = session.exec(
            select(Delivery).where(col(Delivery.id).in_(delivery_ids)).order_by(col(Delivery.channel))
        ).all()
    out = []
    for d in rows:
        assert d.id is not None
        outcome = _OUTCOME[DeliveryState(d.status)]
        detail = None if outcome is Outcome.DONE else d.last_error
        waiting = d.next_attempt_at if outcome is Outcome.PENDING else None
        out.append(ChannelOutcome(d.channel, outcome, d.id, detail, waiting))
    return out
