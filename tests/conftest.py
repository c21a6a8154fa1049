"""Every store-touching test runs twice: on SQLite and on the real PostgreSQL at 127.0.0.1."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from publisher.channels.wechat.sandbox import State, running
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from tests.factory import make_newsroom
from tests.review_helpers import seed_users
from tests.sink import Sink
from tests.wechat_helpers import APP_ID, reset


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow end-to-end tests first: xdist hands tests out in order, so a long one started last
    would keep one worker busy after the other has finished."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _own_credentials(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """`publisher login` keeps tokens in the user's config folder: each test gets its own, and no
    test reads the developer's real one or a token from the environment."""
    monkeypatch.setenv("PUBLISHER_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("PUBLISHER_TOKEN", raising=False)


PG_URL = os.environ.get("PUBLISHER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    # A schema per test keeps tests independent and lets them run in parallel on one database.
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


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
