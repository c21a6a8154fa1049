"""Sending the outbox: claim due messages with a lease, send each, record the outcome and audit it.

The engine calls `Dispatcher.run` beside its rounds (its own thread, a bounded batch), and
`publisher notify send` calls it from cron. A claim is a lease, as for deliveries
(publisher/engine/claims.py): PostgreSQL hands each row to one worker with `FOR UPDATE SKIP
LOCKED`, SQLite's write lock makes the conditional update atomic, and a sender that dies loses its
lease, not the message. A transient error is retried with backoff; a permanent one, or the last
attempt, gives the message up. Every send and every failure is an audit event.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, and_, or_, select, update
from sqlmodel import Session, col

from publisher import audit
from publisher.config import NotifySettings
from publisher.notify.model import OutboxState, OutboxStep
from publisher.notify.senders import Outbound, Sender, SendError
from publisher.store.engine import write_session
from publisher.store.tables import NoticeOutbox

log = logging.getLogger("publisher.notify")
OUTBOX = NoticeOutbox.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Result:
    message: NoticeOutbox
    step: OutboxStep
    error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Report:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __add__(self, other: Report) -> Report:
        return Report(self.sent + other.sent, self.retried + other.retried, self.failed + other.failed)


def _due(now: datetime) -> ColumnElement[bool]:
    c = OUTBOX.c
    return and_(
        c.state == OutboxState.PENDING,
        c.next_attempt_at <= now,
        or_(c.lease_until.is_(None), c.lease_until < now),
    )


def claim(engine: Engine, owner: str, now: datetime, lease: timedelta, limit: int) -> list[NoticeOutbox]:
    """Lease up to `limit` due messages to `owner`, oldest first; each claim counts an attempt."""
    c = OUTBOX.c
    with write_session(engine) as session:
        query = select(c.id).where(_due(now)).order_by(c.next_attempt_at, c.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = [row.id for row in session.execute(query)]
        if not ids:
            return []
        rows = session.execute(
            update(NoticeOutbox)
            .where(col(NoticeOutbox.id).in_(ids), _due(now))
            .values(lease_owner=owner, lease_until=now + lease, attempts=col(NoticeOutbox.attempts) + 1)
            .returning(*OUTBOX.c)
        ).all()
        claimed = [NoticeOutbox.model_validate(dict(row._mapping)) for row in rows]
    return sorted(claimed, key=lambda m: m.id or 0)


def record(engine: Engine, owner: str, results: list[Result], now: datetime) -> int:
    """Record outcomes in one transaction, each with its audit event. A message whose lease this
    sender lost is left to its new holder. Returns how many landed."""
    landed = 0
    events: list[audit.Entry] = []
    with write_session(engine) as session:
        for r in results:
            values: dict[str, object] = {"state": r.step.target, "lease_owner": None, "lease_until": None}
            values["last_error"] = r.error
            if r.step is OutboxStep.SEND:
                values["sent_at"] = now
            if r.next_attempt_at is not None:
                values["next_attempt_at"] = r.next_attempt_at
            done = session.execute(
                update(NoticeOutbox)
                .where(
                    col(NoticeOutbox.id) == r.message.id,
                    col(NoticeOutbox.lease_owner) == owner,
                    col(NoticeOutbox.state).in_(r.step.sources),
                )
                .values(**values)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                continue
            landed += 1
            details: dict[str, object] = {
                "notice": r.message.notice_id,
                "channel": r.message.channel,
                "ref": r.message.ref,
                "attempt": r.message.attempts,
            }
            if r.error:
                details["reason"] = r.error
            if r.next_attempt_at is not None:
                details["next"] = r.next_attempt_at.isoformat()
            events.append(audit.Entry(owner, r.step.audit, "notice", str(r.message.id), None, details))
        audit.append_many(session, events)
    return landed


def requeue_failed(session: Session, actor: str, now: datetime) -> int:
    """Give every given-up message a fresh start (a person fixed the mail server or the robot)."""
    step = OutboxStep.REQUEUE
    rows = session.execute(
        update(NoticeOutbox)
        .where(col(NoticeOutbox.state).in_(step.sources))
        .values(state=step.target, attempts=0, next_attempt_at=now, last_error=None)
        .returning(OUTBOX.c.id)
    ).all()
    audit.append_many(
        session, [audit.Entry(actor, step.audit, "notice", str(row.id), None, {}) for row in rows]
    )
    return len(rows)


class Dispatcher:
    """Sends due outbox messages through the configured senders."""

    def __init__(
        self, engine: Engine, settings: NotifySettings, owner: str, senders: Mapping[str, Sender]
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.owner = owner
        self.senders = senders
        self.lease = timedelta(seconds=settings.lease_seconds)

    def run(self, now: datetime, limit: int | None = None) -> Report:
        """One bounded round: claim at most `limit` (the setting's batch) and send them."""
        batch = claim(self.engine, self.owner, now, self.lease, limit or self.settings.batch)
        results = [self._send(m, now) for m in batch]
        record(self.engine, self.owner, results, now)
        return Report(
            sent=sum(r.step is OutboxStep.SEND for r in results),
            retried=sum(r.step is OutboxStep.RETRY for r in results),
            failed=sum(r.step is OutboxStep.GIVE_UP for r in results),
        )

    def drain(self, now: datetime) -> Report:
        """Rounds until nothing is due now (for cron and `run --once`)."""
        total = Report()
        while True:
            report = self.run(now)
            total += report
            if report == Report():
                return total

    def _send(self, message: NoticeOutbox, now: datetime) -> Result:
        sender = self.senders.get(message.channel)
        if sender is None:
            return Result(
                message,
                OutboxStep.GIVE_UP,
                f"渠道 {message.channel} 已不在 publisher.toml 的 [notify] 中 / channel no longer configured",
            )
        try:
            sender.send(self._outbound(message))
        except SendError as exc:
            return self._failed(message, exc.reason, exc.transient, now)
        except Exception as exc:  # one message's trouble is that message's outcome, never the round's end
            log.exception("notice message %s failed unexpectedly", message.id)
            return self._failed(
                message, f"意外错误 / unexpected error: {type(exc).__name__}: {exc}", True, now
            )
        return Result(message, OutboxStep.SEND)

    def _outbound(self, message: NoticeOutbox) -> Outbound:
        payload = json.loads(message.payload_json)
        link = payload.get("link")
        if link and self.settings.console_url and link.startswith("/"):
            link = self.settings.console_url + link
        return Outbound(
            recipient=message.recipient,
            title=payload["title"],
            body=payload["body"],
            link=link,
            to=tuple(payload.get("to") or ()),
        )

    def _failed(self, message: NoticeOutbox, reason: str, transient: bool, now: datetime) -> Result:
        if not transient:
            return Result(message, OutboxStep.GIVE_UP, reason)
        if message.attempts >= self.settings.max_attempts:
            return Result(
                message,
                OutboxStep.GIVE_UP,
                f"{reason}（已重试 {message.attempts} 次 / after {message.attempts} attempts）",
            )
        ceiling = min(
            self.settings.backoff_max_seconds,
            self.settings.backoff_base_seconds * 2 ** (message.attempts - 1),
        )
        # Jitter keeps several workers from knocking on a recovering server at once.
        wait = timedelta(seconds=ceiling * random.uniform(0.5, 1.0))
        return Result(message, OutboxStep.RETRY, reason, now + wait)
