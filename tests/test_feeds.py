"""Feeds: valid RSS 2.0, Atom 1.0 and JSON Feed 1.1, stable ids, `updated` after a correction."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest

from publisher import articles
from publisher.channels.feed import FeedAdapter
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.site.build import build_all, build_site
from publisher.store.engine import read_session
from tests.factory import base_meta, write_article
from tests.site_support import NOW, allow_all, honouring_retractions, populate, public, set_retracted, website

JSON_FEED_REQUIRED = ("version", "title", "items")
JSON_ITEM_REQUIRED = ("id",)


@pytest.fixture
def built(room: Newsroom) -> Newsroom:
    populate(room.root)
    assert ingest(room).ok
    build_all(room, allow_all, now=NOW)
    return room


def feed_files(out: Path) -> list[Path]:
    return sorted((out / "feeds").iterdir())


def test_every_feed_is_valid(built: Newsroom) -> None:
    files = feed_files(public(built))
    # site-wide plus five columns, three formats each
    assert len(files) == 18
    for path in files:
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            assert data["version"] == "https://jsonfeed.org/version/1.1"
            assert all(k in data for k in JSON_FEED_REQUIRED)
            for item in data["items"]:
                assert all(k in item for k in JSON_ITEM_REQUIRED)
                assert item.get("content_html") or item.get("content_text"), "1.1 needs content"
                assert item["url"].startswith("https://")
            continue
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path.name, parsed.get("bozo_exception"))
        assert parsed.version in ("rss20", "atom10")
        for entry in parsed.entries:
            assert entry.id.startswith("https://www.jianglan-rd.example.gov.cn/articles/")
            assert entry.content[0].value if parsed.version == "atom10" else entry.summary


def test_full_content_with_absolute_urls(built: Newsroom) -> None:
    atom = feedparser.parse((public(built) / "feeds" / "supervision.atom.xml").read_bytes())
    part = next(e for e in atom.entries if e.title == "河湖保护监督第2篇")
    content = part.content[0].value
    assert "正文第一段，内容充实。" in content
    assert 'src="/' not in content and "srcset" not in content
    assert atom.feed.language == "zh-CN" if "language" in atom.feed else True


def test_item_count_follows_settings(built: Newsroom) -> None:
    path = built.root / "channels" / "site-feed.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("items = 30", "items = 5"), encoding="utf-8")
    room = Newsroom(built.root)
    try:
        build_all(room, allow_all, now=NOW)
        out = public(room)
        assert len(feedparser.parse((out / "feeds" / "all.rss.xml").read_bytes()).entries) == 5
        assert len(json.loads((out / "feeds" / "all.json").read_text(encoding="utf-8"))["items"]) == 5
    finally:
        room.close()


def test_guids_are_stable_and_a_correction_sets_updated(built: Newsroom) -> None:
    out = public(built)
    first = feedparser.parse((out / "feeds" / "all.atom.xml").read_bytes())
    ids = [e.id for e in first.entries]
    entry = next(e for e in first.entries if e.id.endswith("/news-22.html"))
    assert entry.updated == entry.published

    write_article(
        built.root / "content",
        "news/news-22.md",
        base_meta(
            "news-22", title="工作动态第22条（更正）", column="工作动态", date="2026-11-22T08:00:00+08:00"
        ),
    )
    assert ingest(built).revised
    build_site(built, website(built), allow_all, now=NOW)
    second = feedparser.parse((out / "feeds" / "all.atom.xml").read_bytes())
    assert [e.id for e in second.entries] == ids
    corrected = next(e for e in second.entries if e.id.endswith("/news-22.html"))
    assert corrected.title.endswith("（更正）") and corrected.updated > corrected.published
    rss = feedparser.parse((out / "feeds" / "all.rss.xml").read_bytes())
    assert [e.id for e in rss.entries] == ids
    item = next(
        i
        for i in json.loads((out / "feeds" / "all.json").read_text(encoding="utf-8"))["items"]
        if i["id"].endswith("/news-22.html")
    )
    assert item["date_modified"] > item["date_published"]


def test_feed_adapter_follows_the_protocol(built: Newsroom) -> None:
    adapter = FeedAdapter(
        built, built.channels.channels["site-feed"], honouring_retractions(allow_all), now=NOW
    )
    with read_session(built.engine) as session:
        revision = articles.get_article(session, "news-3").revision
    rendition = adapter.render(revision)
    item = json.loads(rendition.body)
    assert item["id"] == "https://www.jianglan-rd.example.gov.cn/articles/news-3.html"
    receipts = adapter.deliver([rendition])
    assert receipts and receipts[0].url is not None and receipts[0].url.endswith("/feeds/all.rss.xml")
    set_retracted(built, "news-3")
    adapter.retract(receipts[0])
    out = public(built)
    assert "news-3.html" not in (out / "feeds" / "all.rss.xml").read_text(encoding="utf-8")
    assert (out / "articles" / "news-3.html").is_file(), "taken out of the feeds only, not off the site"
