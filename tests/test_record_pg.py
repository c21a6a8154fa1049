"""The recorder's pipelined path on PostgreSQL (publisher/engine/record_pg.py) writes what the
statement-at-a-time path writes: the same delivery rows, audit events and notices for a mixed
group, and a chain that verifies."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import Engine, Table
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from publisher import audit
from publisher.delivery.states import DeliveryAction, DeliveryState, Step
from publisher.engine import claims, record_pg
from publisher.engine.alerts import TroubleAlerts
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.engine import write_session
from publisher.store.tables import Article, AuditEvent, Delivery, Notice, Supply
from publisher.supply.ninjs import Version
from publisher.supply.performer import SupplyLedger
from tests.review_helpers import seed_users

OWNER = "recorder-w1"
SUPPLY: Table = Supply.__table__  # type: ignore[attr-defined]
NOW = datetime(2026, 12, 4, 1, 0, 0, 123456, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)

# (step, error, revision, receipt, next attempt, who holds the row, its state): every kind of
# outcome the recorder meets, and two that must not land.
CASES: list[tuple[Step, str | None, str | None, str | None, datetime | None, str, DeliveryState]] = [
    (Step.DONE, None, "rev-a", '{"id": "r1"}', None, OWNER, DeliveryState.CLAIMED),
    (Step.FAIL, "渠道拒收 / refused", None, None, None, OWNER, DeliveryState.CLAIMED),
    (Step.HOLD, "未审核 / not approved", None, None, None, OWNER, DeliveryState.CLAIMED),
    (Step.RELEASE, None, None, None, None, OWNER, DeliveryState.CLAIMED),
    (Step.RETRY, "503", "rev-b", None, LATER, OWNER, DeliveryState.CLAIMED),
    (Step.DEFER, "窗口关闭 / window closed", None, None, LATER, OWNER, DeliveryState.CLAIMED),
    (Step.LOSE, "timeout", "rev-c", None, None, OWNER, DeliveryState.CLAIMED),
    (Step.DONE, None, "rev-d", None, None, OWNER, DeliveryState.CLAIMED),
    (Step.DONE, None, "rev-e", '{"id": "lost"}', None, "another-worker", DeliveryState.CLAIMED),
    (Step.RECONCILED_DONE, None, None, None, None, OWNER, DeliveryState.CLAIMED),
]


def _deliveries(engine: Engine, article_ids: list[int], tag: str) -> list[Delivery]:
    with write_session(engine) as session:
        rows = [
            Delivery(
                article_id=article_ids[n % len(article_ids)],
                channel="website",
                due_at=NOW - timedelta(seconds=n),
                status=state,
                attempts=1,
                next_attempt_at=NOW - timedelta(seconds=n),
                lease_owner=holder,
                lease_until=NOW + timedelta(minutes=1),
                idempotency_key=f"{tag}-{n}",
                revision_id="rev-old" if n % 2 else None,
                receipt_json='{"id": "old"}' if n == 7 else None,
                action=DeliveryAction.TAKE_DOWN if n == 3 else DeliveryAction.PUBLISH,
                created_by="test",
                created_at=NOW,
                updated_at=NOW,
            )
            for n, (_, _, _, _, _, holder, state) in enumerate(CASES)
        ]
        session.add_all(rows)
        session.flush()
        for row in rows:
            session.expunge(row)
    return rows


def _outcomes(rows: list[Delivery]) -> list[claims.Outcome]:
    return [
        claims.Outcome(
            row, step, revision_id=revision, receipt_json=receipt, error=error, next_attempt_at=next_at
        )
        for row, (step, error, revision, receipt, next_at, _, _) in zip(rows, CASES, strict=True)
    ]


def _state(session: Session, rows: list[Delivery]) -> list[tuple[Any, ...]]:
    by_id = {
        d.id: d for d in session.exec(select(Delivery).where(col(Delivery.id).in_([r.id for r in rows])))
    }
    return [
        (
            d.status,
            d.lease_owner,
            d.lease_until,
            d.revision_id,
            d.receipt_json,
            d.last_error,
            d.done_at,
            d.next_attempt_at,
            d.updated_at,
        )
        for d in (by_id[r.id] for r in rows)
    ]


def _events(session: Session, after: int, rows: list[Delivery]) -> list[tuple[Any, ...]]:
    place = {r.id: n for n, r in enumerate(rows)}
    out = []
    for e in session.exec(
        select(AuditEvent).where(col(AuditEvent.seq) > after).order_by(col(AuditEvent.seq))
    ):
        details = json.loads(e.details_json)
        details["delivery"] = place[details["delivery"]]  # the n-th of its group, not its id
        details.pop("due")  # each group's rows are due alike, their ids differ
        out.append((e.actor, e.action, e.object_type, e.object_id, e.revision_id, details))
    return out


def _notices(session: Session, rows: list[Delivery]) -> list[tuple[str, ...]]:
    place = {str(r.id): str(n) for n, r in enumerate(rows)}
    out = []
    for n in session.exec(select(Notice).where(col(Notice.ref).like("delivery:%"))):
        _, delivery, rest = n.ref.split(":", 2)
        if delivery in place:
            out.append((n.username, n.kind, n.title, n.body, n.link or "", place[delivery] + ":" + rest))
    return sorted(out)


def _head(session: Session) -> int:
    return max(session.exec(select(AuditEvent.seq)).all() or [0])


def _article_ids(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return [a for a in session.exec(select(Article.id)).all() if a is not None]


def _seeded(engine: Engine, tag: str) -> tuple[list[Delivery], int]:
    """A group's rows, and the chain's last seq before them."""
    article_ids = _article_ids(engine)
    with Session(engine) as session:
        before = _head(session)
    return _deliveries(engine, article_ids, tag), before


@pytest.fixture
def pg_room(room: Newsroom) -> Newsroom:
    if room.engine.dialect.name != "postgresql":
        pytest.skip("the pipelined path is PostgreSQL's")
    assert ingest(room).ok
    seed_users(room)
    return room


def test_a_mixed_group_writes_what_the_statement_at_a_time_path_writes(pg_room: Newsroom) -> None:
    engine = pg_room.engine
    settings = pg_room.settings.notify.model_copy(update={"duty_editors": ["liangyu"]})
    alerts = TroubleAlerts(settings, pg_room.settings.tz, {"website": "网站"})
    article_ids = _article_ids(engine)
    slow_rows = _deliveries(engine, article_ids, "slow")
    fast_rows = _deliveries(engine, article_ids, "fast")
    with Session(engine) as session:
        before_slow = _head(session)
    landed_slow = claims._finish_read_first(engine, OWNER, _outcomes(slow_rows), NOW, alerts)
    with Session(engine) as session:
        before_fast = _head(session)
        slow_events = _events(session, before_slow, slow_rows)
    landed_fast = claims.finish(engine, OWNER, _outcomes(fast_rows), NOW, alerts)
    assert landed_fast == landed_slow == len(CASES) - 2  # not the other worker's, not the wrong step
    with Session(engine) as session:
        assert _state(session, fast_rows) == _state(session, slow_rows)
        assert _events(session, before_fast, fast_rows) == slow_events
        assert len(slow_events) == len(CASES) - 3  # a release writes no event
        assert _notices(session, fast_rows) == _notices(session, slow_rows) != []
        assert audit.verify(session).ok


def test_a_group_that_lands_nothing_writes_nothing_and_the_next_one_chains_on(pg_room: Newsroom) -> None:
    engine = pg_room.engine
    rows, before = _seeded(engine, "g")
    assert claims.finish(engine, "nobody", _outcomes(rows), NOW) == 0
    with Session(engine) as session:
        assert _head(session) == before
        assert [s[0] for s in _state(session, rows)] == [c[6] for c in CASES]
    assert claims.finish(engine, OWNER, _outcomes(rows), NOW) == len(CASES) - 2
    assert claims.finish(engine, OWNER, _outcomes(rows), NOW) == 0  # recorded once
    with Session(engine) as session:
        assert _head(session) == before + len(CASES) - 3
        assert audit.verify(session).ok


def test_a_group_naming_a_delivery_twice_lands_its_first_fitting_outcome(pg_room: Newsroom) -> None:
    engine = pg_room.engine
    article_ids = _article_ids(engine)
    [row, *_] = _deliveries(engine, article_ids, "twice")
    group = [
        claims.Outcome(row, Step.RECONCILED_DONE),
        claims.Outcome(row, Step.FAIL, error="x"),
        claims.Outcome(row, Step.DONE),
    ]
    assert claims.finish(engine, OWNER, group, NOW) == 1
    with Session(engine) as session:
        assert session.get(Delivery, row.id).status == DeliveryState.FAILED  # type: ignore[union-attr]
        assert audit.verify(session).ok


def test_a_group_that_fails_midway_writes_nothing_and_leaves_no_autocommit_connection(
    pg_room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = pg_room.engine
    rows, before = _seeded(engine, "broken")
    used: list[record_pg.Pipelined] = []
    real_init = record_pg.Pipelined.__init__

    def spy(self: record_pg.Pipelined, connection: Any) -> None:
        real_init(self, connection)
        used.append(self)

    def broken(*_: object) -> None:
        raise RuntimeError("the audit entry cannot be built: disk is full")

    monkeypatch.setattr(record_pg.Pipelined, "__init__", spy)
    monkeypatch.setattr(claims, "_event", broken)
    with pytest.raises(RuntimeError, match="disk is full"):
        claims.finish(engine, OWNER, _outcomes(rows), NOW)
    [tx] = used
    # The connection went back to the pool transactional, with nothing open on it.
    assert tx.raw.autocommit is False
    assert tx.raw.pgconn.transaction_status == pq.TransactionStatus.IDLE
    with Session(engine) as session:
        assert [s[0] for s in _state(session, rows)] == [c[6] for c in CASES]
        assert _head(session) == before
    monkeypatch.undo()
    assert claims.finish(engine, OWNER, _outcomes(rows), NOW) == len(CASES) - 2
    with Session(engine) as session:
        assert _head(session) == before + len(CASES) - 3
        assert audit.verify(session).ok
    # The connection the pool hands out next is transactional too.
    with engine.connect() as connection:
        assert connection.connection.driver_connection.autocommit is False  # type: ignore[union-attr]


def test_a_group_with_ledger_writes_records_them_as_the_statement_at_a_time_path(pg_room: Newsroom) -> None:
    """A partner's ledger is written before the chain is locked, as on the path below."""
    engine = pg_room.engine
    article_ids = _article_ids(engine)
    written: dict[str, list[dict[str, Any]]] = {}
    for partner, finish in (("p-slow", claims._finish_read_first), ("p-fast", claims.finish)):
        rows = _deliveries(engine, article_ids, partner)
        when = NOW - timedelta(minutes=1)
        outcomes = [
            dataclasses.replace(
                o,
                after=SupplyLedger(
                    partner,
                    o.delivery.article_id,
                    f"r-{n}",
                    Version(1, "usable", when, None, None),
                    None,
                    when,
                ),
            )
            if o.step == Step.DONE and n == 0
            else o
            for n, o in enumerate(_outcomes(rows))
        ]
        assert finish(engine, OWNER, outcomes, NOW, None) == len(CASES) - 2
        with Session(engine) as session:
            found = session.execute(sa_select(SUPPLY).where(SUPPLY.c.partner == partner))
            written[partner] = [
                {k: v for k, v in r._mapping.items() if k not in ("id", "partner")} for r in found
            ]
    assert written["p-fast"] == written["p-slow"] != []
    with Session(engine) as session:
        assert audit.verify(session).ok


def test_a_statement_the_server_refuses_rolls_the_group_back(
    pg_room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = pg_room.engine
    rows, before = _seeded(engine, "refused")
    monkeypatch.setattr(record_pg, "_MOVE_HEAD", "UPDATE audit_head SET no_such_column = %s, hash = %s")
    with pytest.raises(psycopg.errors.UndefinedColumn):
        claims.finish(engine, OWNER, _outcomes(rows), NOW)
    with Session(engine) as session:
        assert [s[0] for s in _state(session, rows)] == [c[6] for c in CASES]
        assert _head(session) == before
    monkeypatch.undo()
    assert claims.finish(engine, OWNER, _outcomes(rows), NOW) == len(CASES) - 2
    with Session(engine) as session, engine.connect() as connection:
        assert audit.verify(session).ok
        assert connection.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
