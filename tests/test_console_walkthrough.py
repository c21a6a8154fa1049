"""The console as people use it, in a real Chromium: an author, every reviewer and the leader walk
one article through the whole chain (one rejection, the diff after the fix, the previews), an
editor schedules it into a calendar slot, pauses and resumes. Each page is saved as a screenshot
(var/screenshots/walkthrough/, or $PUBLISHER_SCREENSHOTS)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review import walk
from publisher.review.queries import status
from publisher.review.service import ReviewService
from publisher.schedule import load_schedules
from publisher.store.engine import read_session
from publisher.timeutil import local, utc_now
from tests.browser_helpers import SCREENSHOTS, chromium, needs_chromium
from tests.console_helpers import PASSWORD, console_server, seed_staff
from tests.factory import base_meta, write_article

pytestmark = [needs_chromium, pytest.mark.slow]
# A signature runs the checks again; on a busy two-core machine that can take seconds.
expect.set_options(timeout=30_000)

SLUG = "article-2"
FIXED = "## 调研情况\n\n常委会组成人员赴三个区实地调研，听取意见建议四十余条。\n\n第二段数据已核实：共走访企业十二家。\n"


@pytest.fixture
def walked_room(newsroom_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Newsroom]:
    # SQLite only: the browser is the part under test here; both databases serve the same pages
    # in the console's own tests.
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", f"sqlite:///{tmp_path / 'walk.db'}")
    room = Newsroom(newsroom_dir)
    assert ingest(room).ok
    seed_staff(room)
    yield room
    room.close()


class Shots:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()
        self.taken: list[Path] = []

    def __call__(self, page: Page, name: str) -> None:
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)

    def frame(self, frame: Locator, name: str) -> None:
        # Chromium draws a sandboxed (out-of-process) frame only inside the viewport, so a full-page
        # shot leaves the previews blank: each preview is shot on its own.
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        frame.screenshot(path=str(path))
        self.taken.append(path)


@contextmanager
def signed_in(browser: Browser, base: str, username: str, *, script: bool = True) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", java_script_enabled=script
    )
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm questions: yes
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header .who")).to_contain_text("退出")
    try:
        yield page
    finally:
        context.close()


def next_signer(room: Newsroom) -> str | None:
    signer = walk.next_signer(ReviewService(room), SLUG)
    return signer[0] if signer else None


def current_stage(room: Newsroom) -> str | None:
    with read_session(room.engine) as session:
        st = status(session, SLUG)
    return st.current.name if st.current else None


def test_one_article_walks_the_whole_chain_in_the_browser(walked_room: Newsroom) -> None:
    room = walked_room
    shots = Shots(SCREENSHOTS / "walkthrough")
    with console_server(room) as base, chromium() as browser:
        # The author submits.
        with signed_in(browser, base, "wangxm") as page:
            shots(page, "author-dashboard")
            page.goto(f"{base}/review/{SLUG}")
            shots(page, "author-review-page")
            page.click("form[action$='/submit'] button[type=submit]")
            expect(page.locator(".banner.ok")).to_contain_text("已提交审核")

        # The first reviewer sends it back, with a comment (required).
        first = next_signer(room)
        assert first is not None
        with signed_in(browser, base, first) as page:
            page.goto(f"{base}/review")
            expect(page.locator("main")).to_contain_text("测试稿件第2篇")
            shots(page, "reviewer-queue")
            page.goto(f"{base}/review/{SLUG}")
            page.fill(
                "form[action$='/reject'] textarea[name=comment]", "第二段数据需核实，请补充走访企业数量。"
            )
            page.click("form[action$='/reject'] button[type=submit]")
            expect(page.locator(".banner.ok")).to_contain_text("退回")
            shots(page, "rejected")

        # The author reads the comment on the dashboard, fixes the file, sees the diff, submits again.
        with signed_in(browser, base, "wangxm") as page:
            expect(page.locator("main")).to_contain_text("第二段数据需核实")
            shots(page, "author-sees-rejection")
            write_article(room.content_dir, f"{SLUG}.md", base_meta(SLUG, title="测试稿件第2篇"), FIXED)
            assert ingest(room).ok
            page.goto(f"{base}/articles/{SLUG}/diff")
            expect(page.locator("main")).to_contain_text("共走访企业十二家")
            shots(page, "diff-after-fix")
            page.goto(f"{base}/review/{SLUG}")
            page.click("form[action$='/submit'] button[type=submit]")
            expect(page.locator(".banner.ok")).to_contain_text("已提交审核")

        # Every stage, in order, by a person allowed to sign it: previews first, then the signature.
        signed: list[str] = []
        while (signer := next_signer(room)) is not None:
            stage = current_stage(room)
            # Reviewers sign with JavaScript off: every act works without it.
            with signed_in(browser, base, signer, script=False) as page:
                page.goto(f"{base}/review/{SLUG}")
                frames = page.locator("iframe[sandbox]")
                expect(frames.first).to_be_visible()
                if not signed:
                    # The reviewer who sent it back sees what changed since they acted.
                    page.goto(f"{base}/articles/{SLUG}/diff")
                    expect(page.locator("main")).to_contain_text("共走访企业十二家")
                    page.goto(f"{base}/review/{SLUG}")
                    sources = [frames.nth(i).get_attribute("src") or "" for i in range(frames.count())]
                    wechat = next((s for s in sources if "wechat" in s), sources[0])
                    page.goto(base + wechat)
                    shots(page, "preview-wechat")
                    page.goto(f"{base}/review/{SLUG}")
                # Each channel's preview of this exact revision shows the piece (fetched with the
                # page's own session; scrolled to, so the lazy frames are drawn in the screenshot).
                for i in range(frames.count()):
                    frames.nth(i).scroll_into_view_if_needed()
                    drawn = frames.nth(i).element_handle().content_frame()
                    assert drawn is not None
                    drawn.wait_for_load_state()
                    expect(drawn.locator("body")).to_contain_text("测试稿件第2篇")
                    if not signed:
                        shots.frame(frames.nth(i), f"preview-{i + 1}")
                    shown = page.request.get(base + (frames.nth(i).get_attribute("src") or ""))
                    assert shown.ok and "测试稿件第2篇" in shown.text(), shown.status
                for box in page.locator("form[action$='/approve'] input[name=ack]").all():
                    box.check()
                shots(page, f"sign-{len(signed) + 1}")
                # Sign from the page as it opens: with the preview frames scrolled into view and
                # drawn, headless Chromium's click no longer submits the form below them.
                page.goto(f"{base}/review/{SLUG}")
                for box in page.locator("form[action$='/approve'] input[name=ack]").all():
                    box.check()
                page.click("form[action$='/approve'] button[type=submit]")
                expect(page.locator(".banner.ok")).to_contain_text("已签署")
            signed.append(f"{stage}:{signer}")
        assert current_stage(room) is None and len(signed) >= 3, signed
        assert len({s.split(":")[1] for s in signed}) == len(signed)  # no one signed twice

        # The editor schedules it into the first open campaign slot, then pauses and resumes.
        schedules = load_schedules(room)
        slot = min(
            (s for key in schedules.campaigns for s in schedules.slots(key, utc_now() + timedelta(hours=1))),
            key=lambda s: s.due,
        )
        day = local(slot.due, room.settings.tz).date()
        with signed_in(browser, base, "zhouwb") as page:
            page.goto(f"{base}/calendar?view=week&date={day.isoformat()}")
            form = page.locator(
                f"form[action$='/calendar/schedule']:has(input[name=campaign][value='{slot.campaign}'])"
                f":has(input[name=number][value='{slot.number}'])"
            )
            form.locator("select[name=slug]").select_option(SLUG)
            form.locator("button[type=submit]").click()
            expect(page.locator(".banner.ok")).to_contain_text(f"已将 {SLUG} 排入")
            shots(page, "calendar-scheduled")

            page.goto(f"{base}/pause")
            page.fill("input[name=reason]", "核对会议名称，暂停全部发布")
            page.click("form[action$='/pause'] button[type=submit]")
            expect(page.locator(".banner.paused")).to_contain_text("核对会议名称")
            page.goto(f"{base}/")
            expect(page.locator(".banner.paused")).to_be_visible()
            shots(page, "paused-banner")
            page.goto(f"{base}/pause")
            page.click("form[action$='/resume'] button[type=submit]")
            expect(page.locator(".banner.paused")).to_have_count(0)
            shots(page, "resumed")

    assert len(shots.taken) >= 12 and all(p.stat().st_size > 10_000 for p in shots.taken)
    assert all(re.match(r"\d\d-[a-z0-9-]+\.png$", p.name) for p in shots.taken)
