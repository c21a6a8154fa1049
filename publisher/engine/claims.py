"""Claiming due deliveries with a lease, and finishing them: the only writes the engine makes.

PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` hands each row to one worker; SQLite: the write lock
taken at `BEGIN IMMEDIATE` makes the conditional update atomic. Either way a claim is a lease: a
worker that dies loses it when `lease_until` passes, and the delivery is claimable again.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Callable, Collection
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import Session, col

from publisher import audit
from publisher.channels.registry import Limits
from publisher.delivery.contract import GroupLedger, Ledger
from publisher.delivery.states import DeliveryAction, DeliveryState, Step
from publisher.engine import record_pg
from publisher.engine.alerts import Trouble, TroubleAlerts
from publisher.store.engine import advisory_xact_lock, write_session
from publisher.store.tables import Article, Delivery
from publisher.timeutil import day_start, next_day_start

CHANNEL_LOCK_BASE = 0x50554300
MISSED_REASON = "超过补发宽限期 / past the grace period"
DELIVERY: Table = Delivery.__table__  # type: ignore[attr-defined]
ARTICLE: Table = Article.__table__  # type: ignore[attr-defined]
D = DELIVERY.c


@dataclass(frozen=True, slots=True)
class Claim:
    delivery: Delivery
    reclaimed: bool  # its previous holder's lease ran out: the outcome of that attempt is unknown

    @property
    def expires(self) -> datetime:
        assert self.delivery.lease_until is not None
        return self.delivery.lease_until


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery: Delivery
    step: Step  # from claimed (or, reconciled, from unknown): the state and audit action follow
    revision_id: str | None = None
    receipt_json: str | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
    after: Ledger | None = None  # the channel's ledger entry, if it keeps one

    @property
    def status(self) -> DeliveryState:
        return self.step.target

    @property
    def action(self) -> str:
        return self.step.audit


class _Unindexed(ColumnElement[Any]):
    """A column that SQLite's planner may not answer from an index: `+column` on SQLite, the column
    itself elsewhere."""

    inherit_cache = True
    # Its cache key; SQLAlchemy declares the attribute a list on the base class.
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(_Unindexed)
def _column_itself(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(_Unindexed, "sqlite")
def _unary_plus(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)


# Step.CLAIM starts from these two: a scheduled delivery due by `c_due_by` (now, or a moment ahead),
# or a claim whose lease ran out before `c_now`. The claim's statements are built once: built per
# round, their construction and cache keys cost a fifth of the claim's CPU.
def _due(status: ColumnElement[Any]) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(scheduled and due by `c_due_by`, claimed and its lease run out before `c_now`)."""
    return (
        and_(
            status == DeliveryState.SCHEDULED,
            D.next_attempt_at <= bindparam("c_due_by", type_=D.next_attempt_at.type),
        ),
        and_(status == DeliveryState.CLAIMED, D.lease_until < bindparam("c_now", type_=D.lease_until.type)),
    )


_SCHEDULED_DUE, _LEASE_RAN_OUT = _due(D.status)


def _candidates_query(*, among: bool, postgresql: bool) -> Select[Any]:
    """The round's first `c_limit` candidates in due order. One branch per starting state, each
    read in due order from `ix_delivery_due` (status, next_attempt_at, id) and stopped after
    `c_limit` rows, then the two merged: as one condition with an OR, the database found every
    due row and sorted them all to keep 50, so that a backlog (a burst of releases due at one
    instant, or the hours a stopped worker missed) cost each round in proportion to the backlog."""
    limit = bindparam("c_limit", type_=Integer())

    def branch(starting: ColumnElement[bool]) -> Select[Any]:
        query = (
            select(D.id, D.channel, D.status, D.action, D.next_attempt_at)
            .where(starting)
            .order_by(D.next_attempt_at, D.id)
            .limit(limit)
        )
        if among:  # only among the deliveries a caller names (a retraction's takedowns)
            query = query.where(D.id.in_(bindparam("c_only", expanding=True)))
        # PostgreSQL: rows another worker is claiming right now are skipped, not waited for. Each
        # branch locks what it reads; rows locked and not kept are free again at the claim's
        # commit, a moment later.
        if postgresql:
            query = query.with_for_update(skip_locked=True)
        return select(query.subquery())

    both = union_all(branch(_SCHEDULED_DUE), branch(_LEASE_RAN_OUT)).subquery()
    return (
        select(both.c.id, both.c.channel, both.c.status, both.c.action)
        .order_by(both.c.next_attempt_at, both.c.id)
        .limit(limit)
    )


