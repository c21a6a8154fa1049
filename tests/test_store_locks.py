"""PostgreSQL advisory locks serialise the processes of one newsroom (one schema), and only them:
a newsroom in another schema of the same database never waits on them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from publisher.store.engine import AUDIT_LOCK_KEY, advisory_xact_lock, make_engine
from tests.conftest import PG_URL
from tests.pg_schemas import new_name, url_of


@pytest.fixture
def two_schemas() -> Iterator[tuple[str, str]]:
    names = (new_name(), new_name())
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f"CREATE SCHEMA {name}"))
    try:
        yield names
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()


def _takes_the_lock_at_once(schema: str) -> bool:
    """Whether a second process of the newsroom in `schema` gets the audit lock within 0.5 s."""
    engine = make_engine(url_of(PG_URL, schema))
    try:
        with Session(engine) as session:
            session.execute(text("SET LOCAL lock_timeout = '500ms'"))
            try:
                advisory_xact_lock(session, AUDIT_LOCK_KEY)
            except OperationalError as exc:
                assert "lock timeout" in str(exc)
                return False
            return True
    finally:
        engine.dispose()


def test_the_audit_lock_held_in_one_schema_stops_its_own_newsroom_and_no_other(
    two_schemas: tuple[str, str],
) -> None:
    mine, other = two_schemas
    engine = make_engine(url_of(PG_URL, mine))
    try:
        with Session(engine) as holder:
            advisory_xact_lock(holder, AUDIT_LOCK_KEY)  # held until this transaction ends
            assert not _takes_the_lock_at_once(mine)
            assert _takes_the_lock_at_once(other)
        assert _takes_the_lock_at_once(mine)  # released with the transaction
    finally:
        engine.dispose()
