"""The long-running worker (`publisher run`, APScheduler's threads): rounds that never wedge, waits
that never outlive a lease, one slow channel that does not hold back the others, and releases due
together on one website all live after their round."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from publisher.engine import retraction, scheduling
from publisher.engine.worker import DeliveryWorker
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.tables import Delivery
from publisher.supply import service as supply
from publisher.supply.sandbox import SandboxPartner
from tests.factory import base_meta, write_article
from tests.http_thread import serve_in_thread
from tests.review_helpers import approve, seed_users
from tests.sink import Sink
from tests.supply_support import SECRET, SECRET_ENV, aim_partners


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


@pytest.mark.slow
def test_the_long_running_worker_performs_a_correction_a_new_article_and_a_retraction_in_one_run(
    wroom: Newsroom, sink: Sink, partner: SandboxPartner, db_url: str
) -> None:
    approve(wroom, "article-2")
    release(wroom, "article-2", datetime.now(UTC) + timedelta(seconds=2))
    env = {**os.environ, "PUBLISHER_DATABASE_URL": db_url, "PUBLISHER_NEWSROOM": str(wroom.root)}
    # `publisher run` itself: APScheduler wakes it, and its rounds run on the scheduler's threads,
    # threads that have rendered nothing before.
    # --skip-doctor: this test newsroom's WeChat account has no secret and no sandbox behind it
    # (the doctor blocks on that); the test releases on other channels only.
    proc = subprocess.Popen(
        [sys.executable, "-m", "publisher", "run", "--skip-doctor"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
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
        assert "测试稿件第3篇" in page(wroom, "article-3")
        released = len(deliveries(wroom))

        # A retraction while the worker runs: recorded here, its takedowns performed by the worker.
        report = retraction.retract(wroom, "article-3", "数据有误，全文撤回", "zhouwb")
        assert report.channels and not report.complete

        def taken_down() -> bool:
            return all(c.state == "done" for c in retraction.progress(wroom, "article-3"))

        assert wait_for(taken_down), retraction.progress(wroom, "article-3")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, stderr
    rows = deliveries(wroom)
    assert [d.status for d in rows] == ["done"] * len(rows), [(d.channel, d.last_error) for d in rows]
    assert "更正后的正文段落" in page(wroom, "article-2")
    assert not [p for p in (wroom.root / "public").rglob("*.html") if "article-3" in p.as_posix()]
    killed = [p for p in partner.received.values() if p.package.get("pubstatus") == "canceled"]
    assert killed and all("article-3" in p.package["uri"] for p in killed)
    corrected = [p for p in partner.received.values() if "更正后的正文段落" in p.package.get("body_html", "")]
    assert len(corrected) == 1 and corrected[0].package["version"] == "2"
    assert sink.distinct == 3  # two releases, and the takedown of one of them
    # One line per release on the worker's output.
    assert sum(" done rev " in line for line in stderr.splitlines()) >= released, stderr


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


def test_a_partner_hanging_to_its_timeout_does_not_delay_releases_due_at_the_same_time(
    wroom: Newsroom, sink: Sink
) -> None:
    with Sink() as slow:
        slow.delay = 4.0  # a partner that answers only after four seconds
        (wroom.root / "channels" / "slow.toml").write_text(
            f'kind = "sink"\ntitle = "迟缓的合作方"\n[settings]\nurl = "{slow.url}"\n', encoding="utf-8"
        )
        room = Newsroom(wroom.root)
        try:
            approve(room, "article-1")
            due = datetime.now(UTC)
            # The slow channel's release is first in line (claimed first, performed first before).
            scheduling.schedule(room, "article-1", ["slow"], due, "zhouwb")
            scheduling.schedule(room, "article-1", ["sink", "website"], due, "zhouwb")
            assert DeliveryWorker(room).run_once() == 3
        finally:
            room.close()
        [fast_at] = sink.received_at.values()
        [slow_at] = slow.received_at.values()
    live_at = next((wroom.root / "public").rglob("article-1*.html")).stat().st_mtime
    assert fast_at - due.timestamp() < 1.0
    assert live_at - due.timestamp() < 2.0
    assert slow_at - due.timestamp() < 1.0  # sent on time too; only its answer was slow


class _Garbled(BaseHTTPRequestHandler):
    """A receiver that accepts and answers with a web page where JSON was promised."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b"<html>OK</html>"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_an_unexpected_error_in_one_delivery_is_its_own_retry_and_the_round_goes_on(
    wroom: Newsroom, sink: Sink
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Garbled)
    serve_in_thread(server)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/in"
        (wroom.root / "channels" / "garbled.toml").write_text(
            f'kind = "sink"\ntitle = "答非所问的接收端"\n[settings]\nurl = "{url}"\n', encoding="utf-8"
        )
        room = Newsroom(wroom.root)
        try:
            approve(room, "article-1")
            approve(room, "article-2")
            due = datetime.now(UTC)
            scheduling.schedule(room, "article-1", ["garbled"], due, "zhouwb")
            scheduling.schedule(room, "article-2", ["garbled", "sink"], due, "zhouwb")
            assert DeliveryWorker(room).run_once() == 1
        finally:
            room.close()
    finally:
        server.shutdown()
        server.server_close()
    rows = deliveries(wroom)
    garbled = [d for d in rows if d.channel == "garbled"]
    assert [d.status for d in garbled] == ["scheduled", "scheduled"]
    assert all(
        "unexpected error" in (d.last_error or "") and "JSONDecodeError" in (d.last_error or "")
        for d in garbled
    )
    assert all(d.next_attempt_at > due for d in garbled)
    assert [d.status for d in rows if d.channel == "sink"] == ["done"] and sink.distinct == 1