# By (among named deliveries, PostgreSQL).
_CANDIDATES = {(a, p): _candidates_query(among=a, postgresql=p) for a in (False, True) for p in (False, True)}
# The chosen rows by primary key, each checked again against `_due`. Its state is read unindexed on
# SQLite: its planner answered the OR from ix_delivery_due instead of the primary key, reading
# every due row of a backlog to update fifty.
_CLAIM = (
    update(Delivery)
    .where(col(Delivery.id).in_(bindparam("c_chosen", expanding=True)), or_(*_due(_Unindexed(D.status))))
    .values(
        status=Step.CLAIM.target,
        lease_owner=bindparam("c_owner"),
        lease_until=bindparam("c_until", type_=D.lease_until.type),
        attempts=col(Delivery.attempts) + 1,
        updated_at=bindparam("c_now", type_=D.updated_at.type),
    )
    .returning(Delivery)
)


def _channel_lock(session: Session, channel: str) -> None:
    advisory_xact_lock(session, CHANNEL_LOCK_BASE + zlib.crc32(channel.encode()) % 0xFFFF)


def _capacity(session: Session, channel: str, limits: Limits, now: datetime, tz: ZoneInfo) -> int | None:
    """How many more deliveries this channel may start now, across every worker (None: no limit)."""
    in_flight = session.execute(
        select(func.count()).where(
            D.channel == channel, D.status == DeliveryState.CLAIMED, D.lease_until >= now
        )
    ).scalar_one()
    done_today = _done_today(session, channel, now, tz) if limits.per_day is not None else 0
    return limits.room(in_flight, done_today)


def _done_today(session: Session, channel: str, now: datetime, tz: ZoneInfo) -> int:
    """Releases this channel made since the newsroom's local midnight."""
    done: int = session.execute(
        select(func.count()).where(
            D.channel == channel,
            D.status == DeliveryState.DONE,
            D.action == DeliveryAction.PUBLISH,
            D.done_at >= day_start(now, tz),
        )
    ).scalar_one()
    return done


def _quota_spent(session: Session, channel: str, limits: Limits, now: datetime, tz: ZoneInfo) -> bool:
    return limits.day_spent(_done_today(session, channel, now, tz))


def _defer_to_tomorrow(session: Session, ids: list[int], now: datetime, tz: ZoneInfo) -> None:
    """The day's quota is spent: these wait for the next local day instead of being retried all day."""
    tomorrow = next_day_start(now, tz)
    session.execute(
        update(Delivery)
        .where(col(Delivery.id).in_(ids), col(Delivery.status) == DeliveryState.SCHEDULED)
        .values(
            next_attempt_at=tomorrow, updated_at=now, last_error="已达当日发布配额 / the day's quota is spent"
        )
    )


