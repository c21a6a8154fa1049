"""发布 over real HTTP: the queue per channel with filters and pages, cancel, retry and publish now
through the engine's services, and the roles and tokens that may not act."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from publisher.engine.publish_now import publish_now
from publisher.engine.scheduling import schedule
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import Delivery
from publisher.timeutil import utc_now
from tests.console_helpers import console_server, seed_staff, sign_in
from tests.review_helpers import approve


@pytest.fixture
def queued(room: Newsroom) -> Newsroom:
    assert ingest(room).ok
    seed_staff(room)
    approve(room, "article-1")
    return room


def deliveries(room: Newsroom) -> list[Delivery]:
    with read_session(room.engine) as session:
        return list(session.exec(select(Delivery).order_by(col(Delivery.id))))


def test_the_queue_counts_per_channel_filters_by_state_and_pages(queued: Newsroom) -> None:
    start = utc_now() + timedelta(days=1)
    for n in range(55):
        schedule(queued, "article-1", ["website"], start + timedelta(hours=n), "zhouwb", again=True)
    held = publish_now(queued, "article-2", ["website"], "zhouwb")  # not approved: the gate holds it
    assert held.channels[0].outcome == "held"
    with console_server(queued) as base:
        client, _ = sign_in(base, "wangxm")
        first = client.get("/queue")
        assert first.status_code == 200
        assert "共 56 项" in first.text and "第 1 / 2 页" in first.text
        second = client.get("/queue", params={"page": 2})
        assert "第 2 / 2 页" in second.text
        only_held = client.get("/queue", params={"channel": "website", "state": "held"})
        assert "共 1 项" in only_held.text and "暂缓" in only_held.text
        assert "重试" not in only_held.text  # an author sees the queue, not the acts
        unknown = client.get("/queue", params={"state": "lost"})
        assert unknown.status_code == 400 and "unknown delivery state" in unknown.text


def test_an_editor_cancels_retries_and_publishes_now(queued: Newsroom) -> None:
    later = schedule(queued, "article-1", ["website"], utc_now() + timedelta(days=2), "zhouwb").items[0]
    # The website, not WeChat: the newsroom's quiet hours (22:00-07:30) would defer a WeChat release
    # before the gate is asked, and this test must not depend on the hour it runs at.
    held = publish_now(queued, "article-2", ["website"], "zhouwb").channels[0]
    assert held.outcome == "held"
    with console_server(queued) as base:
        client, csrf = sign_in(base, "zhouwb")
        canceled = client.post(f"/queue/{later.delivery_id}/cancel", data={"csrf_token": csrf})
        assert canceled.status_code == 200 and "已取消 article-1 在 website 的 1 项待发" in canceled.text
        retried = client.post(f"/queue/{held.delivery_id}/retry", data={"csrf_token": csrf})
        assert (
            retried.status_code == 200
            and "已重新安排 article-2" in retried.text
            and "not approved yet" in retried.text
        )
        now = client.post(f"/queue/{later.delivery_id}/publish", data={"csrf_token": csrf})
        assert now.status_code == 200 and "立即发布 article-1" in now.text and "website：已发出" in now.text
    states = {(d.article_id, d.channel, d.status) for d in deliveries(queued)}
    assert any(s == "canceled" for _, _, s in states)
    assert any(ch == "website" and s == "done" for _, ch, s in states)
    # article-1's website releases are canceled or done: the one waiting is article-2's, retried.
    assert any(ch == "website" and s in ("scheduled", "held") for _, ch, s in states)


def test_an_author_may_not_cancel_and_a_forged_request_is_refused(queued: Newsroom) -> None:
    later = schedule(queued, "article-1", ["website"], utc_now() + timedelta(days=2), "zhouwb").items[0]
    with console_server(queued) as base:
        author, csrf = sign_in(base, "wangxm")
        assert author.post(f"/queue/{later.delivery_id}/cancel", data={"csrf_token": csrf}).status_code == 403
        editor, _ = sign_in(base, "zhouwb")
        assert editor.post(f"/queue/{later.delivery_id}/publish", data={}).status_code == 403
        assert editor.post("/queue/999999/cancel", headers={"x-csrf-token": "nope"}).status_code == 403
    (release,) = deliveries(queued)
    assert release.status == "scheduled"
