"""Markup written in a title or a summary stays text in every feed: RSS reads its title and
description as HTML, so plain text is escaped there; Atom and JSON Feed say the type of each field."""

from __future__ import annotations

import html
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest
from lxml import html as lxml_html

from publisher.engine.clock import FixedClock
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.site.build import build_site
from publisher.supply import service
from publisher.web.testing import serving
from tests.factory import base_meta, write_article
from tests.review_helpers import seed_users
from tests.site_support import NOW, allow_all, public, website
from tests.supply_support import PULL, SECRET, SECRET_ENV, T0, approve, run_engine

ATOM = "{http://www.w3.org/2005/Atom}"
TITLE = "标题<script>alert(1)</script>"
SUMMARY = '导语<img src="x" onerror="alert(1)">要点<b>加粗</b>'


def _no_live_markup(text: str) -> bool:
    """Read as HTML (as an RSS reader does), the text has no element in it."""
    fragment = lxml_html.fragment_fromstring(text, create_parent="div")
    return len(fragment) == 0 and fragment.text_content() == html.unescape(text)


def _write(room: Newsroom) -> None:
    write_article(room.content_dir, "markup.md", base_meta("markup", title=TITLE, summary=SUMMARY))
    report = ingest(room)
    assert report.ok, report.problems


def test_the_partner_pull_feeds_keep_a_summary_with_markup_as_text(
    room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    seed_users(room)
    _write(room)
    approve(room, "markup")
    clock = FixedClock(T0)
    plan = service.supply_article(room, "markup", "zhouwb", names=[PULL], at=clock.now(), now=clock.now())
    assert plan.scheduled, plan.skipped
    assert run_engine(room, clock) == 1
    token = service.issue_token(room, PULL, "admin").token
    auth = {"Authorization": f"Bearer {token}"}
    with serving(room) as base, httpx.Client(base_url=base, headers=auth) as client:
        rss = ET.fromstring(client.get(f"/partners/{PULL}/feed.rss").content)
        atom = ET.fromstring(client.get(f"/partners/{PULL}/feed.atom").content)
        feed = client.get(f"/partners/{PULL}/feed.json").json()
        ninjs = client.get(f"/partners/{PULL}/feed.ninjs").json()
    description = rss.findtext("channel/item/description") or ""
    title = rss.findtext("channel/item/title") or ""
    assert _no_live_markup(description) and html.unescape(description) == SUMMARY
    assert _no_live_markup(title) and html.unescape(title) == TITLE
    entry = atom.find(f"{ATOM}entry")
    assert entry is not None
    summary = entry.find(f"{ATOM}summary")
    assert summary is not None and summary.get("type", "text") == "text" and summary.text == SUMMARY
    [item] = feed["items"]
    assert item["summary"] == SUMMARY and item["content_text"] == SUMMARY and "content_html" not in item
    assert ninjs["items"][0]["description_text"] == SUMMARY


def test_the_website_feeds_keep_a_title_with_markup_as_text(room: Newsroom) -> None:
    _write(room)
    build_site(room, website(room), allow_all, now=NOW, workers=1)
    feeds = public(room) / "feeds"
    rss = ET.fromstring((feeds / "all.rss.xml").read_bytes())
    titles = [t.text or "" for t in rss.iterfind("channel/item/title")]
    assert TITLE in [html.unescape(t) for t in titles]
    assert all(_no_live_markup(t) for t in titles)
    atom = ET.fromstring((feeds / "all.atom.xml").read_bytes())
    entry = next(e for e in atom.iterfind(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == TITLE)
    title = entry.find(f"{ATOM}title")
    assert title is not None and title.get("type", "text") == "text"
    assert entry.findtext(f"{ATOM}summary") == SUMMARY
    items = json.loads(Path(feeds / "all.json").read_text(encoding="utf-8"))["items"]
    assert any(i["title"] == TITLE and i["summary"] == SUMMARY for i in items)
