"""The audit log: append-only, each event hash-chained to the one before it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import object_session
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from publisher.content.revision import canonical_json
from publisher.store.bulk import insert_rows
from publisher.store.engine import AUDIT_LOCK_KEY, advisory_xact_lock
from publisher.store.tables import AuditEvent, AuditHead
from publisher.timeutil import utc_now

GENESIS = "0" * 64


def event_hash(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    revision_id: str | None,
    details_json: str,
    prev_hash: str,
) -> str:
    payload = canonical_json(
        [
            seq,
            at.isoformat(timespec="microseconds"),
            actor,
            action,
            object_type,
            object_id,
            revision_id,
            details_json,
            prev_hash,
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _row_hash(event: AuditEvent) -> str:
    return event_hash(
        event.seq,
        event.at,
        event.actor,
        event.action,
        event.object_type,
        event.object_id,
        event.revision_id,
        event.details_json,
        event.prev_hash,
    )


@dataclass(frozen=True, slots=True)
class Entry:
    """One event to append: who did what to which object."""

    actor: str
    action: str
    object_type: str
    object_id: str
    revision_id: str | None = None
    details: dict[str, Any] | None = None


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    revision_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one event inside the caller's transaction, so it commits or vanishes with the act itself."""
    return append_many(session, [Entry(actor, action, object_type, object_id, revision_id, details)])[0]


def append_many(session: Session, entries: Sequence[Entry]) -> list[AuditEvent]:
    """Add events in order inside the caller's transaction: the head is read (and locked) once, each
    event chained to the one before it exactly as `append` would, and the head written once."""
    if not entries:
        return []
    advisory_xact_lock(session, AUDIT_LOCK_KEY)
    head = session.get(AuditHead, 1, with_for_update=True)
    seq = head.seq if head else 0
    prev = head.hash if head else GENESIS
    events: list[AuditEvent] = []
    for entry in entries:
        seq += 1
        event = AuditEvent(
            seq=seq,
            at=utc_now(),
            actor=entry.actor,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            revision_id=entry.revision_id,
            details_json=canonical_json(entry.details or {}),
            prev_hash=prev,
            hash="",
        )
        event.hash = prev = _row_hash(event)
        events.append(event)
    session.add_all(events)
    if head is None:
        session.add(AuditHead(id=1, seq=seq, hash=prev))
    else:
        head.seq, head.hash = seq, prev
        session.add(head)
    session.flush()
    return events


AUDIT_EVENT: Table = AuditEvent.__table__  # type: ignore[attr-defined]
AUDIT_HEAD: Table = AuditHead.__table__  # type: ignore[attr-defined]
EVENT_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "revision_id",
    "details_json",
    "prev_hash",
    "hash",
)
# Built once: the engine appends a batch every few deliveries, and building a statement costs more
# CPU than the rest of the append.
_HEAD_LOCKED = sa_select(AUDIT_HEAD.c.seq, AUDIT_HEAD.c.hash).where(AUDIT_HEAD.c.id == 1).with_for_update()
_MOVE_HEAD = (
    update(AUDIT_HEAD).where(AUDIT_HEAD.c.id == 1).values(seq=bindparam("h_seq"), hash=bindparam("h_hash"))
)


def chain_rows(entries: Sequence[Entry], seq: int, prev: str) -> list[tuple[Any, ...]]:
    """The rows (values in the order of EVENT_COLUMNS) that chain `entries`, in order, after the
    event `seq` whose hash is `prev` (0 and GENESIS for an empty log)."""
    rows: list[tuple[Any, ...]] = []
    for entry in entries:
        seq += 1
        # The hashed fields are the row's columns in order, the hash after them (EVENT_COLUMNS).
        fields = (
            seq,
            utc_now(),
            entry.actor,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.revision_id,
            canonical_json(entry.details or {}),
            prev,
        )
        prev = event_hash(*fields)
        rows.append((*fields, prev))
    return rows


def append_batch(session: Session, entries: Sequence[Entry]) -> int:
    """Like `append_many`, for thousands of events at once (a bulk ingest): the same chain, the same
    lock and head, but written as one multi-row insert without building an ORM object per event.
    Returns the sequence number of the last event (0 when there was none to add)."""
    if not entries:
        return 0
    advisory_xact_lock(session, AUDIT_LOCK_KEY)
    connection = session.connection()  # Core statements: the ORM session's layer would only cost CPU
    head = connection.execute(_HEAD_LOCKED).first()
    rows = chain_rows(entries, head.seq if head else 0, head.hash if head else GENESIS)
    seq: int = rows[-1][0]
    prev: str = rows[-1][-1]
    insert_rows(connection, AUDIT_EVENT, EVENT_COLUMNS, rows)
    if head is None:
        connection.execute(insert(AUDIT_HEAD), {"id": 1, "seq": seq, "hash": prev})
    else:
        connection.execute(_MOVE_HEAD, {"h_seq": seq, "h_hash": prev})
    # A head this session loaded as an object is stale now: the next `append` must read it afresh.
    loaded = session.identity_map.get(identity_key(AuditHead, 1))
    if loaded is not None and object_session(loaded) is session:
        session.expire(loaded)
    return seq


@dataclass(frozen=True, slots=True)
class Break:
    seq: int  # the event at fault; 0 when the fault is in a record beside the chain
    reason: str
    subject: str | None = None  # that record (e.g. a review act), when it is not an event


@dataclass(frozen=True, slots=True)
class Verification:
    events: int
    breaks: list[Break]

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify(session: Session) -> Verification:
    """Walk the chain from the first event; report every edited, inserted or deleted row."""
    breaks: list[Break] = []
    expected_seq = 1
    prev = GENESIS
    count = 0
    for event in session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))):
        count += 1
        if event.seq != expected_seq:
            breaks.append(
                Break(expected_seq, f"事件缺失 / events {expected_seq}..{event.seq - 1} are missing")
            )
        if event.prev_hash != prev:
            breaks.append(Break(event.seq, "与前一事件的链接断裂 / link to the previous event is broken"))
        if _row_hash(event) != event.hash:
            breaks.append(Break(event.seq, "内容被修改 / content was altered after it was written"))
        prev = event.hash
        expected_seq = event.seq + 1
    head = session.get(AuditHead, 1)
    if head is None:
        if count:
            breaks.append(Break(0, "链头记录缺失 / the chain head record is missing"))
    elif head.seq != expected_seq - 1 or head.hash != prev:
        breaks.append(
            Break(
                head.seq,
                f"链尾被截断或改写：链头记录第 {head.seq} 条 / the chain's tail was cut or rewritten "
                f"(head says event {head.seq}, the log ends at {expected_seq - 1})",
            )
        )
    return Verification(events=count, breaks=breaks)


def recent(session: Session, limit: int = 50, object_id: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(limit)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == object_id)
    return list(session.exec(query))
