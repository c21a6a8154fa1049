"""The long-running worker (`publisher run`, APScheduler's threads): rounds that never wedge, waits
that never outlive a lease, one slow channel that does not hold back the others, and releases due
together on one website all live after their round."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from publisher.engine import scheduling
from publisher.engine.clock import RealClock
from publisher.engine.worker import DeliveryWorker
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.service import ReviewService
from publisher.store.tables import Delivery
from publisher.supply import service as supply
from publisher.supply.sandbox import SandboxPartner
from tests.factory import base_meta, write_article
from tests.review_helpers import seed_users, sign_through
from tests.sink import Sink
from tests.supply_support import SECRET, SECRET_ENV, aim_partners


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink() as s:
        yield s


@pytest.fixture
def partner() -> Iterator[SandboxPartner]:
    with SandboxPartner(SECRET) as sandbox:
        yield sandbox


@pytest.fixture
def wroom(
    newsroom_dir: Path, db_url: str, sink: Sink, partner: SandboxPartner, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Newsroom]:
    aim_partners(newsroom_dir, partner.url)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    (newsroom_dir / "channels" / "sink.toml").write_text(
        f'kind = "sink"\ntitle = "测试接收端"\n[settings]\nurl = "{sink.url}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(newsroom_dir)
    assert ingest(room).ok
    seed_users(room)
    yield room
    room.close()


def approve(room: Newsroom, slug: str) -> None:
    service = ReviewService(room)
    service.submit(slug, "zhouwb")
    sign_through(room, service, slug)


def deliveries(room: Newsroom) -> list[Delivery]:
    with Session(room.engine) as s:
        return list(s.exec(select(Delivery).order_by(col(Delivery.id))))


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def settled(room: Newsroom, count: int) -> Callable[[], bool]:
    def check() -> bool:
        rows = deliveries(room)
        return len(rows) >= count and all(d.status in ("done", "failed", "held") for d in rows)

    return check


def page(room: Newsroom, slug: str) -> str:
    [found] = [p for p in (room.root / "public").rglob("*.html") if slug in p.as_posix()]
    return found.read_text(encoding="utf-8")


def release(room: Newsroom, slug: str, at: datetime) -> None:
    """On the website and the sink by schedule, and to every partner that takes it."""
    scheduling.schedule(room, slug, ["website", "sink"], at, "zhouwb")
    assert supply.supply_article(room, slug, "zhouwb", at=at, now=datetime.now(UTC)).scheduled


def test_the_long_running_worker_performs_a_correction_and_a_new_article_in_one_run(
    wroom: Newsroom, sink: Sink, partner: SandboxPartner
) -> None:
    approve(wroom, "article-2")
    release(wroom, "article-2", datetime.now(UTC) + timedelta(seconds=1))
    worker = DeliveryWorker(wroom, clock=RealClock())
    worker.start()
    try:
        # Later rounds run on APScheduler's pool: threads that never rendered anything before.
        assert wait_for(settled(wroom, 4)), [(d.status, d.last_error) for d in deliveries(wroom)]
        assert "正文第一段" in page(wroom, "article-2")

        # A correction of the live article, approved while the worker runs: the approval queues
        # the partners' update; the website gets the new revision by a new release.
        meta = base_meta("article-2", title="测试稿件第2篇")
        write_article(wroom.root / "content", "article-2.md", meta, "## 标题\n\n更正后的正文段落。\n")
        assert ingest(wroom).ok
        approve(wroom, "article-2")
        scheduling.schedule(
            wroom, "article-2", ["website"], datetime.now(UTC) + timedelta(seconds=1), "zhouwb"
        )
        # And an article nobody has rendered in this process yet, after the first round.
        approve(wroom, "article-3")
        release(wroom, "article-3", datetime.now(UTC) + timedelta(seconds=1))
        assert wait_for(settled(wroom, 11)), [(d.status, d.last_error) for d in deliveries(wroom)]
    finally:
        worker.request_stop()
        worker.shutdown()
    rows = deliveries(wroom)
    assert [d.status for d in rows] == ["done"] * len(rows), [(d.channel, d.last_error) for d in rows]
    assert "更正后的正文段落" in page(wroom, "article-2")
    assert "测试稿件第3篇" in page(wroom, "article-3")
    corrected = [p for p in partner.received.values() if "更正后的正文段落" in p.package.get("body_html", "")]
    assert len(corrected) == 1 and corrected[0].package["version"] == "2"
    assert sink.distinct == 2


def test_three_website_releases_due_at_the_same_instant_are_all_live_after_the_round(
    wroom: Newsroom,
) -> None:
    due = datetime.now(UTC)
    for slug in ("article-1", "article-2", "article-3"):
        approve(wroom, slug)
        scheduling.schedule(wroom, slug, ["website"], due, "zhouwb")
    assert DeliveryWorker(wroom).run_once() == 3
    for slug in ("article-1", "article-2", "article-3"):
        assert f"测试稿件第{slug[-1]}篇" in page(wroom, slug)
