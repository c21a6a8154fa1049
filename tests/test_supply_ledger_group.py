"""What partners hold, recorded for a whole group of deliveries at once (`SupplyLedger.write_group`:
one INSERT and one UPDATE statement for the group), is what recording each delivery on its own
records; and a group that meets another worker's row is recorded again one delivery at a time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from publisher.delivery.contract import GroupLedger
from publisher.engine import claims
from publisher.store.engine import make_engine, write_session
from publisher.store.migrate import upgrade
from publisher.store.tables import Article, Supply
from publisher.supply.ninjs import CORRECTION_NOTE, Version
from publisher.supply.performer import SupplyLedger

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
SUPPLY = Supply.__table__  # type: ignore[attr-defined]


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    with write_session(engine) as session:
        for n in range(1, 5):
            session.add(Article(id=n, slug=f"a{n}", source=f"a{n}.md", created_at=T0, updated_at=T0))
    yield engine
    engine.dispose()


def held_before(session: Session) -> None:
    """Partner p1 holds article 3 at version 1 (with its remote id) and article 4 at version 3."""
    for article, version in ((3, 1), (4, 3)):
        session.execute(
            insert(SUPPLY).values(
                partner="p1",
                article_id=article,
                revision_id=f"r{article}-{version}",
                first_revision_id=f"r{article}-1",
                version=version,
                pubstatus="usable",
                remote_id=f"remote-{article}",
                first_supplied_at=T0,
                updated_at=T0,
            )
        )


def write(article: int, number: int, remote: str | None, partner: str = "p1") -> SupplyLedger:
    when = T0 + timedelta(minutes=number)
    note = CORRECTION_NOTE if number > 1 else None
    version = Version(number, "usable", when, note, when if article == 2 else None)
    return SupplyLedger(partner, article, f"r{article}-{number}", version, remote, when)


# Every case at once: first supplies (one pushed, one pull-only), an article's first version and
# its correction in one group, a correction of a held row without a remote id (the held one stays),
# a version older than the one held (nothing written), the same article to a second partner.
WRITES = [
    write(1, 1, "remote-1"),
    write(2, 1, None),
    write(1, 2, None),
    write(3, 2, None),
    write(4, 2, "stale"),
    write(1, 3, "remote-1c"),
    write(1, 1, "other", partner="p2"),
]


def rows(engine: Engine) -> list[dict[str, Any]]:
    """Every supply row, by partner and article, without its id."""
    with Session(engine) as session:
        found = session.execute(select(SUPPLY).order_by(SUPPLY.c.partner, SUPPLY.c.article_id))
        return [{k: v for k, v in r._mapping.items() if k != "id"} for r in found]


def test_a_group_written_at_once_holds_what_writing_each_on_its_own_holds(engine: Engine) -> None:
    with write_session(engine) as session:
        held_before(session)
        for w in WRITES:
            w(session)
    one_by_one = rows(engine)
    with write_session(engine) as session:
        session.execute(delete(SUPPLY))
        held_before(session)
        WRITES[0].write_group(session, WRITES)
    assert rows(engine) == one_by_one
    held = {(r["partner"], r["article_id"]): r for r in one_by_one}
    assert len(held) == 5
    assert held["p1", 1]["version"] == 3 and held["p1", 1]["remote_id"] == "remote-1c"
    assert held["p1", 3]["version"] == 2 and held["p1", 3]["remote_id"] == "remote-3"  # kept
    assert held["p1", 4]["version"] == 3 and held["p1", 4]["revision_id"] == "r4-3"  # stale skipped


class Conflicting:
    """A group write that meets a row another worker inserted first; each write alone succeeds."""

    def __init__(self, article: int) -> None:
        self.article = article

    def __call__(self, session: Session) -> None:
        write(self.article, 1, None)(session)

    def write_group(self, session: Session, writes: list[Any]) -> None:
        write(1, 1, None)(session)  # written, then undone with the group's savepoint
        raise IntegrityError("INSERT", {}, Exception("duplicate key (partner, article_id)"))


def test_a_group_that_meets_another_workers_row_is_written_one_by_one(db_url: str, engine: Engine) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite's finish holds the write lock: no other worker can insert meanwhile")
    with write_session(engine) as session:
        claims._write_ledgers(session, [Conflicting(2), Conflicting(3)])
    assert [(r["partner"], r["article_id"]) for r in rows(engine)] == [("p1", 2), ("p1", 3)]


def test_whether_a_ledger_write_goes_with_its_group_is_the_protocols_answer() -> None:
    def plain(session: Session) -> None:
        """A ledger write of its own (a function), never grouped."""

    for write in (WRITES[0], plain, WRITES[1], plain):  # asked again: the kind's answer, kept
        assert claims._grouped(write) is isinstance(write, GroupLedger)
