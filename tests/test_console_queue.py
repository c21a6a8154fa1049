"""发布 queue: per channel, state, reason, attempts, next try, and what went out."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from publisher.console.views.queue import channel_queue
from publisher.errors import PublisherError
from publisher.newsroom import Newsroom
from publisher.store.engine import write_session
from publisher.store.tables import Article, Delivery, WechatPost
from tests.console_world import NOW, build


def _delivery(room: Newsroom, slug: str, channel: str, status: str, **extra: object) -> None:
    with write_session(room.engine) as session:
        article = session.exec(select(Article).where(Article.slug == slug)).one()
        assert article.id is not None
        values: dict[str, object] = {
            "article_id": article.id,
            "channel": channel,
            "due_at": NOW - timedelta(hours=2),
            "status": status,
            "next_attempt_at": NOW - timedelta(hours=2),
            "idempotency_key": f"k-{slug}-{channel}-{status}",
            "created_by": "zhouwb",
            "created_at": NOW - timedelta(days=1),
            "updated_at": NOW,
        }
        values.update(extra)
        session.add(Delivery(**values))  # type: ignore[arg-type]


def test_what_went_out_shows_the_wechat_article_url_and_the_partner_receipt(room: Newsroom) -> None:
    world = build(room)
    with write_session(room.engine) as session:
        session.add(
            WechatPost(
                key="post-1",
                channel="wechat",
                app_id="wx",
                state="published",
                local_day="2026-11-25",
                articles_json=json.dumps(
                    [{"slug": world.scheduled, "url": "https://mp.weixin.qq.com/s/abc"}]
                ),
                created_at=NOW,
                updated_at=NOW,
            )
        )
    receipt = {"remote_id": "post-1", "url": None, "detail": {"post_key": "post-1"}}
    _delivery(room, world.scheduled, "wechat", "done", receipt_json=json.dumps(receipt), done_at=NOW)
    partner = {"remote_id": "remote-77", "url": "urn:newsml:jl:1", "detail": {}}
    _delivery(room, world.scheduled, "partner-provincial-daily", "done", receipt_json=json.dumps(partner))
    with Session(room.engine) as session:
        (wechat,) = channel_queue(session, "wechat").rows
        (supplied,) = channel_queue(session, "partner-provincial-daily").rows
    assert wechat.sent is not None and wechat.sent.url == "https://mp.weixin.qq.com/s/abc"
    assert wechat.sent.post_state == "published"
    assert supplied.sent is not None and (supplied.sent.remote_id, supplied.sent.url) == (
        "remote-77",
        "urn:newsml:jl:1",
    )


def test_states_filter_and_reasons_attempts_and_next_try_are_shown(room: Newsroom) -> None:
    world = build(room)
    _delivery(room, world.draft, "wechat", "held", last_error="未经审核 / not approved", attempts=1)
    _delivery(
        room,
        world.finance,
        "wechat",
        "scheduled",
        attempts=2,
        last_error="超时 / timeout",
        next_attempt_at=NOW + timedelta(minutes=5),
    )
    with Session(room.engine) as session:
        held = channel_queue(session, "wechat", states=["held"])
        every = channel_queue(session)
        with pytest.raises(PublisherError, match="unknown delivery state"):
            channel_queue(session, states=["lost"])
    (row,) = held.rows
    assert (row.slug, row.state, row.reason, row.attempts) == (
        world.draft,
        "held",
        "未经审核 / not approved",
        1,
    )
    retry = next(r for r in every.rows if r.slug == world.finance)
    assert retry.next_try_local == "2026-11-25 10:05 +0800" and retry.reason == "超时 / timeout"
    assert every.counts["wechat"] == {"held": 1, "scheduled": 1} and every.counts["website"] == {
        "scheduled": 1
    }
    assert every.page.total == 3


def test_pages_of_a_channel_queue(room: Newsroom) -> None:
    world = build(room)
    for status in ("done", "failed", "missed"):
        _delivery(room, world.finance, "wechat", status)
    with Session(room.engine) as session:
        first = channel_queue(session, "wechat", page=1, size=2)
        second = channel_queue(session, "wechat", page=2, size=2)
    assert (first.page.total, first.page.pages, len(first.rows), len(second.rows)) == (3, 2, 2, 1)
    assert not {r.id for r in first.rows} & {r.id for r in second.rows}