def claim_due(
    engine: Engine,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    limits: dict[str, Limits],
    tz: ZoneInfo,
    ahead: timedelta = timedelta(0),
    only: Collection[int] | None = None,
) -> list[Claim]:
    """Claim up to `limit` deliveries due by `now + ahead` (claimed early, performed on time), or
    only among the deliveries `only` names."""
    due = {"c_due_by": now + ahead, "c_now": now}
    with write_session(engine) as session:
        query = _CANDIDATES[only is not None, session.get_bind().dialect.name == "postgresql"]
        among = {} if only is None else {"c_only": list(only)}
        candidates = session.execute(query, {**due, "c_limit": limit, **among}).all()
        if not candidates:
            return []
        by_channel: dict[str, list[int]] = defaultdict(list)
        reclaimed: set[int] = set()
        chosen: list[int] = []
        for row in candidates:
            if row.status == DeliveryState.CLAIMED:
                reclaimed.add(row.id)
            if row.action == DeliveryAction.TAKE_DOWN:
                chosen.append(row.id)  # a takedown spends no quota and waits for no slot
            else:
                by_channel[row.channel].append(row.id)
        for channel in sorted(by_channel):
            ids = by_channel[channel]
            channel_limits = limits.get(channel)
            if channel_limits is not None and (channel_limits.max_in_flight or channel_limits.per_day):
                _channel_lock(session, channel)
                room = _capacity(session, channel, channel_limits, now, tz)
                if room is not None and room < len(ids):
                    if channel_limits.per_day is not None and _quota_spent(
                        session, channel, channel_limits, now, tz
                    ):
                        _defer_to_tomorrow(session, ids[room:], now, tz)
                    ids = ids[:room]
            chosen.extend(ids)
        if not chosen:
            return []
        # The claimed rows come back as ORM objects (no validation per row: they are the
        # database's own values), detached before the commit so that it expires none of them.
        claimed = session.scalars(
            _CLAIM,
            {**due, "c_chosen": chosen, "c_owner": worker_id, "c_until": now + lease},
            execution_options={"synchronize_session": False},
        ).all()
        session.expunge_all()
        claims = [Claim(d, d.id in reclaimed) for d in claimed]
    claims.sort(key=lambda c: (c.delivery.next_attempt_at, c.delivery.id or 0))
    return claims


def finish(
    engine: Engine,
    worker_id: str,
    outcomes: list[Outcome],
    now: datetime,
    alerts: TroubleAlerts | None = None,
) -> int:
    """Record outcomes in one transaction, each with its audit event (and, for a release failed or
    held, a notice to the duty editors). A delivery whose lease this worker lost (another worker
    reclaimed it) is left to its new holder. Returns how many landed.

    The rows this worker still holds are read first, locked (PostgreSQL `FOR UPDATE`; SQLite's
    write lock is taken at BEGIN IMMEDIATE), so the outcomes that land are known before anything
    is written: then one UPDATE executed for all of them and one append of their audit events.
    PostgreSQL sends the same in two round trips (`_finish_pipelined`)."""
    if not outcomes:
        return 0
    if engine.dialect.name == "postgresql":
        ids = [o.delivery.id for o in outcomes]
        if None not in ids and len(set(ids)) == len(ids):
            return _finish_pipelined(engine, worker_id, outcomes, now, alerts)
    return _finish_read_first(engine, worker_id, outcomes, now, alerts)


def _finish_read_first(
    engine: Engine, worker_id: str, outcomes: list[Outcome], now: datetime, alerts: TroubleAlerts | None
) -> int:
    """`finish` on any backend, a statement at a time (SQLite, or a group naming a delivery twice)."""
    with write_session(engine) as session:
        # Each row's article slug (for its audit event) in the same read: one round trip fewer.
        held = _HELD_LOCKED if session.get_bind().dialect.name == "postgresql" else _HELD
        connection = session.connection()  # Core statements: the ORM session's layer costs CPU
        status: dict[int, str] = {}
        slugs: dict[int, str] = {}  # delivery id -> its article's slug
        rows = connection.execute(held, {"h_ids": [o.delivery.id for o in outcomes], "h_owner": worker_id})
        for row in rows:
            status[row.id] = row.status
            if row.slug is not None:
                slugs[row.id] = row.slug
        landing: list[Outcome] = []
        for o in outcomes:
            # One outcome per delivery: a second one for the same row would find it moved on.
            if o.delivery.id is not None and status.get(o.delivery.id) in o.step.sources:
                landing.append(o)
                del status[o.delivery.id]  # it leaves this worker's hands
        if not landing:
            return 0
        connection.execute(_FINISH, [_finish_values(o, worker_id, now) for o in landing])
        _write_ledgers(session, [o.after for o in landing if o.after is not None])
        events: list[audit.Entry] = []
        troubles: list[Trouble] = []
        for o in landing:
            if TroubleAlerts.concerns(o.status):
                troubles.append(_trouble(o.delivery, o.status, o.error))
            if o.action:
                events.append(_event(o, worker_id, slugs))
        audit.append_batch(session, events)  # the group's events, chained in order, one head write
        if alerts is not None:
            alerts.tell(session, troubles, now)
    return len(landing)


