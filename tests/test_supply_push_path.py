"""The partner push path at volume: a push needs no database connection beyond the one the engine's
lane already holds, and what the partner holds is recorded as before."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy

from publisher.engine.clock import FixedClock
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store import engine as store_engine
from publisher.supply import service
from publisher.supply.sandbox import SandboxPartner
from publisher.timeutil import utc_now
from tests.factory import base_meta, write_article
from tests.review_helpers import seed_users
from tests.supply_support import (
    PUSH,
    SECRET,
    SECRET_ENV,
    T0,
    aim_partners,
    approve,
    deliveries,
    holdings,
    run_engine,
)


@pytest.fixture
def partner() -> Iterator[SandboxPartner]:
    with SandboxPartner(SECRET) as sandbox:
        yield sandbox


@pytest.fixture
def one_connection_room(
    newsroom_dir: Path, db_url: str, partner: SandboxPartner, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Newsroom]:
    """A newsroom whose database pool holds a single connection and gives up waiting after 2 s."""
    aim_partners(newsroom_dir, partner.url, timeout=2)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    monkeypatch.setattr(store_engine, "POOL_SIZE", 1)
    monkeypatch.setattr(
        store_engine, "create_engine", functools.partial(sqlalchemy.create_engine, pool_timeout=2)
    )
    room = Newsroom(newsroom_dir)
    assert isinstance(room.engine.pool, sqlalchemy.QueuePool) and room.engine.pool.size() == 1
    assert ingest(room).ok
    seed_users(room)
    yield room
    room.close()


def test_a_push_uses_only_the_connection_its_lane_already_holds(
    one_connection_room: Newsroom, partner: SandboxPartner
) -> None:
    room = one_connection_room
    clock = FixedClock(T0)
    for slug in ("article-1", "article-2"):
        approve(room, slug)
        plan = service.supply_article(room, slug, "zhouwb", names=[PUSH], at=clock.now(), now=clock.now())
        assert plan.scheduled, plan.skipped
    assert run_engine(room, clock) == 2
    assert [d.status for d in deliveries(room, PUSH)] == ["done", "done"]
    assert len(partner.received) == 2 and partner.rejected == []
    assert sorted(h.version for h in holdings(room, PUSH)) == [1, 1]


def test_a_correction_updates_the_held_version_in_place(
    one_connection_room: Newsroom, partner: SandboxPartner
) -> None:
    room = one_connection_room
    approve(room, "article-1")
    # Real time: the approval of the correction queues its update at the moment it happens.
    clock = FixedClock(utc_now())
    service.supply_article(room, "article-1", "zhouwb", names=[PUSH], at=clock.now(), now=clock.now())
    assert run_engine(room, clock) == 1
    [first] = holdings(room, PUSH)
    write_article(room.content_dir, "article-1.md", base_meta("article-1", title="测试稿件第1篇（更正）"))
    assert ingest(room).revised
    approve(room, "article-1")
    clock.advance(timedelta(minutes=5))
    assert run_engine(room, clock) == 1
    [held] = holdings(room, PUSH)
    assert held.id == first.id and held.version == 2 and held.revision_id != first.revision_id
    assert held.first_revision_id == first.revision_id and (held.ednote or "").startswith("更正")
