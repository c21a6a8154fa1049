"""A claim takes, in due order and up to its limit, the deliveries scheduled by now (or by a moment
ahead) and the claims whose lease ran out, only among the ones named when a caller names some;
each claimed row carries its new lease, holder and attempt, and a second claim finds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, insert, update
from sqlmodel import Session, col, select

from publisher.delivery.states import DeliveryState
from publisher.engine import claims
from publisher.store.engine import make_engine, write_session
from publisher.store.migrate import upgrade
from publisher.store.tables import Article, Delivery

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _delivery(n: int, status: str, next_at: datetime, lease_until: datetime | None = None) -> Delivery:
    return Delivery(
        id=n,
        article_id=1,
        channel=f"c{n % 2}",
        due_at=next_at,
        status=status,
        attempts=1 if status == DeliveryState.CLAIMED else 0,
        next_attempt_at=next_at,
        lease_owner="gone" if status == DeliveryState.CLAIMED else None,
        lease_until=lease_until,
        idempotency_key=f"k{n}",
        created_by="test",
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    with write_session(engine) as session:
        session.add(Article(id=1, slug="a1", source="a1.md", created_at=T0, updated_at=T0))
    with write_session(engine) as session:
        session.add(_delivery(1, DeliveryState.SCHEDULED, T0 - timedelta(seconds=2)))
        session.add(_delivery(2, DeliveryState.SCHEDULED, T0 + timedelta(milliseconds=200)))  # ahead
        session.add(_delivery(3, DeliveryState.SCHEDULED, T0 + timedelta(seconds=5)))  # not yet
        session.add(_delivery(4, DeliveryState.CLAIMED, T0 - timedelta(minutes=9), T0 - timedelta(seconds=1)))
        session.add(_delivery(5, DeliveryState.CLAIMED, T0 - timedelta(minutes=1), T0 + timedelta(minutes=4)))
        session.add(_delivery(6, DeliveryState.DONE, T0 - timedelta(minutes=2)))
        session.add(_delivery(7, DeliveryState.SCHEDULED, T0 - timedelta(seconds=1)))
    yield engine
    engine.dispose()


def claim(engine: Engine, limit: int = 50, only: list[int] | None = None) -> list[claims.Claim]:
    return claims.claim_due(
        engine,
        "w1",
        T0,
        LEASE,
        limit,
        {},
        ZoneInfo("Asia/Shanghai"),
        ahead=timedelta(milliseconds=250),
        only=only,
    )


def test_a_claim_takes_what_is_due_in_due_order_with_its_lease(engine: Engine) -> None:
    taken = claim(engine)
    assert [c.delivery.id for c in taken] == [4, 1, 7, 2]
    assert [c.reclaimed for c in taken] == [True, False, False, False]
    with Session(engine) as session:
        rows = {d.id: d for d in session.exec(select(Delivery).order_by(col(Delivery.id)))}
    for n in (1, 2, 4, 7):
        assert rows[n].status == DeliveryState.CLAIMED and rows[n].lease_owner == "w1"
        assert rows[n].lease_until == T0 + LEASE and rows[n].updated_at == T0
    assert (rows[1].attempts, rows[4].attempts) == (1, 2)
    assert (rows[3].status, rows[5].lease_owner, rows[6].status) == ("scheduled", "gone", "done")
    assert claim(engine) == []


def test_a_claim_stops_at_its_limit_and_takes_only_what_is_named(engine: Engine) -> None:
    assert [c.delivery.id for c in claim(engine, limit=2)] == [4, 1]
    assert [c.delivery.id for c in claim(engine, only=[2, 3, 5, 6])] == [2]
    assert claim(engine, only=[]) == []
    assert [c.delivery.id for c in claim(engine)] == [7]


def _backlog(engine: Engine, first: int, count: int) -> None:
    """`count` more deliveries, all due at one instant (a burst of releases, or a stopped
    worker's backlog)."""
    due = T0 - timedelta(minutes=5)
    rows = [_delivery(n, DeliveryState.SCHEDULED, due).model_dump() for n in range(first, first + count)]
    with engine.begin() as connection:
        connection.execute(insert(Delivery), rows)


def _all_done(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(Delivery).values(status=DeliveryState.DONE, lease_owner=None, lease_until=None)
        )


def _rows_read(engine: Engine, limit: int) -> int:
    """What a claim of `limit` costs the database. PostgreSQL: the claim's transaction replayed up
    to its candidate read and that read explained (EXPLAIN ANALYZE, rolled back): the rows its
    table and index scans produced or filtered out. SQLite: the virtual machine's steps over the
    whole claim (a progress callback every 100 steps)."""
    if engine.dialect.name == "postgresql":
        sent: list[tuple[str, Any]] = []

        def keep(_c: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
            sent.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", keep)
        try:
            claim(engine, limit=limit)
        finally:
            event.remove(engine, "before_cursor_execute", keep)
        read = next(n for n, (statement, _) in enumerate(sent) if "SKIP LOCKED" in statement)
        with engine.connect() as connection:
            cursor = connection.connection.cursor()
            for statement, parameters in sent[:read]:
                cursor.execute(statement, parameters)
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sent[read][0], sent[read][1])
            row = cursor.fetchone()
            assert row is not None
            (explained,) = row
            connection.rollback()
        scanned = 0
        nodes = [explained[0]["Plan"]]
        while nodes:
            node = nodes.pop()
            if "Relation Name" in node or "Index Name" in node:
                scanned += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node[
                    "Actual Loops"
                ]
            nodes += node.get("Plans", [])
        return scanned
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 100
        return 0

    def watch(dbapi_connection: Any, *_: object) -> None:
        dbapi_connection.set_progress_handler(tick, 100)

    def unwatch(dbapi_connection: Any, *_: object) -> None:
        dbapi_connection.set_progress_handler(None, 0)

    event.listen(engine, "checkout", watch)
    event.listen(engine, "checkin", unwatch)
    try:
        claim(engine, limit=limit)
    finally:
        event.remove(engine, "checkout", watch)
        event.remove(engine, "checkin", unwatch)
    return steps


def test_a_claim_reads_its_rounds_rows_in_due_order_not_the_whole_backlog(engine: Engine) -> None:
    # A burst of releases due at one instant, or the hours a stopped worker missed, is drained
    # twenty at a time here: if each round found and sorted every due row, the drain would cost the
    # square of the burst. The rounds read ix_delivery_due (status, next_attempt_at, id) in order.
    _backlog(engine, 100, 100)
    # the order holds across the two branches: expired claims and due ones by due time, then by id
    assert [c.delivery.id for c in claim(engine, limit=5)] == [4, 100, 101, 102, 103]
    _all_done(engine)
    if engine.dialect.name == "postgresql":
        # Statistics taken when nothing was scheduled: by them, the bursts below are a few rows.
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE delivery")
    _backlog(engine, 1000, 100)
    small = _rows_read(engine, 20)
    _all_done(engine)
    _backlog(engine, 2000, 4000)
    large = _rows_read(engine, 20)
    if engine.dialect.name == "postgresql":
        assert large <= 2 * 20, large
    assert large < 2 * small, (small, large)