def _finish_pipelined(
    engine: Engine, worker_id: str, outcomes: list[Outcome], now: datetime, alerts: TroubleAlerts | None
) -> int:
    """`finish` on PostgreSQL in two round trips but for the ledgers and notices a group may have
    (publisher/engine/record_pg.py): the same rows, events and notices. A group naming one delivery
    twice takes the path below, which lands the first outcome whose step starts from the row's
    state, as it always did."""
    ledgers = any(o.after is not None for o in outcomes)
    # A Core connection, an ORM session on it only for a group with ledger writes or notices: most
    # groups have neither, and a session's set-up and close cost a twentieth of their recording.
    with engine.connect() as connection, record_pg.Pipelined(connection) as tx:
        landed, head = tx.land(
            worker_id,
            now,
            [
                (
                    o.delivery.id or 0,
                    o.status,
                    o.error,
                    o.revision_id,
                    o.receipt_json,
                    now if o.status == DeliveryState.DONE else None,
                    o.next_attempt_at,
                    _SOURCES[o.step],
                )
                for o in outcomes
            ],
            # The locks in the order of the path below: the rows, a channel's ledger, the chain.
            lock_chain=not ledgers,
        )
        landing = [o for o in outcomes if o.delivery.id in landed]
        slugs = {id_: slug for id_, slug in landed.items() if slug is not None}
        troubles = [
            _trouble(o.delivery, o.status, o.error) for o in landing if TroubleAlerts.concerns(o.status)
        ]
        needed = ledgers or (alerts is not None and bool(troubles))
        # Closed after the COMMIT: a session's close rolls back what it began on the connection.
        with Session(connection) if needed else nullcontext() as session:
            if session is not None:
                if ledgers:
                    _write_ledgers(session, [o.after for o in landing if o.after is not None])
                    head = tx.lock_chain()
                if alerts is not None:
                    alerts.tell(session, troubles, now)
                session.flush()  # the notices' rows: only the events and COMMIT may follow
            tx.chain_and_commit(head, [_event(o, worker_id, slugs) for o in landing if o.action])
    return len(landing)


# The states each step starts from, as the recording statement takes them (comma-separated).
_SOURCES = {step: ",".join(sorted(step.sources)) for step in Step}


# The rows of a group this worker still holds, with each one's article slug (for its audit event)
# in the same read. Built once (the recorder runs one every few deliveries); PostgreSQL locks the
# deliveries' rows, not their articles'.
_HELD = (
    select(D.id, D.status, ARTICLE.c.slug)
    .select_from(DELIVERY.outerjoin(ARTICLE, ARTICLE.c.id == D.article_id))
    .where(D.id.in_(bindparam("h_ids", expanding=True)), D.lease_owner == bindparam("h_owner"))
)
_HELD_LOCKED = _HELD.with_for_update(of=DELIVERY)

