"""`publisher status`: live workers and the state of the delivery plan."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from publisher.engine.pause import is_paused
from publisher.store.tables import Delivery, Worker


@dataclass(frozen=True, slots=True)
class WorkerView:
    id: str
    state: str
    alive: bool
    heartbeat_at: datetime
    processed: int


@dataclass(frozen=True, slots=True)
class EngineStatus:
    paused: bool
    workers: list[WorkerView]
    counts: dict[str, int]  # due, late, scheduled, held, failed, missed, unknown, done


def worker_views(session: Session, now: datetime, heartbeat: float) -> list[WorkerView]:
    """Every worker, newest first, alive when it is not stopped and beat within three heartbeats."""
    dead_after = timedelta(seconds=max(3 * heartbeat, 15))
    return [
        WorkerView(
            w.id,
            w.state,
            w.state != "stopped" and now - w.heartbeat_at < dead_after,
            w.heartbeat_at,
            w.processed,
        )
        for w in session.execute(select(Worker).order_by(col(Worker.started_at).desc())).scalars()
    ]


def counts_in(session: Session, states: Collection[str]) -> dict[str, int]:
    """Releases in each of `states` (0 for none): a range of the status index each, not a count of
    every state, when a page needs a few rare ones."""
    grouped = session.execute(
        select(col(Delivery.status), func.count())
        .where(col(Delivery.status).in_(states))
        .group_by(col(Delivery.status))
    )
    found: dict[str, int] = {status: count for status, count in grouped}
    return {state: int(found.get(state, 0)) for state in states}


def engine_status(session: Session, now: datetime, heartbeat: float, late_after: float = 60) -> EngineStatus:
    workers = worker_views(session, now, heartbeat)
    grouped = session.execute(select(col(Delivery.status), func.count()).group_by(col(Delivery.status)))
    by_status: dict[str, int] = {status: count for status, count in grouped}
    scheduled_due = session.execute(
        select(func.count()).where(col(Delivery.status) == "scheduled", col(Delivery.next_attempt_at) <= now)
    ).scalar_one()
    late = session.execute(
        select(func.count()).where(
            col(Delivery.status).in_(["scheduled", "claimed"]),
            col(Delivery.due_at) <= now - timedelta(seconds=late_after),
        )
    ).scalar_one()
    counts = {
        "due": scheduled_due,
        "late": late,
        **{
            k: int(by_status.get(k, 0))
            for k in ("scheduled", "claimed", "held", "failed", "missed", "unknown", "done")
        },
    }
    return EngineStatus(is_paused(session), workers, counts)
