"""What a partner holds of an article, read at each push on the driver's cursor of the lane's
connection (`held_row`), is what the same statement through SQLAlchemy reads, inside a transaction
and outside one; outside one it begins none and sees what another connection has just committed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session

from publisher.store.engine import make_engine, write_session
from publisher.store.migrate import upgrade
from publisher.store.tables import Article, Supply
from publisher.supply.ninjs import CORRECTION_NOTE, Version
from publisher.supply.performer import _HELD, Held, SupplyLedger, held_row

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
SUPPLY = Supply.__table__  # type: ignore[attr-defined]


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    with write_session(engine) as session:
        for n in range(1, 4):
            session.add(Article(id=n, slug=f"a{n}", source=f"a{n}.md", created_at=T0, updated_at=T0))
    with write_session(engine) as session:
        # Article 1: a correction pushed (remote id, ednote); article 2: a pull-only kill notice
        # (no remote id); article 3: never supplied to p1, only to p2.
        SupplyLedger("p1", 1, "r1-2", Version(2, "usable", T0, CORRECTION_NOTE), "remote-1", T0)(session)
        SupplyLedger("p1", 2, "r2-1", Version(1, "canceled", T0, "撤稿"), None, T0)(session)
        SupplyLedger("p2", 3, "r3-1", Version(1, "usable", T0), "remote-3", T0)(session)
    yield engine
    engine.dispose()


def through_sqlalchemy(engine: Engine, partner: str, article_id: int) -> Held | None:
    with engine.connect() as connection:
        row = connection.execute(_HELD, {"partner": partner, "article_id": article_id}).first()
    return None if row is None else Held(*row)


@pytest.mark.parametrize(("partner", "article_id"), [("p1", 1), ("p1", 2), ("p1", 3), ("p2", 3), ("p3", 1)])
def test_the_driver_read_is_the_sqlalchemy_read(engine: Engine, partner: str, article_id: int) -> None:
    expected = through_sqlalchemy(engine, partner, article_id)
    with engine.connect() as connection:
        outside = held_row(connection, partner, article_id)
        assert not connection.in_transaction()
        with connection.begin():
            inside = held_row(connection, partner, article_id)
    assert outside == inside == expected
    if expected is not None:
        assert type(expected.version) is int and type(outside.version) is int  # type: ignore[union-attr]


def test_outside_a_transaction_the_read_sees_what_was_just_committed(engine: Engine) -> None:
    with engine.connect() as connection:
        assert held_row(connection, "p1", 1) == Held("r1-2", 2, "usable", CORRECTION_NOTE, "remote-1")
        with Session(engine) as other:
            other.execute(
                update(SUPPLY).where(SUPPLY.c.article_id == 1).values(version=3, revision_id="r1-3")
            )
            other.commit()
        assert held_row(connection, "p1", 1) == Held("r1-3", 3, "usable", CORRECTION_NOTE, "remote-1")
