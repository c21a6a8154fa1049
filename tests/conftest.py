"""Every store-touching test runs twice: on SQLite and on the real PostgreSQL at 127.0.0.1."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from publisher.newsroom import Newsroom
from tests.factory import make_newsroom


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow end-to-end tests first: xdist hands tests out in order, so a long one started last
    would keep one worker busy after the other has finished."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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
