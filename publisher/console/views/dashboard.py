"""工作台: one user's tasks, the releases of today and the next seven days per channel, the
releases that need a person (held, failed, missed), live workers and the pause switch.

A fixed number of queries whatever the size of the store: the review inbox in seven (the oldest
`TASKS_SHOWN` tasks and a count of the rest), the week's releases counted by the database, the
lists bounded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col

from publisher.console.views.common import NEWSROOM_TZ
from publisher.delivery.states import DeliveryState
from publisher.engine.pause import PAUSE_FLAG, is_paused
from publisher.engine.status import WorkerView, counts_in, worker_views
from publisher.review.queries import QueueItem, inbox
from publisher.store.tables import Article, Delivery, NewsroomFlag, Revision
from publisher.timeutil import day_start, local, show

WEEK_DAYS = 8  # today and the next seven
TODAY_ROWS = 200  # a day's releases listed one by one; the counts cover the rest
TROUBLE_ROWS = 50
TASKS_SHOWN = 30  # my tasks (and pieces) listed, the oldest first; the counts are whole, 审核 lists all
TROUBLE_DAYS = 7  # the list: what went wrong this week (the counts cover every day)
TROUBLE = (DeliveryState.HELD, DeliveryState.FAILED, DeliveryState.MISSED, DeliveryState.UNKNOWN)


@dataclass(frozen=True, slots=True)
class ChannelDay:
    channel: str
    counts: dict[str, int]  # state -> releases

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class DayReleases:
    day: date  # a newsroom-local day
    channels: tuple[ChannelDay, ...]


@dataclass(frozen=True, slots=True)
class Release:
    id: int
    slug: str
    title: str
    channel: str
    action: str  # publish | kill (a takedown)
    state: str
    due_local: str
    attempts: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class PauseState:
    paused: bool
    by: str | None = None
    since_local: str | None = None


@dataclass(frozen=True, slots=True)
class Dashboard:
    username: str
    tasks: tuple[QueueItem, ...]  # stages I may sign, my pieces sent back: the oldest TASKS_SHOWN
    task_count: int  # all of them
    waiting: tuple[QueueItem, ...]  # my pieces in review, waiting on others: the oldest TASKS_SHOWN
    waiting_count: int
    week: tuple[DayReleases, ...]  # today first
    today: tuple[Release, ...]
    trouble: tuple[Release, ...]  # held, failed, missed, unknown due in the last 7 days, newest first
    trouble_counts: dict[str, int]
    workers: tuple[WorkerView, ...]  # the live ones
    pause: PauseState


ReleaseRows = Select[int | None, str, str, str, str, str, datetime, int, str | None]


def releases() -> ReleaseRows:
    """Deliveries with their article's slug and current title, as the lists show them."""
    return (
        sql_select(
            col(Delivery.id),
            col(Article.slug),
            col(Revision.title),
            col(Delivery.channel),
            col(Delivery.action),
            col(Delivery.status),
            col(Delivery.due_at),
            col(Delivery.attempts),
            col(Delivery.last_error),
        )
        .join(Article, col(Article.id) == col(Delivery.article_id))
        .join(Revision, col(Revision.id) == col(Article.current_revision_id), isouter=True)
    )


def release_of(row: Any, tz: ZoneInfo) -> Release:
    id_, slug, title, channel, action, state, due, attempts, reason = row
    return Release(id_, slug, title or slug, channel, action, state, show(due, tz), attempts, reason)


def utc_hour(session: Session) -> ColumnElement[Any]:
    """A due time cut to its UTC hour, as each backend writes it: a day of a newsroom whose offset
    is whole hours (Asia/Shanghai) is whole hours of UTC, so hours group into local days exactly."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("hour", col(Delivery.due_at))
    return func.substr(col(Delivery.due_at), 1, 13)


def week_counts(
    session: Session, start: datetime, days: int, tz: ZoneInfo
) -> dict[date, dict[str, dict[str, int]]]:
    """local day -> channel -> state -> releases due, for `days` days from the local midnight
    `start` (canceled ones left out): one query, grouped by the database to hours."""
    counts: dict[date, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for due, channel, state, n in session.execute(
        sql_select(func.min(col(Delivery.due_at)), col(Delivery.channel), col(Delivery.status), func.count())
        .where(col(Delivery.due_at) >= start, col(Delivery.due_at) < start + timedelta(days=days))
        .where(col(Delivery.status) != DeliveryState.CANCELED)
        .group_by(utc_hour(session), col(Delivery.channel), col(Delivery.status))
    ):
        day = local(due, tz).date()
        counts[day][channel][state] = counts[day][channel].get(state, 0) + n
    return counts


def dashboard(
    session: Session, username: str, now: datetime, heartbeat: float, tz: ZoneInfo = NEWSROOM_TZ
) -> Dashboard:
    """Raises `NotFound` for an unknown user."""
    box = inbox(session, username, shown=TASKS_SHOWN)
    start = day_start(now, tz)
    counts = week_counts(session, start, WEEK_DAYS, tz)
    days = [start.date() + timedelta(days=i) for i in range(WEEK_DAYS)]
    week = tuple(
        DayReleases(day, tuple(ChannelDay(ch, dict(states)) for ch, states in sorted(counts[day].items())))
        for day in days
    )
    today = tuple(
        release_of(row, tz)
        for row in session.execute(
            releases()
            .where(col(Delivery.due_at) >= start, col(Delivery.due_at) < start + timedelta(days=1))
            .where(col(Delivery.status) != DeliveryState.CANCELED)
            .order_by(col(Delivery.due_at), col(Delivery.channel))
            .limit(TODAY_ROWS)
        )
    )
    trouble = tuple(
        release_of(row, tz)
        for row in session.execute(
            releases()
            .where(
                col(Delivery.status).in_(TROUBLE), col(Delivery.due_at) >= now - timedelta(days=TROUBLE_DAYS)
            )
            .order_by(col(Delivery.due_at).desc(), col(Delivery.id).desc())
            .limit(TROUBLE_ROWS)
        )
    )
    flag = session.get(NewsroomFlag, PAUSE_FLAG)
    pause = (
        PauseState(True, flag.updated_by, show(flag.updated_at, tz))
        if flag is not None and is_paused(session)  # the flag row is in the session by then
        else PauseState(False)
    )
    return Dashboard(
        username,
        tuple(box.tasks),
        box.task_count,
        tuple(box.waiting),
        box.waiting_count,
        week,
        today,
        trouble,
        counts_in(session, [state.value for state in TROUBLE]),
        tuple(w for w in worker_views(session, now, heartbeat) if w.alive),
        pause,
    )
