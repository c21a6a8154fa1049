"""The engine publishing through real channel adapters at the due time: WeChat (sandbox) and the site."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from publisher.channels.wechat.sandbox import State, running
from publisher.cli import app
from publisher.engine import retraction, scheduling
from publisher.engine.clock import FixedClock
from publisher.engine.worker import DeliveryWorker
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.tables import Delivery
from tests.review_helpers import approve, seed_users
from tests.wechat_helpers import APP_ID, sandbox_state


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with running(State(app_id=APP_ID, secret=None, publish_delay=0.15)) as base:
        yield base


@pytest.fixture
def wroom(
    newsroom_dir: Path, db_url: str, sandbox: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Newsroom]:
    (newsroom_dir / "channels" / "wechat.toml").write_text(
        'kind = "wechat"\ntitle = "江澜人大（微信公众号）"\n[settings]\n'
        f'app_id = "{APP_ID}"\napp_secret_env = "PUBLISHER_WECHAT_SECRET"\napi_base = "{sandbox}"\n'
        "sandbox = true\npushes_per_day = 20\nquiet_hours = []\npoll_seconds = 0.05\n"
        'default_cover = "channels/assets/wechat-default-cover.jpg"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(newsroom_dir)
    assert not room.channels.problems, room.channels.problems
    assert ingest(room).ok
    seed_users(room)
    yield room
    room.close()


def test_due_wechat_release_is_published_once_and_its_url_recorded(wroom: Newsroom, sandbox: str) -> None:
    approve(wroom, "article-1")
    before = sandbox_state(sandbox)["calls"].get("freepublish/submit", 0)
    scheduling.schedule(wroom, "article-1", ["wechat"], datetime.now(UTC), "zhouwb")
    scheduling.schedule(wroom, "article-2", ["wechat"], datetime.now(UTC), "zhouwb")  # not approved
    assert DeliveryWorker(wroom).run_once() == 1
    assert DeliveryWorker(wroom).run_once() == 0
    with Session(wroom.engine) as s:
        rows = {d.article_id: d for d in s.exec(select(Delivery).order_by(col(Delivery.id)))}
    done, held = rows.values()
    assert done.status == "done" and held.status == "held"
    receipt = json.loads(done.receipt_json or "{}")
    assert receipt["url"] and receipt["detail"]["status"] == "published"
    assert sandbox_state(sandbox)["calls"].get("freepublish/submit", 0) == before + 1


def test_website_release_goes_live_at_its_time(wroom: Newsroom) -> None:
    approve(wroom, "article-2")
    scheduling.schedule(wroom, "article-2", ["website", "site-feed"], datetime.now(UTC), "zhouwb")
    assert DeliveryWorker(wroom).run_once() == 2
    public = wroom.root / "public"
    assert list(public.rglob("article-2*"))
    feed = next(public.rglob("*.xml"))
    assert feed.is_file()
    with Session(wroom.engine) as s:
        urls = [json.loads(d.receipt_json or "{}").get("url") for d in s.exec(select(Delivery))]
    assert all(u and "article-2" in u for u in urls)


def test_releases_due_together_go_as_one_wechat_post(wroom: Newsroom, sandbox: str) -> None:
    for slug in ("article-1", "article-2", "article-3"):
        approve(wroom, slug)
    before = sandbox_state(sandbox)["calls"].get("freepublish/submit", 0)
    due = datetime.now(UTC)
    for slug in ("article-3", "article-1", "article-2"):
        scheduling.schedule(wroom, slug, ["wechat"], due, "zhouwb")
    assert DeliveryWorker(wroom).run_once() == 3
    assert sandbox_state(sandbox)["calls"].get("freepublish/submit", 0) == before + 1  # one post
    with Session(wroom.engine) as s:
        receipts = [
            json.loads(d.receipt_json or "{}") for d in s.exec(select(Delivery).order_by(col(Delivery.id)))
        ]
    posts = {r["detail"]["post_key"] for r in receipts}
    indexes = sorted(r["detail"]["index"] for r in receipts)
    assert len(posts) == 1 and indexes == [1, 2, 3]
    assert receipts[0]["detail"]["index"] == 1  # the first scheduled leads the post


def test_retract_takes_the_article_off_wechat_too(wroom: Newsroom, sandbox: str) -> None:
    for slug in ("article-1", "article-2"):
        approve(wroom, slug)
    due = datetime.now(UTC)
    for slug in ("article-1", "article-2"):
        scheduling.schedule(wroom, slug, ["wechat"], due, "zhouwb")
    assert DeliveryWorker(wroom).run_once() == 2
    deletes = sandbox_state(sandbox)["calls"].get("freepublish/delete", 0)
    report = retraction.take_down_now(wroom, retraction.retract(wroom, "article-2", "数据有误", "zhouwb"))
    assert "wechat" in {c.channel for c in report.channels} and report.complete
    assert sandbox_state(sandbox)["calls"].get("freepublish/delete", 0) == deletes + 1


@pytest.mark.parametrize("policy", ["note", "republish"])
def test_an_approved_correction_leaves_the_wechat_post_as_the_channel_policy_says(
    wroom: Newsroom, sandbox: str, policy: str
) -> None:
    from publisher.engine.corrections import follow_corrections
    from publisher.store.tables import AuditEvent
    from tests.conftest import reopen
    from tests.factory import base_meta, write_article

    if policy == "republish":
        path = wroom.root / "channels" / "wechat.toml"
        path.write_text(
            path.read_text(encoding="utf-8").replace(
                "[settings]\n", '[settings]\non_correction = "republish"\n'
            ),
            encoding="utf-8",
        )
        wroom = reopen(wroom)
    approve(wroom, "article-2")
    scheduling.schedule(wroom, "article-2", ["wechat"], datetime.now(UTC), "zhouwb")
    assert DeliveryWorker(wroom).run_once() == 1
    submits = sandbox_state(sandbox)["calls"].get("freepublish/submit", 0)
    write_article(
        wroom.root / "content",
        "article-2.md",
        base_meta("article-2", title="测试稿件第2篇"),
        "## 标题\n\n更正稿。\n",
    )
    assert ingest(wroom).revised
    approve(wroom, "article-2")
    deletes = sandbox_state(sandbox)["calls"].get("freepublish/delete", 0)
    queued = follow_corrections(wroom, "zhouwb", slug="article-2").queued
    assert follow_corrections(wroom, "zhouwb", slug="article-2").queued == []  # asked again: nothing more
    with Session(wroom.engine) as s:
        intents = s.exec(select(AuditEvent).where(AuditEvent.action == "correction.republish")).all()
        actions = sorted(d.action for d in s.exec(select(Delivery)).all())
    assert len(intents) == (1 if policy == "republish" else 0)  # recorded once, however often asked
    if policy == "note":
        # The API cannot edit a published post: nothing is sent, the post is listed as behind.
        assert queued == [] and actions == ["publish"]
        assert DeliveryWorker(wroom).run_once() == 0
        assert sandbox_state(sandbox)["calls"].get("freepublish/submit", 0) == submits
        result = CliRunner().invoke(
            app,
            ["articles", "--json"],
            env={
                "PUBLISHER_NEWSROOM": str(wroom.root),
                "PUBLISHER_DATABASE_URL": os.environ["PUBLISHER_DATABASE_URL"],
            },
        )
        listing = {a["slug"]: a for a in json.loads(result.stdout)}
        assert listing["article-2"]["state"] == "correction_pending"
        assert listing["article-2"]["channels_behind"] == [{"channel": "wechat", "live": 1, "policy": policy}]
        return
    # Republish: the old post is deleted and the corrected one published, by the engine.
    assert actions == ["kill", "publish", "publish"]  # queued by the approval itself
    assert DeliveryWorker(wroom).run_once() == 2
    calls = sandbox_state(sandbox)["calls"]
    assert calls.get("freepublish/delete", 0) == deletes + 1
    assert calls.get("freepublish/submit", 0) == submits + 1
    with Session(wroom.engine) as s:
        assert all(d.status == "done" for d in s.exec(select(Delivery)).all())
    # A later retraction still takes the corrected post down.
    report = retraction.take_down_now(wroom, retraction.retract(wroom, "article-2", "数据有误", "zhouwb"))
    assert report.complete
    assert sandbox_state(sandbox)["calls"].get("freepublish/delete", 0) == deletes + 2


def test_the_accounts_quiet_hours_are_judged_on_the_engines_clock_not_the_wall(
    wroom: Newsroom, sandbox: str
) -> None:
    # Noon is quiet for this account; the engine's clock says 12:30 for one run and 10:00 for the
    # next. Judged on the wall instead, one of the two runs goes the wrong way whatever the hour.
    path = wroom.root / "channels" / "wechat.toml"
    path.write_text(path.read_text().replace("quiet_hours = []", 'quiet_hours = ["12:00-13:00"]'))
    room = Newsroom(wroom.root)  # the next run reads the account's settings afresh
    try:
        approve(room, "article-1")
        noon = datetime(2026, 12, 8, 4, 30, tzinfo=UTC)  # 12:30 in Shanghai
        scheduling.schedule(room, "article-1", ["wechat"], noon, "zhouwb", now=noon - timedelta(hours=1))
        assert DeliveryWorker(room, clock=FixedClock(noon)).run_once() == 0
        with Session(room.engine) as s:
            [deferred] = s.exec(select(Delivery))
        assert deferred.status == "scheduled" and "静默时段" in (deferred.last_error or "")
        assert deferred.next_attempt_at == datetime(2026, 12, 8, 5, 0, tzinfo=UTC)  # 13:00 there
        afternoon = datetime(2026, 12, 8, 5, 0, tzinfo=UTC)
        assert DeliveryWorker(room, clock=FixedClock(afternoon)).run_once() == 1
    finally:
        room.close()
