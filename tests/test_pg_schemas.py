"""The reused PostgreSQL schemas of the tests (tests/pg_schemas.py) are as good as new ones: a test
can't tell a schema another test used from one the migrations have just built."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import IntegrityError

from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from tests.conftest import PG_URL
from tests.factory import make_newsroom
from tests.pg_schemas import SchemaPool, structure, url_of
from tests.review_helpers import seed_users


@pytest.fixture
def pool() -> Iterator[SchemaPool]:
    own = SchemaPool(PG_URL)
    yield own
    own.close()


def contents(conn: Connection, schema: str) -> dict[str, Any]:
    """Every row of every table, and every sequence's state."""
    tables = conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY tablename"), {"s": schema}
    ).scalars()
    found: dict[str, Any] = {
        table: [tuple(row) for row in conn.execute(text(f'SELECT * FROM "{schema}"."{table}" ORDER BY 1'))]
        for table in tables
    }
    found["sequences"] = conn.execute(
        text("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = :s ORDER BY sequencename"),
        {"s": schema},
    ).all()
    return found


def schemas(conn: Connection) -> set[str]:
    return set(conn.execute(text("SELECT nspname FROM pg_namespace")).scalars())


def use(schema: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a test does to its schema: ingests, staffs the newsroom, deletes the seeded service
    account and advances a sequence with an insert that is rolled back."""
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", url_of(PG_URL, schema))
    room = Newsroom(make_newsroom(tmp_path / "newsroom"))
    try:
        assert ingest(room).ok
        seed_users(room)
        with room.engine.begin() as conn:
            conn.execute(text("DELETE FROM staff_token"))
            conn.execute(text("DELETE FROM staff_session"))
            conn.execute(text("DELETE FROM staff_user WHERE username = 'engine'"))
        with pytest.raises(IntegrityError), room.engine.begin() as conn:
            conn.execute(text("INSERT INTO notice (username) VALUES ('nobody')"))
    finally:
        room.close()


def test_a_schema_given_back_is_taken_again_as_the_migrations_left_it_under_a_new_name(
    pool: SchemaPool, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    used = pool.take()
    use(used, tmp_path, monkeypatch)
    pool.give_back(used)
    again = pool.take()
    fresh = pool.take()  # the pool is empty again: this one is newly migrated
    with pool.admin.begin() as conn:
        assert again != used and used not in schemas(conn)
        assert structure(conn, again) == structure(conn, fresh) == structure(conn, pool.template())
        # The seeded rows are the template's own (the service account's creation time included).
        assert contents(conn, again) == contents(conn, pool.template())
        assert [len(rows) for rows in contents(conn, again).values()] == [
            len(rows) for rows in contents(conn, fresh).values()
        ]


def test_rows_inserted_into_a_reused_schema_come_back_in_insertion_order_and_number_from_one(
    pool: SchemaPool, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    used = pool.take()
    use(used, tmp_path, monkeypatch)
    pool.give_back(used)
    again = pool.take()
    engine = create_engine(url_of(PG_URL, again))
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(
                text(
                    "INSERT INTO notice (username, kind, title, body, ref, created_at) VALUES"
                    " (:u, 'k', 't', 'b', :r, now())"
                ),
                {"u": f"u{n}", "r": f"r{n}"},
            )
        assert conn.execute(text("SELECT id, username FROM notice")).all() == [
            (1, "u0"),
            (2, "u1"),
            (3, "u2"),
        ]
    engine.dispose()


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only",
        "ALTER TABLE notice ADD COLUMN extra TEXT",
        "DROP INDEX ix_delivery_slot",
    ],
)
def test_a_schema_whose_structure_a_test_changed_is_dropped_not_reused(pool: SchemaPool, change: str) -> None:
    used = pool.take()
    engine = create_engine(url_of(PG_URL, used))
    with engine.begin() as conn:
        conn.execute(text(change))
    engine.dispose()
    pool.give_back(used)
    with pool.admin.begin() as conn:
        assert used not in schemas(conn)


def test_giving_a_schema_back_touches_no_other_schema(pool: SchemaPool) -> None:
    bystander = pool.take()  # a schema at head, like `public` of a database the product uses
    used = pool.take()
    with pool.admin.begin() as conn:
        conn.execute(text(f"INSERT INTO {bystander}.newsroom_flag VALUES ('k', 'v', 'u', now())"))
        before = contents(conn, bystander)
    pool.give_back(used)
    with pool.admin.begin() as conn:
        assert contents(conn, bystander) == before
        assert len(before["newsroom_flag"]) == 1


def test_closing_the_pool_drops_what_it_handed_out_and_never_got_back() -> None:
    own = SchemaPool(PG_URL)
    kept, returned = own.take(), own.take()
    own.give_back(returned)
    own.close()
    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            left = conn.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname IN (:a, :b)"), {"a": kept, "b": returned}
            ).all()
    finally:
        engine.dispose()
    assert left == []