# The columns an outcome may leave as they are take NULL for "unchanged" (COALESCE), so every
# outcome of a group fits one statement.
_FINISH = (
    update(DELIVERY)
    .where(D.id == bindparam("b_id"), D.lease_owner == bindparam("b_owner"))
    .values(
        status=bindparam("b_status"),
        updated_at=bindparam("b_now"),
        last_error=bindparam("b_error"),
        lease_owner=None,
        lease_until=None,
        revision_id=func.coalesce(bindparam("b_revision", type_=D.revision_id.type), D.revision_id),
        receipt_json=func.coalesce(bindparam("b_receipt", type_=D.receipt_json.type), D.receipt_json),
        done_at=func.coalesce(bindparam("b_done", type_=D.done_at.type), D.done_at),
        next_attempt_at=func.coalesce(bindparam("b_next", type_=D.next_attempt_at.type), D.next_attempt_at),
    )
)


def _finish_values(o: Outcome, worker_id: str, now: datetime) -> dict[str, object]:
    return {
        "b_id": o.delivery.id,
        "b_owner": worker_id,
        "b_status": o.status,
        "b_now": now,
        "b_error": o.error,
        "b_revision": o.revision_id,
        "b_receipt": o.receipt_json,
        "b_done": now if o.status == DeliveryState.DONE else None,
        "b_next": o.next_attempt_at,
    }


def _event(o: Outcome, worker_id: str, slugs: dict[int, str]) -> audit.Entry:
    details: dict[str, object] = {
        "delivery": o.delivery.id,
        "channel": o.delivery.channel,
        "due": o.delivery.due_at.isoformat(),
        "attempt": o.delivery.attempts,
    }
    if o.delivery.action != DeliveryAction.PUBLISH:
        details["action"] = o.delivery.action
    if o.error:
        details["reason"] = o.error
    if o.next_attempt_at is not None:
        details["next"] = o.next_attempt_at.isoformat()
    return audit.Entry(
        actor=worker_id,
        action=o.action,
        object_type="article",
        object_id=slugs.get(o.delivery.id or 0, str(o.delivery.article_id)),
        revision_id=o.revision_id,
        details=details,
    )


def _trouble(d: Delivery, status: DeliveryState, reason: str | None) -> Trouble:
    assert d.id is not None
    return Trouble(d.id, d.article_id, d.channel, status, reason, d.due_at, d.attempts)


def _write_ledgers(session: Session, writes: list[Ledger]) -> None:
    """The group's ledger writes: a GroupLedger's with the others of its kind, in one go (one
    statement per kind of write instead of one per delivery), any other on its own."""
    groups: dict[type[GroupLedger], list[GroupLedger]] = {}
    for write in writes:
        if _grouped(write):
            groups.setdefault(type(write), []).append(write)
        else:
            _write_ledger(session, write)
    for group in groups.values():
        if session.get_bind().dialect.name == "sqlite":
            # The finish transaction holds SQLite's write lock (BEGIN IMMEDIATE): no conflict to meet.
            group[0].write_group(session, group)
            continue
        try:
            with session.begin_nested():
                group[0].write_group(session, group)
        except IntegrityError:
            # Another worker inserted one of these rows first: one by one, each reading its row afresh.
            for write in group:
                _write_ledger(session, write)


# Whether a kind of ledger write is a GroupLedger, asked once per kind: a runtime protocol check
# costs more than the rest of a delivery's ledger bookkeeping, and its members are the kind's
# methods (a group is gathered by the kind, too).
_GROUPED: dict[type, bool] = {}


def _grouped(write: Ledger) -> TypeGuard[GroupLedger]:
    kind = type(write)
    known = _GROUPED.get(kind)
    if known is None:
        known = _GROUPED[kind] = isinstance(write, GroupLedger)
    return known


def _write_ledger(session: Session, write: Callable[[Session], None]) -> None:
    """In a savepoint: when another worker inserted the same ledger row first, read it and write again,
    without losing the rest of the group's records. SQLite needs none: the finish transaction holds
    the database's write lock from BEGIN IMMEDIATE, so no other worker can insert in between."""
    if session.get_bind().dialect.name == "sqlite":
        write(session)
        return
    for attempt in range(2):
        try:
            with session.begin_nested():
                write(session)
            return
        except IntegrityError:
            if attempt:
                raise


