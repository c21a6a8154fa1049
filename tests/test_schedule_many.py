"""`schedule_many` against `schedule` called once per release: the same rows, warnings and audit
events in the same order, on both databases; and all or nothing when a release is refused."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from publisher import audit
from publisher.engine import scheduling
from publisher.engine.scheduling import Release, ScheduleError, ScheduleResult
from publisher.errors import NotFound
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.service import ReviewService
from publisher.store.tables import AuditEvent, Delivery
from tests.conftest import PG_URL, _pg_schemas
from tests.factory import make_newsroom
from tests.pg_schemas import url_of
from tests.review_helpers import seed_users, sign_through

NOW = datetime(2031, 3, 3, 1, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def plan() -> list[Release]:
    """Every path of `schedule`: new releases, the same release again, a move of a pending one,
    the unapproved warning, a campaign slot, and a canceled release re-armed (see `cancel`)."""
    at = [LATER + timedelta(hours=h) for h in range(6)]
    return [
        Release("article-1", ("website", "site-feed"), at[0], "week", 1),
        Release("article-2", ("website",), at[1]),  # not approved: a warning
        Release("article-1", ("website",), at[0]),  # the same release: found, not made again
        Release("article-3", ("website",), at[2]),
        Release("article-3", ("website",), at[3], "week", 2),  # moves the pending one
        Release("article-1", ("site-feed",), at[4].astimezone(timezone_of_shanghai())),
    ]


def timezone_of_shanghai() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(
    request: pytest.FixtureRequest, tmp_path: Path, _migrated_sqlite: Path
) -> Iterator[tuple[str, str]]:
    """Two databases at the current schema on one backend: one for each way of scheduling."""
    if request.param == "sqlite":
        for name in ("one.db", "many.db"):
            shutil.copyfile(_migrated_sqlite, tmp_path / name)
        yield f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'many.db'}"
        return
    schemas = (_pg_schemas.take(), _pg_schemas.take())
    try:
        yield url_of(PG_URL, schemas[0]), url_of(PG_URL, schemas[1])
    finally:
        for schema in schemas:
            _pg_schemas.give_back(schema)


def prepared(tmp_path: Path, name: str, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Newsroom:
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(make_newsroom(tmp_path / name))
    assert ingest(room).ok
    seed_users(room)
    service = ReviewService(room)
    for slug in ("article-1", "article-3"):
        service.submit(slug, "zhouwb")
        sign_through(room, service, slug)
    return room


def snapshot(room: Newsroom, since: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The plan's rows and the audit events after `since`, without ids, stamps and hashes (which
    carry the moment of writing)."""
    with Session(room.engine) as s:
        deliveries = [
            (d.channel, d.due_at, d.status, d.next_attempt_at, d.idempotency_key, d.campaign, d.slot_number)
            for d in s.exec(select(Delivery).order_by(col(Delivery.id)))
        ]
        events = [
            (e.actor, e.action, e.object_type, e.object_id, _without_ids(e.details_json))
            for e in s.exec(
                select(AuditEvent).where(col(AuditEvent.seq) > since).order_by(col(AuditEvent.seq))
            )
        ]
    return deliveries, events


def _without_ids(details_json: str) -> dict[str, Any]:
    details: dict[str, Any] = json.loads(details_json)
    details.pop("delivery", None)
    return details


def last_seq(room: Newsroom) -> int:
    with Session(room.engine) as s:
        return max((e.seq for e in s.exec(select(AuditEvent))), default=0)


def results_of(results: Sequence[ScheduleResult]) -> list[Any]:
    return [
        ([(i.slug, i.channel, i.due, i.created, i.moved_from) for i in r.items], r.warnings) for r in results
    ]


def test_schedule_many_does_what_schedule_does_release_by_release(
    tmp_path: Path, two_stores: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    one_by_one = prepared(tmp_path, "one", two_stores[0], monkeypatch)
    start = last_seq(one_by_one)
    releases = plan()
    singles = [
        scheduling.schedule(
            one_by_one,
            r.slug,
            list(r.channels),
            r.due,
            "zhouwb",
            campaign=r.campaign,
            slot_number=r.slot_number,
            now=NOW,
        )
        for r in releases
    ]
    cancel = Release("article-1", ("website",), LATER + timedelta(hours=9))
    scheduling.unschedule(one_by_one, "article-1", "zhouwb", ["website"])
    singles.append(
        scheduling.schedule(one_by_one, "article-1", ["website"], releases[0].due, "zhouwb", now=NOW)
    )
    singles.append(
        scheduling.schedule(one_by_one, cancel.slug, list(cancel.channels), cancel.due, "zhouwb", now=NOW)
    )
    expected = snapshot(one_by_one, start)
    one_by_one.close()

    # The same story in a newsroom and database of its own.
    batched = prepared(tmp_path, "many", two_stores[1], monkeypatch)
    start = last_seq(batched)
    many = scheduling.schedule_many(batched, releases, "zhouwb", now=NOW)
    scheduling.unschedule(batched, "article-1", "zhouwb", ["website"])
    # The canceled release re-armed and a new one, in one batch.
    many += scheduling.schedule_many(
        batched,
        [replace(releases[0], channels=("website",), campaign=None, slot_number=None), cancel],
        "zhouwb",
        now=NOW,
    )
    assert results_of(many) == results_of(singles)
    assert snapshot(batched, start) == expected
    assert any(not r.items[0].created for r in many) and any(r.items[0].moved_from for r in many)
    assert any(r.warnings for r in many)
    with Session(batched.engine) as s:
        assert audit.verify(s).ok
    batched.close()


def test_a_refused_release_leaves_none_of_its_batch_planned(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = prepared(tmp_path, "room", db_url, monkeypatch)
    start = last_seq(room)
    good = Release("article-1", ("website",), LATER)
    # Refused before the store is read: the same errors `schedule` gives, in the same order.
    with pytest.raises(ScheduleError, match="UTC offset"):
        scheduling.schedule_many(
            room, [good, replace(good, due=LATER.replace(tzinfo=None))], "zhouwb", now=NOW
        )
    with pytest.raises(ScheduleError, match="exclude each other"):
        scheduling.schedule_many(room, [good], "zhouwb", now=NOW, again=True, move=True)
    with pytest.raises(ScheduleError, match="unknown channel"):
        scheduling.schedule_many(room, [good, replace(good, channels=("nowhere",))], "zhouwb", now=NOW)
    # Refused in the store, after the first release was written: that one is rolled back too.
    with pytest.raises(NotFound):
        scheduling.schedule_many(room, [good, replace(good, slug="no-such-article")], "zhouwb", now=NOW)
    with pytest.raises(ScheduleError, match="no pending release"):
        scheduling.schedule_many(room, [good, replace(good, slug="article-3")], "zhouwb", now=NOW, move=True)
    assert snapshot(room, start) == ([], [])
    assert scheduling.schedule_many(room, [], "zhouwb", now=NOW) == []
    room.close()
