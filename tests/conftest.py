"""Every store-touching test runs twice: on SQLite and on the real PostgreSQL at 127.0.0.1."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import create_engine, text

from publisher.channels.wechat.sandbox import State, running
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review import users
from publisher.store.engine import make_engine
from publisher.store.migrate import upgrade
from tests.factory import make_newsroom
from tests.pg_schemas import SchemaPool, new_name, url_of
from tests.review_helpers import seed_users
from tests.sink import Sink
from tests.wechat_helpers import APP_ID, reset


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow end-to-end tests first: xdist hands tests out in order (--dist worksteal takes the
    tail of a worker's queue for the other), so a long one started last would keep one worker busy
    after the other has finished."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """argon2 is slow by design (0.3 s or more per hash and per check on this machine, and most
    tests sign someone in). Tests hash with the library's cheapest parameters; a hash carries
    its own, so checking it is cheap too, here and in a `publisher` subprocess. The product's
    parameters are held by tests/test_users.py."""
    with pytest.MonkeyPatch.context() as patch:
        cheap = PasswordHasher.from_parameters(CHEAPEST)
        patch.setattr(users, "_hasher", lambda: cheap)
        yield


@pytest.fixture(autouse=True)
def _own_credentials(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """`publisher login` keeps tokens in the user's config folder: each test gets its own, and no
    test reads the developer's real one or a token from the environment."""
    monkeypatch.setenv("PUBLISHER_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("PUBLISHER_TOKEN", raising=False)


PG_URL = os.environ.get("PUBLISHER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite store migrated to head per test process; each test gets a copy of the file
    (a copy takes a millisecond, running the migrations a tenth of a second)."""
    path = tmp_path_factory.mktemp("template") / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, _migrated_sqlite: Path) -> Iterator[str]:
    """A database at the current schema, on each backend."""
    if request.param == "sqlite":
        shutil.copyfile(_migrated_sqlite, tmp_path / "store.db")
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    schema = _pg_schemas.take()
    try:
        yield url_of(PG_URL, schema)
    finally:
        leaked = _end_leaked(schema)
        if leaked:
            _pg_schemas.drop(schema)
            _fail_leaked(schema, leaked)
        _pg_schemas.give_back_later(schema)


# Migrated schemas, reused from one test to the next within a test process (tests/pg_schemas.py).
_pg_schemas = SchemaPool(PG_URL)


@pytest.fixture(scope="session", autouse=True)
def _pg_schemas_dropped() -> Iterator[None]:
    yield
    _pg_schemas.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database never migrated, for the tests of migrating one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    yield from _fresh_schema()


def _fresh_schema() -> Iterator[str]:
    # A schema per test keeps tests independent and lets them run in parallel on one database.
    schema = new_name()
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield url_of(PG_URL, schema)
    finally:
        leaked = _end_leaked(schema)
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    if leaked:
        _fail_leaked(schema, leaked)


def _end_leaked(schema: str) -> list[Any]:
    """A connection the test left inside a transaction would hold its locks for ever, and emptying
    or dropping the schema would wait for ever: it is ended, and returned for the failure."""
    with _pg_schemas.admin.begin() as conn:
        leaked = list(conn.execute(_LEAKED, {"schema": schema}))
        for row in leaked:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": row.pid})
    return leaked


def _fail_leaked(schema: str, leaked: list[Any]) -> None:
    pytest.fail(f"a connection was left in a transaction on {schema}; its last statement: {leaked[0].query}")


_LEAKED = text(
    "SELECT DISTINCT a.pid, a.query FROM pg_locks l"
    " JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace"
    " JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE n.nspname = :schema AND a.pid <> pg_backend_pid() AND a.state LIKE 'idle in transaction%'"
)


@pytest.fixture
def newsroom_dir(tmp_path: Path) -> Path:
    return make_newsroom(tmp_path / "newsroom")


@pytest.fixture
def room(newsroom_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Newsroom]:
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    newsroom = Newsroom(newsroom_dir)
    yield newsroom
    newsroom.close()


def reopen(newsroom: Newsroom) -> Newsroom:
    """A fresh Newsroom on the same folder and database, as the next CLI run would see it."""
    newsroom.close()
    return Newsroom(newsroom.root)


@pytest.fixture(scope="module")
def wechat_api() -> Iterator[tuple[State, str]]:
    """The WeChat sandbox on 127.0.0.1, one per test module (its server takes a moment to start)."""
    state = State(app_id=APP_ID, secret=None, publish_delay=0.15)
    with running(state) as base:
        yield state, base


@pytest.fixture
def sb(wechat_api: tuple[State, str]) -> tuple[State, str]:
    """The module's WeChat sandbox, emptied for this test."""
    reset(wechat_api[0])
    return wechat_api


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A loopback HTTP receiver that counts deliveries by their idempotency key."""
    with Sink() as s:
        yield s


@pytest.fixture
def sink_room(
    newsroom_dir: Path, db_url: str, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Newsroom]:
    """The test newsroom with a `sink` channel, ingested and staffed."""
    (newsroom_dir / "channels" / "sink.toml").write_text(
        f'kind = "sink"\ntitle = "测试接收端"\n[settings]\nurl = "{sink.url}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(newsroom_dir)
    assert ingest(room).ok
    seed_users(room)
    yield room
    room.close()
