"""公报 in the console over real HTTP and in Chromium: every issue with its state, building one as
an editor (refused for an author, refused with the issue file's lines when an article may not go
to print), downloading the built PDF; the same service as `publisher bulletin build`."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlmodel import select

from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import AuditEvent
from tests.browser_helpers import chromium, needs_chromium
from tests.bulletin_support import declare, write_articles
from tests.console_helpers import PASSWORD, console_server, seed_staff, sign_in
from tests.review_helpers import approve

Served = tuple[Newsroom, str]


@pytest.fixture
def served(room: Newsroom) -> Iterator[Served]:
    write_articles(room)
    seed_staff(room)
    for slug in ("law", "report", "deputy"):
        approve(room, slug)
    declare(room)
    with console_server(room) as base:
        yield room, base


def _builds(room: Newsroom) -> list[AuditEvent]:
    with read_session(room.engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == "bulletin.build")))


def test_an_author_sees_the_issues_but_cannot_build_and_nothing_is_written(served: Served) -> None:
    room, base = served
    client, csrf = sign_in(base, "wangxm")
    listing = client.get("/bulletins")
    assert listing.status_code == 200 and "2026年第6期" in listing.text and "未编印" in listing.text
    assert "/bulletins/gazette/2026-06/build" not in listing.text  # no button for an author
    refused = client.post("/bulletins/gazette/2026-06/build", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert client.get("/bulletins/gazette/2026-06.pdf").status_code == 404  # not built
    assert not (room.var_dir / "bulletins").exists() and _builds(room) == []


def test_a_build_refused_by_the_gate_shows_the_lines_and_changes_nothing(served: Served) -> None:
    room, base = served
    from publisher.engine.retraction import retract

    retract(room, "report", "数据有误", "zhouwb")
    client, csrf = sign_in(base, "zhouwb")
    refused = client.post("/bulletins/gazette/2026-06/build", data={"csrf_token": csrf})
    assert refused.status_code == 422
    assert "这一期不能付印" in refused.text and "bulletins/gazette/2026-06.toml 第 7 行" in refused.text
    assert "retracted" in refused.text
    assert not (room.var_dir / "bulletins").exists() and _builds(room) == []
    assert client.post("/bulletins/gazette/2099-01/build", data={"csrf_token": csrf}).status_code == 404
    without_token = client.post("/bulletins/gazette/2026-06/build", data={})
    assert without_token.status_code == 403 and _builds(room) == []


@needs_chromium
def test_an_editor_builds_the_issue_and_downloads_its_pdf_in_chromium(served: Served) -> None:
    room, base = served
    with chromium() as browser:
        tab = browser.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto(f"{base}/login?next=/bulletins")
        tab.fill("input[name=username]", "zhouwb")
        tab.fill("input[name=password]", PASSWORD)
        tab.click("button[type=submit]")
        row = tab.locator("#issue-gazette-2026-06")
        assert "未编印" in row.inner_text()
        row.locator("button[type=submit]").click()
        tab.wait_for_selector("text=已编印 江澜市人大常委会公报 2026年第6期")
        row = tab.locator("#issue-gazette-2026-06")
        assert "已编印" in row.inner_text() and "zhouwb" in row.inner_text()
        assert re.search(r"zhouwb，\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row.inner_text())  # when, newsroom time
        link = row.locator("a", has_text="下载 PDF")
        with tab.expect_download() as download:
            link.click()
        path = download.value.path()
        assert path is not None and path.read_bytes().startswith(b"%PDF-")
        assert download.value.suggested_filename == "gazette-2026-06.pdf"
        # Building the unchanged issue again writes nothing.
        tab.locator("#issue-gazette-2026-06 button[type=submit]").click()
        tab.wait_for_selector("text=内容未变，无需重新编印")
        assert errors == []
    [event] = _builds(room)
    assert event.actor == "zhouwb"


def test_the_page_lists_problems_in_the_bulletin_files(served: Served) -> None:
    room, base = served
    (room.root / "bulletins" / "gazette" / "2026-07.toml").write_text('number = "第7期"\n', encoding="utf-8")
    client, _ = sign_in(base, "zhouwb")
    listing = client.get("/bulletins")
    assert listing.status_code == 200 and "bulletins/gazette/2026-07.toml" in listing.text
    assert "缺少必填的键" in listing.text and "2026年第6期" in listing.text  # the good issue still listed


def test_a_leader_signs_the_built_issue_off_and_an_editor_cannot(served: Served) -> None:
    room, base = served
    editor, editor_csrf = sign_in(base, "zhouwb")
    assert "/sign-off" not in editor.get("/bulletins").text  # nothing built: nothing to sign
    built = editor.post("/bulletins/gazette/2026-06/build", data={"csrf_token": editor_csrf})
    assert built.status_code == 200 and "待签发" in built.text
    assert "/sign-off" not in built.text  # an editor builds; only a leader signs off
    assert (
        editor.post("/bulletins/gazette/2026-06/sign-off", data={"csrf_token": editor_csrf}).status_code
        == 403
    )

    leader, leader_csrf = sign_in(base, "wangjh")
    assert "/bulletins/gazette/2026-06/sign-off" in leader.get("/bulletins").text
    signed = leader.post("/bulletins/gazette/2026-06/sign-off", data={"csrf_token": leader_csrf})
    assert signed.status_code == 200 and "已签发付印 江澜市人大常委会公报 2026年第6期" in signed.text
    assert re.search(r"已签发付印（wangjh，\d{4}-\d{2}-\d{2} \d{2}:\d{2}", signed.text)
    assert "/bulletins/gazette/2026-06/sign-off" not in signed.text  # signed: the button is gone
    with read_session(room.engine) as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "bulletin.sign_off")).all()
    assert event.actor == "wangjh"
