"""The WeChat channel end to end: the real wechatpy client over HTTP against the local sandbox."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlmodel import select
from wechatpy.exceptions import WeChatClientException

from publisher.channels.wechat.adapter import WechatDeferred, WechatRefused, WechatUncertain, bundle_key
from publisher.channels.wechat.client import ApiClient, DatabaseTokenStore, MemoryTokenStore
from publisher.channels.wechat.sandbox import State
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import WechatPost, WechatToken
from tests.factory import base_meta, write_article, write_image
from tests.http_thread import serve_in_thread
from tests.wechat_helpers import APP_ID, adapter, bundle, calls, fault, publish_now, sandbox_state

THREE = ("article-1", "article-2", "article-3")


def _png(size: tuple[int, int] = (120, 80)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


# -- the whole flow ----------------------------------------------------------------------------------
def test_bundle_of_three_from_images_to_published_urls(room: Newsroom, sb: tuple[State, str]) -> None:
    state, base = sb
    wechat = adapter(room, base)
    renditions = bundle(room, wechat, "article-2", "article-1", "article-3")
    receipts = wechat.deliver(renditions)

    assert [r.status for r in receipts] == ["published"] * 3
    assert [r.index for r in receipts] == [1, 2, 3]  # headline first, then by priority
    assert [r.slug for r in receipts] == ["article-2", "article-1", "article-3"]
    article_id = receipts[0].article_id
    assert article_id and {r.remote_id for r in receipts} == {f"{article_id}:{i}" for i in (1, 2, 3)}
    for receipt in receipts:
        assert receipt.url is not None and receipt.url.startswith(f"{base}/s/{article_id}/")
        assert httpx.get(receipt.url).status_code == 200

    seen = sandbox_state(base)
    assert calls(seen, "media/uploadimg") == 1  # article-1's body image
    # article-1's cover, and the covers drawn for article-2 and article-3 (they have none)
    assert calls(seen, "material/add_material") == 3
    assert calls(seen, "draft/add") == 1 and calls(seen, "freepublish/submit") == 1
    post = next(iter(state.posts.values()))
    assert len(post.articles) == 3
    with_image = post.articles[1]
    assert "mmbiz.qpic.cn" in with_image["content"] and "wxasset:" not in with_image["content"]
    for article in post.articles:
        assert article["pic_crop_235_1"] and article["pic_crop_1_1"]
        assert article["content_source_url"].endswith(".html")

    # Delivering again is idempotent: the same receipts, nothing new on WeChat's side.
    again = wechat.deliver(renditions)
    assert again == receipts
    assert calls(sandbox_state(base), "freepublish/submit") == 1

    # A second bundle with the same images reuses the uploads (cached by sha256).
    wechat.deliver(bundle(room, wechat, "article-1"), key="second")
    seen = sandbox_state(base)
    assert calls(seen, "media/uploadimg") == 1 and calls(seen, "material/add_material") == 3


def test_receipts_come_back_in_the_order_given(room: Newsroom, sb: tuple[State, str]) -> None:
    _, base = sb
    wechat = adapter(room, base)
    low, high = bundle(room, wechat, "article-3", "article-2")
    receipts = wechat.deliver([low, high])
    assert [r.slug for r in receipts] == ["article-3", "article-2"]
    assert [r.index for r in receipts] == [1, 2]  # article-3 is the headline


# -- tokens ----------------------------------------------------------------------------------------
def test_token_expires_mid_flow(room: Newsroom, sb: tuple[State, str]) -> None:
    _, base = sb
    wechat = adapter(room, base)
    fault(base, "draft/add", expire=True)  # every token runs out just as the draft is added
    receipts = wechat.deliver(bundle(room, wechat, *THREE))
    assert [r.status for r in receipts] == ["published"] * 3
    seen = sandbox_state(base)
    assert seen["tokens_issued"] == 2 and calls(seen, "draft/add") == 2
    with read_session(room.engine) as session:
        token = session.get(WechatToken, APP_ID)
    assert token is not None and token.fetches == 2


def test_token_refreshed_once_for_all_workers(room: Newsroom, sb: tuple[State, str]) -> None:
    _, base = sb
    clients = [
        ApiClient(APP_ID, "x", api_base=base, tokens=DatabaseTokenStore(room.engine), timeout=10)
        for _ in range(6)
    ]
    clients[0].draft.count()
    assert sandbox_state(base)["tokens_issued"] == 1
    httpx.post(f"{base}/sandbox/expire-tokens").raise_for_status()
    errors: list[BaseException] = []

    def work(client: ApiClient) -> None:
        try:
            client.draft.count()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sandbox_state(base)["tokens_issued"] == 2  # six workers, one refresh


def test_token_retry_is_bounded(sb: tuple[State, str]) -> None:
    _, base = sb
    client = ApiClient(APP_ID, "x", api_base=base, tokens=MemoryTokenStore(), timeout=5)
    fault(base, "draft/count", errcode=42001, count=10_000)
    with pytest.raises(WeChatClientException) as caught:
        client.draft.count()  # stock wechatpy recurses here until RecursionError
    assert caught.value.errcode == 42001
    assert calls(sandbox_state(base), "draft/count") == 2


def test_retried_upload_sends_the_whole_file(sb: tuple[State, str]) -> None:
    _, base = sb
    client = ApiClient(APP_ID, "x", api_base=base, tokens=MemoryTokenStore(), timeout=5)
    data = _png()
    fault(base, "media/uploadimg", errcode=40001)
    url = client.media.upload_image(io.BytesIO(data))  # a file object, read by the first attempt
    assert url.startswith("http://mmbiz.qpic.cn/")
    fault(base, "material/add_material", errcode=40001)
    assert client.material.add("image", io.BytesIO(data))["media_id"]
    seen = sandbox_state(base)
    assert calls(seen, "media/uploadimg") == 2 and calls(seen, "material/add_material") == 2
    assert [u["size"] for u in seen["uploads"]] == [len(data), len(data)]
    served = httpx.get(f"{base}/mmbiz/{url.split('/')[4]}")
    assert served.content == data


def test_retried_upload_inside_delivery(room: Newsroom, sb: tuple[State, str]) -> None:
    _, base = sb
    wechat = adapter(room, base)
    fault(base, "media/uploadimg", errcode=40001)
    receipts = wechat.deliver(bundle(room, wechat, "article-1"))
    assert receipts[0].status == "published"
    seen = sandbox_state(base)
    assert calls(seen, "media/uploadimg") == 2
    assert all(u["size"] > 0 for u in seen["uploads"])


# -- rate limits and quotas ------------------------------------------------------------------------
def test_45009_defers_to_the_next_local_day_at_once_instead_of_sleeping(
    room: Newsroom, sb: tuple[State, str]
) -> None:
    _, base = sb
    wechat = adapter(room, base)
    slept: list[float] = []
    wechat.sleep = slept.append
    wechat.clock = lambda: datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
    fault(base, "draft/add", errcode=45009, count=100)
    renditions = bundle(room, wechat, "article-2")
    started = time.monotonic()
    with pytest.raises(WechatDeferred) as caught:
        wechat.deliver(renditions)
    # A daily quota: the next try is tomorrow, newsroom time; nothing waited inside the call.
    assert caught.value.retryable and caught.value.retry_at == datetime(
        2026, 12, 5, 0, 0, tzinfo=room.settings.tz
    )
    assert time.monotonic() - started < 5 and slept == []
    assert calls(sandbox_state(base), "draft/add") == 1
    with read_session(room.engine) as session:
        assert session.exec(select(WechatPost)).all() == []
    httpx.post(f"{base}/sandbox/faults", json={"path": "draft/add", "count": 0})
    reset_faults(sb[0])
    assert wechat.deliver(renditions)[0].status == "published"


def reset_faults(state: State) -> None:
    with state.lock:
        state.faults.clear()


def test_pushes_per_day_defers_to_tomorrow(room: Newsroom, sb: tuple[State, str]) -> None:
    _, base = sb
    at = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
    wechat = adapter(room, base, pushes_per_day=1)
    wechat.clock = lambda: at
    assert wechat.deliver(bundle(room, wechat, "article-1"))[0].status == "published"
    with pytest.raises(WechatDeferred) as caught:
        wechat.deliver(bundle(room, wechat, "article-2"))
    assert caught.value.retry_at == datetime(2026, 12, 5, 0, 0, tzinfo=room.settings.tz)
    assert calls(sandbox_state(base), "freepublish/submit") == 1


def test_quiet_hours_defer_until_they_end(room: Newsroom, sb: tuple[State, str]) -> None:
    _, base = sb
    wechat = adapter(room, base, quiet_hours=["23:00-06:30"])
    wechat.clock = lambda: datetime(2026, 12, 4, 15, 30, tzinfo=UTC)  # 23:30 local
    with pytest.raises(WechatDeferred) as caught:
        wechat.deliver(bundle(room, wechat, "article-1"))
    assert caught.value.retry_at == datetime(2026, 12, 5, 6, 30, tzinfo=room.settings.tz)
    assert calls(sandbox_state(base), "freepublish/submit") == 0
    wechat.clock = lambda: datetime(2026, 12, 4, 23, 0, tzinfo=UTC)  # 07:00 local: the same post goes
    assert wechat.deliver(bundle(room, wechat, "article-1"))[0].status == "published"
    assert calls(sandbox_state(base), "draft/add") == 1


def test_mass_sending_account_sends_once(room: Newsroom, sb: tuple[State, str]) -> None:
    state, base = sb
    wechat = adapter(room, base, mass_send=True, pushes_per_day=1)
    receipts = wechat.deliver(bundle(room, wechat, "article-1", "article-2"))
    assert [r.status for r in receipts] == ["published", "published"]
    assert len(state.mass_sends) == 1
    wechat.deliver(bundle(room, wechat, "article-1", "article-2"))
    assert len(state.mass_sends) == 1


# -- lost answers ----------------------------------------------------------------------------------
def test_timed_out_submit_does_not_publish_twice(room: Newsroom, sb: tuple[State, str]) -> None:
    state, base = sb
    wechat = adapter(room, base, timeout_seconds=0.5, reconcile_seconds=10.0)
    fault(base, "freepublish/submit", delay=1.0)  # WeChat performs it, the answer comes too late
    renditions = bundle(room, wechat, *THREE)
    receipts = wechat.deliver(renditions)
    assert [r.status for r in receipts] == ["published"] * 3
    assert all(r.url for r in receipts)
    assert calls(sandbox_state(base), "freepublish/submit") == 1
    assert len(state.posts) == 1
    assert wechat.deliver(renditions) == receipts
    assert calls(sandbox_state(base), "freepublish/submit") == 1


def test_unreconciled_submit_is_unknown_then_found(room: Newsroom, sb: tuple[State, str]) -> None:
    state, base = sb
    wechat = adapter(room, base, timeout_seconds=0.3, reconcile_seconds=0.2)
    fault(base, "freepublish/submit", delay=1.0)
    # The post appears long after the reconciliation gave up, even on a loaded machine.
    httpx.post(f"{base}/sandbox/publish-outcome", json={"status": 0, "delay": 4.0}).raise_for_status()
    renditions = bundle(room, wechat, "article-1", "article-2")
    with pytest.raises(WechatUncertain):
        wechat.deliver(renditions)
    with read_session(room.engine) as session:
        post = session.get(WechatPost, bundle_key("wechat", renditions))
    assert post is not None and post.state == "unknown"
    publish_now(state)  # the late submit lands, and WeChat publishes it (here, not 4 s later)
    wechat = adapter(room, base, reconcile_seconds=2.0)
    receipts = wechat.deliver(renditions)
    assert [r.status for r in receipts] == ["published", "published"]
    assert calls(sandbox_state(base), "freepublish/submit") == 1 and len(state.posts) == 1


# -- publication outcomes --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "expected", "reason"),
    [(2, "failed", "原创"), (3, "failed", "常规发布失败"), (4, "rejected", "平台审核不通过")],
)
def test_failed_review_status_is_reported(
    room: Newsroom, sb: tuple[State, str], status: int, expected: str, reason: str
) -> None:
    _, base = sb
    httpx.post(f"{base}/sandbox/publish-outcome", json={"status": status, "fail_idx": [2]}).raise_for_status()
    wechat = adapter(room, base)
    receipts = wechat.deliver(bundle(room, wechat, *THREE))
    assert [r.status for r in receipts] == [expected] * 3
    assert all(reason in r.detail for r in receipts)
    assert "本篇未通过" in receipts[1].detail and "另有文章未通过" in receipts[0].detail
    assert all(r.url is None for r in receipts)


def test_deleted_and_blocked_posts_are_reported(room: Newsroom, sb: tuple[State, str]) -> None:
    _, base = sb
    wechat = adapter(room, base)
    receipts = wechat.deliver(bundle(room, wechat, "article-1", "article-2"))
    httpx.post(f"{base}/sandbox/ban/{receipts[0].article_id}").raise_for_status()
    refreshed = wechat.refresh(receipts[0])
    assert [r.status for r in refreshed] == ["banned", "banned"]
    assert "封禁" in refreshed[0].detail


def test_publish_job_finish_event_settles_the_post(room: Newsroom, sb: tuple[State, str]) -> None:
    state, base = sb
    events: list[bytes] = []

    class Callback(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            events.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"success")

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Callback)
    serve_in_thread(server)
    try:
        state.callback_url = f"http://127.0.0.1:{server.server_address[1]}/wechat/events"
        wechat = adapter(room, base, publish_wait_seconds=0.0, callback=True)
        receipts = wechat.deliver(bundle(room, wechat, "article-1", "article-3"))
        assert [r.status for r in receipts] == ["publishing", "publishing"]
        deadline = time.time() + 5
        while not events and time.time() < deadline:
            httpx.get(f"{base}/")  # the sandbox settles due jobs when anything is asked of it
            time.sleep(0.05)
        assert events, "no PUBLISHJOBFINISH event arrived"
        settled = wechat.on_publish_event(events[0].decode("utf-8"))
        assert [r.status for r in settled] == ["published", "published"]
        assert all(r.url and r.url.startswith(base) for r in settled)
        assert wechat.deliver(bundle(room, wechat, "article-1", "article-3")) == settled
    finally:
        server.shutdown()


# -- retraction ------------------------------------------------------------------------------------
def test_retract_one_article_out_of_three(room: Newsroom, sb: tuple[State, str]) -> None:
    state, base = sb
    wechat = adapter(room, base)
    receipts = wechat.deliver(bundle(room, wechat, *THREE))
    retracted = wechat.retract(receipts[1])
    assert retracted.status == "retracted" and retracted.index == 2
    post = state.posts[receipts[0].article_id or ""]
    assert [a["is_deleted"] for a in post.articles] == [False, True, False]
    assert httpx.get(receipts[0].url or "").text.count("此内容已被发布者删除") == 0
    assert "此内容已被发布者删除" in httpx.get(receipts[1].url or "").text
    assert wechat.retract(receipts[1]) == retracted  # again: nothing more is deleted
    assert calls(sandbox_state(base), "freepublish/delete") == 1

    # Retracting the rest: the last one deletes the whole post (index 0).
    wechat.retract(receipts[0])
    wechat.retract(receipts[2])
    assert all(a["is_deleted"] for a in post.articles)
    answer = httpx.post(
        f"{base}/cgi-bin/freepublish/get",
        params={"access_token": state.current_token or ""},
        json={"publish_id": post.publish_id},
    ).json()
    assert answer["publish_status"] == 5


def test_retract_refuses_what_was_never_published(room: Newsroom, sb: tuple[State, str]) -> None:
    _, base = sb
    wechat = adapter(room, base)
    receipts = wechat.deliver(bundle(room, wechat, "article-2"))
    bogus = receipts[0].__class__(**{**receipts[0].as_dict(), "post_key": "nope"})
    with pytest.raises(WechatRefused):
        wechat.retract(bogus)


# -- sandbox validations the adapter relies on -----------------------------------------------------
def test_sandbox_refuses_what_wechat_refuses(sb: tuple[State, str]) -> None:
    _, base = sb
    client = ApiClient(APP_ID, "x", api_base=base, tokens=MemoryTokenStore(), timeout=5)
    media_id = client.material.add("image", ("c.png", _png(), "image/png"))["media_id"]
    good = {"title": "标题", "content": "<p>正文</p>", "thumb_media_id": media_id}

    def refused(**changes: Any) -> int:
        with pytest.raises(WeChatClientException) as caught:
            client.post("draft/add", data={"articles": [{**good, **changes}]})
        return int(caught.value.errcode)

    assert refused(title="长" * 33) == 45003
    assert refused(author="名" * 17) == 45110
    assert refused(digest="摘" * 129) == 45004
    assert refused(content="<p>" + "字" * 20_000 + "</p>") == 45002
    assert refused(content='<p><img src="https://example.org/a.png"></p>') == 45166
    assert refused(thumb_media_id="MEDIA_missing") == 40007
    with pytest.raises(WeChatClientException) as caught:
        client.media.upload_image(("a.gif", _gif(), "image/gif"))
    assert caught.value.errcode == 40005
    assert client.post("draft/add", data={"articles": [good]})["media_id"]
    assert client.draft.count()["total_count"] == 1


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    return out.getvalue()


def test_gate_holds_unapproved_articles(room: Newsroom, sb: tuple[State, str]) -> None:
    _, base = sb
    wechat = adapter(room, base, gate=True)
    receipts = wechat.deliver(bundle(room, wechat, "article-1"))
    assert receipts[0].status == "held" and "审核" in receipts[0].detail
    assert calls(sandbox_state(base), "draft/add") == 0


def test_gif_and_large_images_are_converted(room: Newsroom, sb: tuple[State, str]) -> None:
    _, base = sb
    content = room.content_dir
    noisy = Image.effect_noise((1400, 1400), 90).convert("RGB")
    noisy.save(content / "images" / "big.png")
    assert (content / "images" / "big.png").stat().st_size > 1024 * 1024
    Image.new("P", (30, 30)).save(content / "images" / "anim.gif")
    write_image(content / "images" / "c2.png")
    meta = base_meta("with-images", title="图片转换", cover="images/c2.png")
    write_article(content, "with-images.md", meta, "![大图](images/big.png)\n\n![动图](images/anim.gif)\n")
    wechat = adapter(room, base)
    receipts = wechat.deliver(bundle(room, wechat, "with-images"))
    assert receipts[0].status == "published"
    sizes = [u["size"] for u in sandbox_state(base)["uploads"] if u["path"] == "media/uploadimg"]
    assert len(sizes) == 2 and all(0 < s < 1024 * 1024 for s in sizes)


def test_settings_validation(tmp_path: Path) -> None:
    from publisher.channels.registry import load_channels

    folder = tmp_path / "channels"
    folder.mkdir()
    (folder / "wx.toml").write_text(
        'kind = "wechat"\ntitle = "t"\n[settings]\napp_id = "a"\napp_secret_env = "S"\n'
        'mass_send = true\npushes_per_day = 2\nquiet_hours = ["25:00-01:00"]\n',
        encoding="utf-8",
    )
    found = load_channels(folder, tmp_path)
    reasons = " ".join(p.reason for p in found.problems)
    assert "HH:MM-HH:MM" in reasons
    (folder / "wx.toml").write_text(
        'kind = "wechat"\ntitle = "t"\n[settings]\napp_id = "a"\napp_secret_env = "S"\n'
        "mass_send = true\npushes_per_day = 2\n",
        encoding="utf-8",
    )
    assert "一次" in " ".join(p.reason for p in load_channels(folder, tmp_path).problems)


# -- review and the gate ---------------------------------------------------------------------------
def test_review_refuses_a_title_over_the_wechat_limit(room: Newsroom) -> None:
    from publisher.ingest import ingest
    from publisher.review.service import ReviewService
    from publisher.review.workflow import ReviewRefused
    from tests.review_helpers import seed_users

    write_article(room.content_dir, "long.md", base_meta("long-title", title="标" * 33))
    ingest(room, actor="test")
    seed_users(room)
    with pytest.raises(ReviewRefused) as caught:
        ReviewService(room).submit("long-title", "liangyu")
    assert "wechat" in str(caught.value) and "32" in str(caught.value)


def test_gate_lets_the_approved_revision_through(room: Newsroom, sb: tuple[State, str]) -> None:
    from publisher.review import walk
    from publisher.review.service import ReviewService
    from tests.review_helpers import seed_users

    _, base = sb
    wechat = adapter(room, base, gate=True)
    renditions = bundle(room, wechat, "article-2", "article-3")
    seed_users(room)
    service = ReviewService(room)
    service.submit("article-2", "liangyu")
    walk.sign_through(service, "article-2", acknowledge=True)
    receipts = wechat.deliver(renditions)
    assert [r.status for r in receipts] == ["published", "held"]
    assert len(sb[0].posts) == 1 and len(next(iter(sb[0].posts.values())).articles) == 1


def test_a_held_article_is_not_added_to_a_post_later(room: Newsroom, sb: tuple[State, str]) -> None:
    from publisher.review import walk
    from publisher.review.service import ReviewService
    from tests.review_helpers import seed_users

    _, base = sb
    wechat = adapter(room, base, gate=True)
    renditions = bundle(room, wechat, "article-2", "article-3")
    seed_users(room)
    service = ReviewService(room)
    service.submit("article-2", "liangyu")
    walk.sign_through(service, "article-2", acknowledge=True)
    wechat.deliver(renditions)
    service.submit("article-3", "liangyu")
    walk.sign_through(service, "article-3", acknowledge=True)
    again = wechat.deliver(renditions)  # the same bundle: the post exists, article-3 is not in it
    assert [r.status for r in again] == ["published", "held"]
    assert calls(sandbox_state(base), "freepublish/submit") == 1
    alone = wechat.deliver([renditions[1]])
    assert alone[0].status == "published"
