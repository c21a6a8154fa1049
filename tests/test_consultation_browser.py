"""In a real Chromium: the built draft's page takes a comment through its form (posted to
`publisher serve` on another port), answers with a receipt, and the receipt looks it up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import select

from publisher.newsroom import Newsroom
from publisher.site.preview import make_server
from publisher.store.engine import read_session, write_session
from publisher.store.tables import ConsultationComment, ConsultationContact
from tests.browser_helpers import SCREENSHOTS, chromium, needs_chromium
from tests.consultation_support import OPEN, SLUG, Clock, add_draft, go_live, served
from tests.http_thread import serve_in_thread
from tests.site_support import public


@contextmanager
def static_site(root: Path) -> Iterator[str]:
    server = make_server(root, 0)
    serve_in_thread(server)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _set(toml: Path, **values: str) -> None:
    lines = toml.read_text(encoding="utf-8").split("\n")
    for key, value in values.items():
        lines = [f'{key} = "{value}"' if line.startswith(f"{key} =") else line for line in lines]
        if not any(line.startswith(f"{key} =") for line in lines):
            at = lines.index("[consultation]") + 1
            lines.insert(at, f"{key} = {value}")
    toml.write_text("\n".join(lines), encoding="utf-8")


@needs_chromium
def test_a_citizen_comments_on_a_clause_in_chromium_and_looks_it_up_by_receipt(
    room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_draft(room.root)
    toml = room.root / "publisher.toml"
    # The site's folder does not exist before the build: the server only names it.
    with static_site(public(room)) as site:
        page_base = site
        _set(toml, allowed_origins=f'["{site}"]')
        api_room = Newsroom(room.root)
        try:
            with served(api_room, Clock(OPEN)) as (api, _):
                _set(toml, api_base=api)
                built = Newsroom(room.root)
                try:
                    go_live(built)
                finally:
                    built.close()
                with chromium() as browser:
                    page = browser.new_page()
                    page.goto(f"{page_base}/articles/{SLUG}.html")
                    page.wait_for_function(
                        "document.querySelector('.consultation-count').textContent === '0'"
                    )
                    page.click("summary:has-text('第十二条')")
                    form = page.locator("details.clause-form").filter(has_text="第十二条").locator("form")
                    key = form.locator("input[name=submission_key]").input_value()
                    assert len(key) >= 16  # the script gave the form its random key
                    form.locator("input[name=name]").fill("王女士")
                    form.locator("input[name=contact]").fill("wang@example.org")
                    form.locator("select[name=commenter_type]").select_option(label="个人")
                    form.locator("textarea[name=body]").fill("建议筹备组成立时限由六十日缩短为三十日。")
                    form.locator("input[name=consent]").check()
                    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(SCREENSHOTS / "consultation-form.png"), full_page=True)
                    form.locator("button[type=submit]").click()
                    page.wait_for_selector("#receipt")
                    receipt = page.inner_text("#receipt").strip()
                    assert receipt.startswith("ZQ-") and "意见已收到" in page.content()
                    page.screenshot(path=str(SCREENSHOTS / "consultation-receipt.png"), full_page=True)

                    with read_session(api_room.engine) as session:
                        row = session.exec(select(ConsultationComment)).one()
                        assert (row.receipt, row.clause, row.name, row.submission_key) == (
                            receipt,
                            "12",
                            "王女士",
                            key,
                        )
                        assert session.get(ConsultationContact, row.id) is not None
                    with write_session(api_room.engine) as session:
                        row.disposition, row.answer = "partly_adopted", "已在修改稿中将时限调整为四十五日。"
                        session.add(row)

                    page.goto(f"{page_base}/articles/{SLUG}.html")
                    page.wait_for_function(
                        "document.querySelector('.consultation-count').textContent === '1'"
                    )
                    page.fill("#lookup-receipt", receipt.lower())
                    page.fill("#lookup-contact", "WANG@example.org")
                    page.click("form.consultation-lookup button[type=submit]")
                    page.wait_for_selector("#disposition")
                    assert page.inner_text("#disposition") == "部分采纳"
                    assert "四十五日" in page.content()
                    page.screenshot(path=str(SCREENSHOTS / "consultation-lookup.png"), full_page=True)
        finally:
            api_room.close()
