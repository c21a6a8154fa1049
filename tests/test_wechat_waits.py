"""WeChat under a worker's lease: no wait inside a delivery outlives the claim, and a lost submit
answer is reconciled with this post only, never with another post of the same title."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from publisher.channels.wechat.adapter import WechatUncertain
from publisher.channels.wechat.sandbox import Post, State
from publisher.engine import scheduling
from publisher.engine.clock import FixedClock
from publisher.engine.worker import DeliveryWorker
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.service import ReviewService
from publisher.store.tables import Delivery, WechatPost
from tests.review_helpers import seed_users, sign_through
from tests.wechat_helpers import APP_ID, adapter, bundle, calls, fault, publish_now, sandbox_state

LEASE = 3.0


@pytest.fixture
def leased(
    newsroom_dir: Path, db_url: str, sb: tuple[State, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Newsroom]:
    """A newsroom whose workers hold claims for a few seconds, and a WeChat account left at the
    default waits (a quarter of an hour to follow a publication)."""
    with (newsroom_dir / "publisher.toml").open("a", encoding="utf-8") as f:
        # One attempt only: coming back for a publication in progress is no failed attempt.
        f.write(f"\n[engine]\nlease_seconds = {LEASE}\nbackoff_base_seconds = 1\nmax_attempts = 1\n")
    (newsroom_dir / "channels" / "wechat.toml").write_text(
        'kind = "wechat"\ntitle = "江澜人大（微信公众号）"\n[settings]\n'
        f'app_id = "{APP_ID}"\napp_secret_env = "PUBLISHER_WECHAT_SECRET"\napi_base = "{sb[1]}"\n'
        "sandbox = true\npushes_per_day = 20\nquiet_hours = []\npoll_seconds = 0.05\n"
        'default_cover = "channels/assets/wechat-default-cover.jpg"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(newsroom_dir)
    assert room.settings.engine.lease_seconds == LEASE
    assert not room.channels.problems, room.channels.problems
    assert ingest(room).ok
    seed_users(room)
    yield room
    room.close()


@pytest.mark.slow
def test_no_wait_for_wechat_outlives_the_lease(leased: Newsroom, sb: tuple[State, str]) -> None:
    state, base = sb
    with state.lock:
        state.publish_delay = 4 * LEASE  # WeChat takes longer to publish than a claim lasts
    service = ReviewService(leased)
    service.submit("article-1", "zhouwb")
    sign_through(leased, service, "article-1")
    scheduling.schedule(leased, "article-1", ["wechat"], datetime.now(UTC), "zhouwb")
    started = time.monotonic()
    assert DeliveryWorker(leased).run_once() == 0
    # Back long before the publication (drafting itself takes a moment on a loaded machine).
    assert time.monotonic() - started < 3 * LEASE
    with Session(leased.engine) as s:
        [delivery] = s.exec(select(Delivery)).all()
        [post] = s.exec(select(WechatPost)).all()
    # The state is in the database: the post is publishing, the delivery comes back for it.
    assert delivery.status == "scheduled" and "publishing" in (delivery.last_error or "")
    assert post.state == "publishing"
    # It comes back when it said it would (in PUBLISHING_POLL_SECONDS), on a clock standing at that
    # moment rather than by waiting for it: WeChat is still publishing, so it looks, waits no longer
    # than the lease allows, and says so again. Coming back is no failed attempt (max_attempts is 1).
    clock = FixedClock(delivery.next_attempt_at)
    started = time.monotonic()
    assert DeliveryWorker(leased, clock=clock).run_once() == 0
    assert time.monotonic() - started < 3 * LEASE
    with Session(leased.engine) as s:
        [delivery] = s.exec(select(Delivery)).all()
        [post] = s.exec(select(WechatPost)).all()
    assert delivery.status == "scheduled" and "publishing" in (delivery.last_error or "")
    assert post.state == "publishing" and delivery.next_attempt_at > clock.now()
    # WeChat finishes the publication (here, rather than after 4 leases on the wall clock); the
    # delivery's next look finds the post out.
    publish_now(state)
    clock.moment = delivery.next_attempt_at
    DeliveryWorker(leased, clock=clock).run_once()
    with Session(leased.engine) as s:
        [delivery] = s.exec(select(Delivery)).all()
    assert delivery.status == "done", delivery.last_error
    assert calls(sandbox_state(base), "freepublish/submit") == 1


def test_reconciling_a_lost_submit_never_takes_a_post_of_the_same_title_for_this_one(
    room: Newsroom, sb: tuple[State, str]
) -> None:
    state, base = sb
    wechat = adapter(room, base, timeout_seconds=0.3, reconcile_seconds=0.2)
    renditions = bundle(room, wechat, "article-1")
    # Someone published a post of the very same title by hand, in WeChat's own console, just now.
    other = {
        "title": renditions[0].title,
        "content": "<p>另一篇同题稿件的正文。</p>",
        "content_source_url": renditions[0].content_source_url,
        "url": f"{base}/s/ARTICLE_by_hand/1",
        "is_deleted": False,
    }
    with state.lock:
        state.posts["ARTICLE_by_hand"] = Post(
            "ARTICLE_by_hand", "PUB_by_hand", "MEDIA_by_hand", [other], int(time.time())
        )
    fault(base, "freepublish/submit", delay=1.0)  # our submit lands, its answer is lost
    with pytest.raises(WechatUncertain):
        wechat.deliver(renditions)
    time.sleep(1.5)  # the late submit publishes our post
    [receipt] = adapter(room, base, reconcile_seconds=2.0).deliver(renditions)
    assert receipt.status == "published"
    assert receipt.article_id != "ARTICLE_by_hand" and "ARTICLE_by_hand" not in (receipt.url or "")
    assert calls(sandbox_state(base), "freepublish/submit") == 1 and len(state.posts) == 2