def mark_missed(
    engine: Engine, cutoff: datetime, actor: str, now: datetime, alerts: TroubleAlerts | None = None
) -> int:
    """Releases that fell due longer ago than the grace period, never attempted: a person decides
    (and the duty editors are told)."""
    with write_session(engine) as session:
        rows = session.execute(
            update(Delivery)
            .where(
                col(Delivery.status).in_(Step.MISS.sources),
                col(Delivery.attempts) == 0,
                col(Delivery.next_attempt_at) < cutoff,
                # A takedown is never too late: it goes whenever it can.
                col(Delivery.action) == DeliveryAction.PUBLISH,
            )
            .values(status=Step.MISS.target, updated_at=now, last_error=MISSED_REASON)
            .returning(D.id, D.channel, D.article_id, D.due_at)
        ).all()
        if alerts is not None:
            missed = [
                Trouble(r.id, r.article_id, r.channel, Step.MISS.target, MISSED_REASON, r.due_at, 0)
                for r in rows
            ]
            alerts.tell(session, missed, now)
        for row in rows:
            audit.append(
                session,
                actor=actor,
                action=Step.MISS.audit,
                object_type="article",
                object_id=str(row.article_id),
                details={"delivery": row.id, "channel": row.channel, "due": row.due_at.isoformat()},
            )
        return len(rows)


def unknown_outcomes(engine: Engine, limit: int = 20) -> list[Delivery]:
    """Deliveries whose last attempt may or may not have reached the other side."""
    with Session(engine) as session:
        rows = session.execute(
            select(Delivery).where(col(Delivery.status) == DeliveryState.UNKNOWN).limit(limit)
        ).scalars()
        return list(rows)


def settle_unknown(engine: Engine, delivery: Delivery, outcome: Outcome, actor: str, now: datetime) -> bool:
    """Record what reconciliation found (done, or due again because nothing was sent). Only one
    worker's answer lands: the update is conditional on the row still being `unknown`."""
    with write_session(engine) as session:
        values: dict[str, object] = {"status": outcome.status, "updated_at": now, "last_error": outcome.error}
        if outcome.receipt_json is not None:
            values.update(receipt_json=outcome.receipt_json, done_at=now)
        if outcome.next_attempt_at is not None:
            values["next_attempt_at"] = outcome.next_attempt_at
        result = session.execute(
            update(Delivery)
            .where(col(Delivery.id) == delivery.id, col(Delivery.status).in_(outcome.step.sources))
            .values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        article = session.get(Article, delivery.article_id)
        audit.append(
            session,
            actor=actor,
            action=outcome.action,
            object_type="article",
            object_id=article.slug if article else str(delivery.article_id),
            revision_id=delivery.revision_id,
            details={"delivery": delivery.id, "channel": delivery.channel, "reconciled": True},
        )
        return True


def release(engine: Engine, worker_id: str, now: datetime) -> int:
    """Give back claims this worker holds but has not performed (on a clean shutdown)."""
    with write_session(engine) as session:
        result = session.execute(
            update(Delivery)
            .where(col(Delivery.lease_owner) == worker_id, col(Delivery.status).in_(Step.RELEASE.sources))
            .values(status=Step.RELEASE.target, lease_owner=None, lease_until=None, updated_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def due_instants(engine: Engine, until: datetime, limit: int) -> list[datetime]:
    """The first `limit` distinct instants at which scheduled work falls due, up to `until` (the
    clock's job list: the worker arms these and looks again as they pass)."""
    with Session(engine) as session:
        # The column's type hands back aware UTC datetimes on every backend.
        return list(
            session.execute(
                select(D.next_attempt_at)
                .where(D.status == DeliveryState.SCHEDULED, D.next_attempt_at <= until)
                .group_by(D.next_attempt_at)
                .order_by(D.next_attempt_at)
                .limit(limit)
            ).scalars()
        )
