"""Engines for SQLite (embedded default) and PostgreSQL, with the same transactional guarantees."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from sqlmodel import Session

# One fixed key for PostgreSQL advisory locks that serialise the audit chain and migrations.
AUDIT_LOCK_KEY = 0x5055424C  # "PUBL"
MIGRATION_LOCK_KEY = 0x5055424D
# Connections a process holds at once, at most, all of them kept open between uses. A worker's round
# runs a lane per channel side by side, each on a connection of its own: the library's default pool
# (5 kept, 10 more opened when needed and closed again when given back) opened and closed ten
# connections every round, a tenth of a delivery's CPU on SQLite. The same 15 at most, none closed.
POOL_SIZE = 15


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    pool: dict[str, Any] = {"pool_size": POOL_SIZE, "max_overflow": 0}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory":
            pool = {}  # one in-memory database per connection: the library keeps one per thread
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **pool)
        _sqlite_rules(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def _sqlite_rules(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that reads, then writes,
        # fails at once with "database is locked" when another writer committed in between.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One transaction that will write: committed on success, rolled back on any error."""
    # SQLModel (and the ORM) only where a session is asked for: making an engine and the Core
    # reads of the listings (store/listings.py) need neither, and importing them is slow.
    from sqlmodel import Session

    bind = engine.execution_options(sqlite_immediate=True) if engine.dialect.name == "sqlite" else engine
    with Session(bind) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    from sqlmodel import Session

    with Session(engine) as session:
        yield session


# An advisory lock is held database-wide, but what each one guards (the audit chain, migrations,
# a channel's capacity, an account's token) lives in the tables of one schema: the key is mixed
# with the schema's name, so newsrooms in two schemas of one database (a restore beside the live
# one, the tests' schemas) never wait on each other, while every process of one newsroom takes the
# same lock. The key differs from the plain one earlier versions took: a newsroom's workers are
# upgraded together.
_SCHEMA_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended(coalesce(current_schema(), '') || ':' || CAST({} AS text), 0))"
_SCHEMA_LOCK = text(_SCHEMA_LOCK_SQL.format(":key"))
# The same lock for a statement sent on the psycopg connection itself (one parameter: the key).
SCHEMA_LOCK_PSYCOPG = _SCHEMA_LOCK_SQL.format("%s")


def schema_xact_lock(conn: Connection, key: int) -> None:
    """Serialise a critical section across the PostgreSQL processes of one newsroom until the
    transaction ends; SQLite's write lock already does."""
    if conn.dialect.name == "postgresql":
        conn.execute(_SCHEMA_LOCK, {"key": key})


def advisory_xact_lock(session: Session, key: int) -> None:
    schema_xact_lock(session.connection(), key)
