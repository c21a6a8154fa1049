"""工作台, 稿件, 审核 and 通知 over real HTTP: what each person sees, the review acts bound to the
revision shown, previews in sandboxed frames, shared links, and hostile Markdown kept inert."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select

from publisher.auth.identity import Identity, Via
from publisher.auth.shares import share_preview
from publisher.engine.scheduling import schedule
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.service import ReviewService
from publisher.store.engine import read_session
from publisher.store.tables import AuditEvent, ReviewAct, ReviewState
from publisher.timeutil import utc_now
from tests.console_helpers import console_server, seed_staff, sign_in
from tests.console_world import NOW, World, build
from tests.factory import base_meta, write_article
from tests.query_count import counting

HOSTILE_TITLE = "<script>alert('t')</script>标题"
HOSTILE_BODY = (
    "导语<script>alert('b')</script>\n\n"
    "[点我](javascript:alert('l'))\n\n"
    '<img src="images/cover.png" onerror="alert(\'i\')">\n\n'
    "正文第二段。\n"
)


@pytest.fixture
def world(room: Newsroom) -> World:
    made = build(room)
    seed_staff(room)
    return made


def _hash_on(html: str) -> str:
    found = re.search(r'name="revision" value="([0-9a-f]{64})"', html)
    assert found, "no revision hash in the page's forms"
    return found.group(1)


def _acts(room: Newsroom, slug_revision: str) -> list[tuple[str, str]]:
    with read_session(room.engine) as session:
        return [
            (a.username, a.act)
            for a in session.exec(
                select(ReviewAct).where(ReviewAct.revision_id == slug_revision).order_by(col(ReviewAct.id))
            )
        ]


def _audit(room: Newsroom) -> list[str]:
    with read_session(room.engine) as session:
        return [e.action for e in session.exec(select(AuditEvent).order_by(col(AuditEvent.seq)))]


def test_the_dashboard_shows_my_tasks_my_sent_back_pieces_and_the_engine(
    room: Newsroom, world: World
) -> None:
    with console_server(room) as base:
        head, _ = sign_in(base, "qianwd")
        board = head.get("/")
        assert board.status_code == 200 and "工作台" in board.text
        assert f"/review/{world.in_review}" in board.text and "复审" in board.text
        assert "没有在线的发布进程" in board.text and "今天及未来 7 天的发布" in board.text
        author, _ = sign_in(base, "lijing")
        mine = author.get("/").text
        assert "退回修改" in mine and f"/review/{world.rejected}" in mine and "意见：导语太长，请压缩" in mine
        # 李静 was told of the rejection: the header shows the unread count on every page.
        assert 'class="bell"' in mine


def test_the_article_list_filters_by_state_and_author_and_searches(room: Newsroom, world: World) -> None:
    with console_server(room) as base:
        client, _ = sign_in(base, "zhouwb")
        everything = client.get("/articles").text
        assert "共 5 篇" in everything
        in_review = client.get("/articles", params={"state": "in_review"}).text
        assert f'/articles/{world.in_review}"' in in_review and f'/articles/{world.draft}"' not in in_review
        by_lijing = client.get("/articles", params={"author": "lijing"}).text
        assert f'/articles/{world.rejected}"' in by_lijing and "共 1 篇" in by_lijing
        found = client.get("/articles", params={"q": "预算"}).text
        assert f'/articles/{world.finance}"' in found and "共 1 篇" in found
        bad = client.get("/articles", params={"state": "nonsense"})
        assert bad.status_code == 400 and "状态" in bad.text
        bad_page = client.get("/articles", params={"page": "x"})
        assert bad_page.status_code == 400 and "page" in bad_page.text


def test_an_article_page_shows_the_chain_with_comments_checks_and_history(
    room: Newsroom, world: World
) -> None:
    with console_server(room) as base:
        client, _ = sign_in(base, "lijing")
        detail = client.get(f"/articles/{world.rejected}").text
        assert "导语太长，请压缩" in detail and "周文博" in detail and "退回" in detail
        assert "自动检查" in detail and "review.reject" in detail
        scheduled = client.get(f"/articles/{world.scheduled}").text
        assert "各渠道发布" in scheduled and "website" in scheduled and "scheduled" in scheduled
        missing = client.get("/articles/no-such-piece")
        assert missing.status_code == 404 and "没有这篇稿件" in missing.text


def test_the_diff_shows_the_changed_lines_side_by_side(room: Newsroom, world: World) -> None:
    write_article(
        room.content_dir,
        "article-3.md",
        base_meta("article-3", title="测试稿件第3篇"),
        "## 标题\n\n正文第一段，内容已修改。\n\n新增一段。\n",
    )
    assert ingest(room).ok
    with console_server(room) as base:
        client, _ = sign_in(base, "zhouwb")
        diff = client.get(f"/articles/{world.draft}/diff")
        assert diff.status_code == 200
        assert "第 1 版" in diff.text and "第 2 版" in diff.text
        assert '<tr class="change">' in diff.text and "<mark>已修改</mark>" in diff.text
        assert '<tr class="insert">' in diff.text and "新增一段。" in diff.text
        same = client.get(f"/articles/{world.draft}/diff", params={"a": "2", "b": "2"}).text
        assert '<tr class="change">' not in same
        assert client.get(f"/articles/{world.draft}/diff", params={"a": "9"}).status_code == 404


def test_a_reviewer_approves_with_the_hash_shown_and_the_next_stage_waits(
    room: Newsroom, world: World
) -> None:
    with console_server(room) as base:
        head, csrf = sign_in(base, "qianwd")
        page = head.get(f"/review/{world.in_review}").text
        assert "签署「复审」" in page
        revision = _hash_on(page)
        done = head.post(
            f"/review/{world.in_review}/approve",
            data={"csrf_token": csrf, "revision": revision, "comment": "同意"},
        )
        assert done.status_code == 200 and "已签署「复审」，下一环节" in done.text
    assert ("qianwd", "approve") in _acts(room, revision)


def test_an_author_cannot_approve_by_url_and_nothing_is_signed(room: Newsroom, world: World) -> None:
    with console_server(room) as base:
        author, csrf = sign_in(base, "wangxm")
        page = author.get(f"/review/{world.in_review}").text
        assert "签署通过" not in page
        revision = _hash_on(page)
        before = _acts(room, revision)
        refused = author.post(
            f"/review/{world.in_review}/approve", data={"csrf_token": csrf, "revision": revision}
        )
        assert refused.status_code == 400 and "操作未完成" in refused.text
        assert _acts(room, revision) == before


def test_a_review_act_without_the_session_token_is_refused(room: Newsroom, world: World) -> None:
    with console_server(room) as base:
        head, _ = sign_in(base, "qianwd")
        revision = _hash_on(head.get(f"/review/{world.in_review}").text)
        forged = head.post(f"/review/{world.in_review}/approve", data={"revision": revision})
        assert forged.status_code == 403 and "CSRF" in forged.text
        assert ("qianwd", "approve") not in _acts(room, revision)


def test_a_rejection_needs_a_comment(room: Newsroom, world: World) -> None:
    with console_server(room) as base:
        head, csrf = sign_in(base, "qianwd")
        revision = _hash_on(head.get(f"/review/{world.in_review}").text)
        refused = head.post(
            f"/review/{world.in_review}/reject",
            data={"csrf_token": csrf, "revision": revision, "comment": "  "},
        )
        assert refused.status_code == 400 and "退回须写明理由" in refused.text
        with read_session(room.engine) as session:
            state = session.get(ReviewState, revision)
            assert state is not None and state.status == "in_review"
        done = head.post(
            f"/review/{world.in_review}/reject",
            data={"csrf_token": csrf, "revision": revision, "comment": "数据需核实"},
        )
        assert done.status_code == 200 and "已在「复审」退回" in done.text


def test_a_stale_revision_is_refused_and_nothing_is_signed(room: Newsroom, world: World) -> None:
    with console_server(room) as base:
        head, csrf = sign_in(base, "qianwd")
        seen = _hash_on(head.get(f"/review/{world.in_review}").text)
        # The article changes while the reviewer reads it.
        write_article(room.content_dir, "article-2.md", base_meta("article-2", title="测试稿件第2篇（改）"))
        assert ingest(room).ok
        refused = head.post(f"/review/{world.in_review}/approve", data={"csrf_token": csrf, "revision": seen})
        assert refused.status_code == 400 and "已被第 2 版" in refused.text and 'role="alert"' in refused.text
        assert ("qianwd", "approve") not in _acts(room, seen)
        # The page now shows (and its forms carry) the new revision.
        assert _hash_on(refused.text) != seen


def test_an_author_submits_and_withdraws_from_the_review_page(room: Newsroom, world: World) -> None:
    with console_server(room) as base:
        author, csrf = sign_in(base, "lijing")
        page = author.get(f"/review/{world.rejected}").text
        assert "提交审核" in page
        revision = _hash_on(page)
        sent = author.post(
            f"/review/{world.rejected}/submit", data={"csrf_token": csrf, "revision": revision}
        )
        assert sent.status_code == 200 and "已提交审核" in sent.text
        back = author.post(
            f"/review/{world.rejected}/withdraw", data={"csrf_token": csrf, "revision": revision}
        )
        assert back.status_code == 200 and "已撤回审核" in back.text


def test_hostile_markdown_is_inert_on_every_page_and_in_previews(room: Newsroom, world: World) -> None:
    write_article(room.content_dir, "hostile.md", base_meta("hostile", title=HOSTILE_TITLE), HOSTILE_BODY)
    assert ingest(room).ok
    with console_server(room) as base:
        editor, csrf = sign_in(base, "zhouwb")
        pages = [
            editor.get("/articles", params={"q": "标题"}),
            editor.get("/articles/hostile"),
            editor.get("/review/hostile"),
        ]
        # A hostile rejection comment, shown on the article page and in the author's notices.
        revision = _hash_on(pages[2].text)
        editor.post("/review/hostile/submit", data={"csrf_token": csrf, "revision": revision})
        reviewer, reviewer_csrf = sign_in(base, "liangyu")
        rejected = reviewer.post(
            "/review/hostile/reject",
            data={
                "csrf_token": reviewer_csrf,
                "revision": revision,
                "comment": "<script>alert('c')</script>改",
            },
        )
        assert rejected.status_code == 200, rejected.text[:400]
        pages += [editor.get("/articles/hostile"), editor.get("/notices")]
        for shown in pages:
            assert shown.status_code == 200, shown.text[:400]
            assert "<script>alert" not in shown.text and "&lt;script&gt;" in shown.text
        review = pages[2].text
        frames = re.findall(r'<iframe sandbox src="([^"]+)"', review)
        assert {f.rsplit("/", 1)[1] for f in frames} >= {"website", "wechat"}
        for src in frames:
            preview = editor.get(src)
            assert preview.status_code == 200, preview.text[:400]
            csp = preview.headers["content-security-policy"]
            assert "default-src 'none'" in csp and "sandbox" in csp and "script-src" not in csp
            body = preview.text
            assert "<script>alert" not in body and "onerror=" not in body
            assert 'href="javascript:' not in body


def test_a_shared_link_is_read_only_works_without_login_and_expires(room: Newsroom, world: World) -> None:
    with console_server(room) as base:
        editor, csrf = sign_in(base, "zhouwb")
        revision = _hash_on(editor.get(f"/review/{world.in_review}").text)
        made = editor.post(
            f"/review/{world.in_review}/share", data={"csrf_token": csrf, "revision": revision, "hours": "2"}
        )
        assert made.status_code == 200
        link = re.search(r"(http://[^<\s]+/p/[A-Za-z0-9_-]+)", made.text)
        assert link, made.text[:2000]
        anonymous = httpx.get(link.group(1))
        assert (
            anonymous.status_code == 200
            and "只读预览" in anonymous.text
            and "csrf_token" not in anonymous.text
        )
        frame = re.search(r'<iframe sandbox src="([^"]+)"', anonymous.text)
        assert frame
        inner = httpx.get(base + frame.group(1))
        assert inner.status_code == 200 and "sandbox" in inner.headers["content-security-policy"]
        assert httpx.post(link.group(1)).status_code == 405
        # The article changes: the link still shows the revision shared, and says so.
        write_article(room.content_dir, "article-2.md", base_meta("article-2", title="测试稿件第2篇（改）"))
        assert ingest(room).ok
        later = httpx.get(link.group(1)).text
        assert "已有更新的版本" in later and "测试稿件第2篇（改）" not in later
        # An expired link shows nothing.
        me = Identity("zhouwb", "周文博", ("editor",), Via.SESSION)
        old = share_preview(room.engine, me, world.in_review, revision, 1, now=utc_now() - timedelta(hours=2))
        expired = httpx.get(f"{base}/p/{old}")
        assert expired.status_code == 404 and "已过期" in expired.text
        # Revoked: gone at once.
        share_id = re.search(r"/share/(\d+)/revoke", editor.get(f"/review/{world.in_review}").text)
        assert share_id
        other, other_csrf = sign_in(base, "liangyu")
        refused = other.post(
            f"/review/{world.in_review}/share/{share_id.group(1)}/revoke", data={"csrf_token": other_csrf}
        )
        assert refused.status_code == 403
        assert httpx.get(link.group(1)).status_code == 200
        editor.post(f"/review/{world.in_review}/share/{share_id.group(1)}/revoke", data={"csrf_token": csrf})
        gone = httpx.get(link.group(1))
        assert gone.status_code == 404 and "撤销" in gone.text
    actions = _audit(room)
    assert "preview.share" in actions and "preview.revoke" in actions


def test_notices_list_unread_and_mark_read(room: Newsroom, world: World) -> None:
    with console_server(room) as base:
        author, csrf = sign_in(base, "lijing")
        listed = author.get("/notices").text
        assert "导语太长，请压缩" in listed and 'class="unread"' in listed
        ids = re.findall(r'name="notice" value="(\d+)"', listed)
        assert ids
        done = author.post("/notices/read", data={"csrf_token": csrf, "notice": ids[0]})
        assert done.status_code == 200 and "已标记 1 条" in done.text
        other, other_csrf = sign_in(base, "zhouwb")
        stolen = other.post("/notices/read", data={"csrf_token": other_csrf, "notice": ids[-1]})
        assert stolen.status_code == 404
        author.post("/notices/read", data={"csrf_token": csrf})
        assert 'class="unread"' not in author.get("/notices").text


def test_terminology_warnings_are_acknowledged_by_name_before_signing(room: Newsroom, world: World) -> None:
    write_article(room.content_dir, "terms.md", base_meta("terms", title="监督一府两院工作"))
    assert ingest(room).ok
    with console_server(room) as base:
        submitter, csrf = sign_in(base, "zhouwb")
        revision = _hash_on(submitter.get("/review/terms").text)
        submitter.post("/review/terms/submit", data={"csrf_token": csrf, "revision": revision})
        editor, editor_csrf = sign_in(base, "liangyu")
        page = editor.get("/review/terms").text
        codes = re.findall(r'name="ack" value="([^"]+)"', page)
        assert codes and "一府一委两院" in page
        unacknowledged = editor.post(
            "/review/terms/approve", data={"csrf_token": editor_csrf, "revision": revision}
        )
        assert unacknowledged.status_code == 400 and "逐条确认" in unacknowledged.text
        assert ("liangyu", "approve") not in _acts(room, revision)
        signed = editor.post(
            "/review/terms/approve", data={"csrf_token": editor_csrf, "revision": revision, "ack": codes}
        )
        assert signed.status_code == 200 and "已签署「初审」" in signed.text
    assert ("liangyu", "approve") in _acts(room, revision)


def test_previews_are_of_the_exact_revision_with_images_inline(room: Newsroom, world: World) -> None:
    with console_server(room) as base:
        editor, _csrf = sign_in(base, "zhouwb")
        revision = _hash_on(editor.get(f"/review/{world.scheduled}").text)
        site = editor.get(f"/review/{world.scheduled}/preview/{revision}/website")
        assert site.status_code == 200 and "data:image/png;base64," in site.text
        assert 'src="/media/' not in site.text
        wechat = editor.get(f"/review/{world.scheduled}/preview/{revision}/wechat")
        assert wechat.status_code == 200 and 'class="phone"' in wechat.text
        partner = editor.get(f"/review/{world.scheduled}/preview/{revision}/partner-provincial-daily")
        assert partner.status_code == 200 and "&#34;revision&#34;: &#34;" + revision in partner.text.replace(
            "&quot;", "&#34;"
        )
        unknown = editor.get(f"/review/{world.scheduled}/preview/{'0' * 64}/website")
        assert unknown.status_code == 404
        anonymous = httpx.get(
            f"{base}/review/{world.scheduled}/preview/{revision}/website", follow_redirects=False
        )
        assert anonymous.status_code == 303


PAGES = ("/", "/articles", "/articles?state=in_review", "/review", "/notices")


def _statements(client: httpx.Client, room: Newsroom, path: str) -> int:
    with counting(room.engine) as counted:
        assert client.get(path).status_code == 200
    return counted.count


def test_the_pages_ask_the_database_a_fixed_number_of_times_whatever_the_data(
    room: Newsroom, world: World
) -> None:
    with console_server(room) as base:
        head, _csrf = sign_in(base, "zhouwb")
        before = {path: _statements(head, room, path) for path in PAGES}
        for i in range(12):
            write_article(room.content_dir, f"more-{i}.md", base_meta(f"more-{i}", title=f"更多稿件{i}"))
        assert ingest(room).ok
        service = ReviewService(room)
        for i in range(6):
            service.submit(f"more-{i}", "zhouwb")
        schedule(room, world.scheduled, ["wechat"], NOW + timedelta(days=3), "zhouwb", now=NOW)
        after = {path: _statements(head, room, path) for path in PAGES}
    assert after == before
