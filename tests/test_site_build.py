"""The website as a whole: what is on it, what is not, links, incremental rebuilds, deploys."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
from pathlib import Path

import jinja2
import pytest
from sqlalchemy import event
from sqlmodel import select

from publisher import articles
from publisher.channels.protocol import ChannelAdapter, DeliveryError
from publisher.channels.website import WebsiteAdapter
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.gate import publication_gate
from publisher.site import build as build_module
from publisher.site import deploy, site
from publisher.site import fragments as fragments_module
from publisher.site.build import build_all, build_site
from publisher.site.select import load_current
from publisher.store.engine import read_session
from publisher.store.tables import Article
from tests.factory import base_meta, write_article
from tests.site_support import (
    NOW,
    all_text,
    allow_all,
    broken_links,
    deny_slugs,
    honouring_retractions,
    populate,
    public,
    set_retracted,
    sitemap_paths,
    snapshot,
    website,
)


@pytest.fixture
def built(room: Newsroom) -> Newsroom:
    populate(room.root)
    assert ingest(room).ok
    build_all(room, deny_slugs("unapproved-draft"), now=NOW)
    return room


def test_every_approved_article_has_its_page_and_nothing_else_leaks(built: Newsroom) -> None:
    out = public(built)
    with read_session(built.engine) as session:
        slugs = {v.article.slug for v in articles.list_articles(session)}
    live = slugs - {"unapproved-draft", "embargoed-piece"}
    pages = {p.stem for p in (out / "articles").glob("*.html")}
    assert pages == live
    text = all_text(out)
    for hidden in ("unapproved-draft", "尚未审核的稿件", "embargoed-piece", "禁发期内的稿件"):
        assert hidden not in text, f"{hidden} leaks through an index, feed, sitemap or search index"
    page = (out / "articles" / "series-part-2.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    for part in (
        "来源：研究室",
        "作者：王晓明",
        "发布时间：",
        "2026年10月2日 09:00",
        "河湖保护监督跟踪",
        "关键词：",
    ):
        assert part in page
    assert 'loading="lazy"' in page and 'width="760"' in page


def test_embargo_lifts_at_its_moment(built: Newsroom) -> None:
    later = NOW.replace(month=12, day=4, hour=8)
    report = build_site(built, website(built), allow_all, now=later)
    assert "embargoed-piece" in report.published
    assert (public(built) / "articles" / "embargoed-piece.html").is_file()


def test_sitemap_lists_every_page_and_no_link_is_broken(built: Newsroom) -> None:
    out = public(built)
    pages = {
        "/" + p.relative_to(out).as_posix().removesuffix("index.html")
        for p in out.rglob("*.html")
        if p.name not in ("404.html", "search.html")
    }
    assert sitemap_paths(out) == pages
    assert broken_links(out) == []
    assert (out / "robots.txt").read_text().endswith("sitemap.xml\n")
    index = json.loads((out / "search-index.json").read_text(encoding="utf-8"))
    assert {r["u"] for r in index} == {f"/articles/{p.stem}.html" for p in (out / "articles").glob("*.html")}


def test_columns_paginate_and_series_read_in_order(built: Newsroom) -> None:
    out = public(built)
    first = (out / "columns" / "news" / "index.html").read_text(encoding="utf-8")
    second = (out / "columns" / "news" / "page-2.html").read_text(encoding="utf-8")
    assert "工作动态第22条" in first and "工作动态第2条" in second and "工作动态第1条" in second
    assert 'href="/columns/news/page-2.html"' in first and "共 22 篇，2 页" in first
    series = (out / "series" / "rivers.html").read_text(encoding="utf-8")
    assert (
        series.index("河湖保护监督第1篇")
        < series.index("河湖保护监督第2篇")
        < series.index("河湖保护监督第3篇")
    )
    middle = (out / "articles" / "series-part-2.html").read_text(encoding="utf-8")
    assert "上一篇（本系列）：河湖保护监督第1篇" in middle and "下一篇（本系列）：河湖保护监督第3篇" in middle
    home = (out / "index.html").read_text(encoding="utf-8")
    assert "系列报道" in home and "/series/rivers.html" in home


def test_rebuild_with_nothing_changed_writes_nothing(
    built: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(public(built))
    release = public(built).resolve()
    first = build_site(built, website(built), deny_slugs("unapproved-draft"), now=NOW)
    assert not first.deployed and first.written == [] and first.rendered == 0
    assert public(built).resolve() == release and snapshot(public(built)) == before

    # Nor does it stage a copy of the live release only to throw it away.
    def no_staging(*args: object) -> None:
        raise AssertionError("a build with nothing to change staged a release")

    monkeypatch.setattr(deploy.Releases, "stage", no_staging)
    again = build_site(built, website(built), deny_slugs("unapproved-draft"), now=NOW)
    assert not again.deployed and again.release == release and again.written == []
    assert (again.files, again.pages, again.feeds) == (first.files, first.pages, first.feeds)
    assert again.pages == len(list(release.rglob("*.html"))) > 30
    assert again.feeds == len(list((release / "feeds").iterdir()))
    assert again.unchanged == first.unchanged
    assert not list((built.var_dir / "site" / "website" / "releases").glob(".staging-*"))
    # The first thing that does change (an article leaves the site) stages and deploys again.
    monkeypatch.undo()
    gone = build_site(built, website(built), deny_slugs("unapproved-draft", "news-22"), now=NOW)
    assert gone.deployed and "articles/news-22.html" in gone.removed


def test_incremental_rebuild_touches_only_the_changed_files(built: Newsroom) -> None:
    out = public(built)
    before = snapshot(out)
    write_article(
        built.root / "content",
        "news/news-22.md",
        base_meta("news-22", title="工作动态第22条", column="工作动态", date="2026-11-22T08:00:00+08:00"),
        "## 标题\n\n正文改过了。\n",
    )
    assert ingest(built).revised
    report = build_site(built, website(built), deny_slugs("unapproved-draft"), now=NOW)
    after = snapshot(out)
    changed = {p for p in after if before.get(p) != after[p]}
    feeds = {
        f"feeds/{scope}.{suffix}" for scope in ("all", "news") for suffix in ("rss.xml", "atom.xml", "json")
    }
    # The page itself, the feeds carrying its full text, and the sitemap's lastmod; lists show
    # title, date and summary, which did not change, so no index page is rewritten.
    assert changed == {"articles/news-22.html", "sitemap.xml", *feeds}
    assert set(report.written) == changed and report.rendered == 1
    assert "正文改过了" in (out / "articles" / "news-22.html").read_text(encoding="utf-8")
    assert "更新时间" in (out / "articles" / "news-22.html").read_text(encoding="utf-8")


def test_a_feed_waits_for_fragments_no_page_renders(built: Newsroom) -> None:
    # The render cache is gone but every page is current: the feeds' other items are rendered
    # for the feeds alone, after the pages, and the feeds wait for them.
    shutil.rmtree(built.var_dir / "cache" / "render")
    for n in (18, 20, 22):  # more pages than outputs waiting in front of the feeds
        write_article(
            built.root / "content",
            f"news/news-{n}.md",
            base_meta(
                f"news-{n}", title=f"工作动态第{n}条", column="工作动态", date=f"2026-11-{n}T08:00:00+08:00"
            ),
            "## 标题\n\n正文又改过了。\n",
        )
    assert len(ingest(built).revised) == 3
    report = build_site(built, website(built), deny_slugs("unapproved-draft"), now=NOW)
    assert report.rendered > 3 and "articles/news-22.html" in report.written
    feed = json.loads((public(built) / "feeds" / "all.json").read_text(encoding="utf-8"))
    assert len(feed["items"]) > 1 and all(item["content_html"] for item in feed["items"])
    assert "正文又改过了" in json.dumps(feed, ensure_ascii=False)


def test_a_failed_build_keeps_the_old_site(built: Newsroom, monkeypatch: pytest.MonkeyPatch) -> None:
    out = public(built)
    before = {p: (out / p).read_bytes() for p in snapshot(out)}
    release = out.resolve()
    write_article(built.root / "content", "late.md", base_meta("late-news", title="新来的稿件"))
    assert ingest(built).created

    def broken(self: site.Website, item: object, key: str) -> site.Output:
        raise RuntimeError("template exploded")

    monkeypatch.setattr(site.Website, "article", broken)
    with pytest.raises(RuntimeError):
        build_site(built, website(built), allow_all, now=NOW)
    assert out.resolve() == release
    assert {p: (out / p).read_bytes() for p in snapshot(out)} == before
    assert not [
        p for p in (built.var_dir / "site" / "website" / "releases").iterdir() if p.name.startswith(".")
    ]


def test_retraction_removes_the_page_and_every_listing(built: Newsroom) -> None:
    gate = honouring_retractions(deny_slugs("unapproved-draft"))
    adapter = WebsiteAdapter(built, website(built), gate, now=NOW)
    assert isinstance(adapter, ChannelAdapter)
    with read_session(built.engine) as session:
        revision = articles.get_article(session, "series-part-2").revision
    assert adapter.check(revision) == []
    rendition = adapter.render(revision)
    assert rendition == adapter.render(revision), "render is deterministic"
    receipts = adapter.deliver([rendition])
    again = adapter.deliver([rendition])
    assert [r.idempotency_key for r in receipts] == [r.idempotency_key for r in again]
    assert receipts[0].url == "https://www.jianglan-rd.example.gov.cn/articles/series-part-2.html"

    out = public(built)
    media = {p.name for p in (out / "media").iterdir()}
    set_retracted(built, "series-part-2")
    adapter.retract(receipts[0])
    assert not (out / "articles" / "series-part-2.html").exists()
    text = all_text(out)
    assert "series-part-2" not in text and "河湖保护监督第2篇" not in text
    assert "/articles/series-part-3.html" in (out / "articles" / "series-part-1.html").read_text(
        encoding="utf-8"
    )
    assert broken_links(out) == []
    assert {p.name for p in (out / "media").iterdir()} < media, "the retracted article's images go too"

    set_retracted(built, "series-part-2", False)
    receipts = adapter.deliver([rendition])
    assert (out / "articles" / "series-part-2.html").is_file() and receipts


def test_deliver_refuses_what_the_gate_refuses(built: Newsroom) -> None:
    adapter = WebsiteAdapter(built, website(built), deny_slugs("unapproved-draft"), now=NOW)
    with read_session(built.engine) as session:
        revision = articles.get_article(session, "unapproved-draft").revision
    with pytest.raises(DeliveryError, match="not approved"):
        adapter.deliver([adapter.render(revision)])


def test_build_report_and_parallel_render(room: Newsroom) -> None:
    for n in range(40):
        write_article(room.root / "content", f"bulk/a-{n}.md", base_meta(f"bulk-{n}", title=f"批量稿件{n}"))
    assert ingest(room).ok
    report = build_site(room, website(room), allow_all, now=NOW, workers=2)
    assert report.rendered == 43 and report.deployed
    assert len(report.published) == 43 and report.pages > 43


def test_a_build_asks_the_publication_gate_in_queries_that_do_not_grow_with_the_site(room: Newsroom) -> None:
    def selects_of_a_build(count: int) -> int:
        for n in range(count):
            write_article(
                room.root / "content", f"bulk/a-{n}.md", base_meta(f"bulk-{n}", title=f"批量稿件{n}")
            )
        assert ingest(room).ok
        statements: list[str] = []

        def note(conn: object, cursor: object, statement: str, *rest: object) -> None:
            statements.append(statement)

        event.listen(room.engine, "before_cursor_execute", note)
        try:
            report = build_site(room, website(room), publication_gate, now=NOW, workers=1)
        finally:
            event.remove(room.engine, "before_cursor_execute", note)
        # Nothing went through review: the real gate holds every article back, each with its reason.
        assert not report.published and all(
            "never submitted" in " ".join(r) for r in report.excluded.values()
        )
        return sum(1 for q in statements if q.lstrip().upper().startswith("SELECT"))

    assert selects_of_a_build(20) == selects_of_a_build(60)


def test_remembered_revision_rows_never_outlive_their_database(
    newsroom_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUBLISHER_DATABASE_URL", raising=False)
    content = newsroom_dir / "content"
    for name in ("b", "c"):
        write_article(content, f"{name}.md", base_meta(f"art-{name}", title=f"稿件{name}"))

    def ids() -> dict[str, tuple[int, int]]:
        room = Newsroom(newsroom_dir)
        try:
            assert ingest(room).ok
            with read_session(room.engine) as session:
                return {c.slug: (c.revision.article_id, c.revision.number) for c in load_current(session)}
        finally:
            room.close()

    first = ids()
    # The same database address made anew: the same texts get other article ids this time.
    (newsroom_dir / "var" / "publisher.db").unlink()
    write_article(content, "a.md", base_meta("art-a", title="先入库的稿件"))
    second = ids()
    with read_session(Newsroom(newsroom_dir).engine) as session:
        truth = {a.slug: a.id for a in session.exec(select(Article))}
    assert {slug: article_id for slug, (article_id, _) in second.items()} == truth
    assert second["art-b"] != first["art-b"]


def _release_matches_manifest(release: Path) -> bool:
    manifest = json.loads(release.with_name(release.name + ".json").read_text(encoding="utf-8"))
    on_disk = {
        p.relative_to(release).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in release.rglob("*")
        if p.is_file() and "media" not in p.relative_to(release).parts
    }
    return manifest["exact"] and on_disk == {path: entry[0] for path, entry in manifest["files"].items()}


def test_recycled_releases_are_exact_and_the_previous_one_stays_intact(
    built: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    releases = built.var_dir / "site" / "website" / "releases"
    recycled: list[bool] = []
    recycle = deploy.Releases._recycle

    def counting(self: deploy.Releases, current: Path, live: deploy.Manifest, staging: Path) -> bool:
        recycled.append(recycle(self, current, live, staging))
        return recycled[-1]

    monkeypatch.setattr(deploy.Releases, "_recycle", counting)
    gate = honouring_retractions(deny_slugs("unapproved-draft"))
    adapter = WebsiteAdapter(built, website(built), gate, now=NOW)
    with read_session(built.engine) as session:
        revision = articles.get_article(session, "series-part-2").revision
    receipts = adapter.deliver([adapter.render(revision)])
    for n in range(4):
        write_article(
            built.root / "content",
            "news/news-22.md",
            base_meta(
                "news-22",
                title=f"工作动态第22条（第{n}次修改）",
                column="工作动态",
                date="2026-11-22T08:00:00+08:00",
            ),
            f"## 标题\n\n正文改过了{n}次。\n",
        )
        assert ingest(built).revised
        if n == 1:
            set_retracted(built, "series-part-2")
            adapter.retract(receipts[0])  # files go away in one release ...
        elif n == 3:
            set_retracted(built, "series-part-2", False)
            adapter.deliver([adapter.render(revision)])  # ... and come back in a later one
        else:
            assert build_site(built, website(built), gate, now=NOW).deployed
        live = public(built).resolve()
        kept = sorted((p for p in releases.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime_ns)
        assert kept[-1] == live and not [p for p in kept if p.name.startswith(".")]
        assert len(kept) <= 3, "live, the previous release and one spare"
        assert all(_release_matches_manifest(p) for p in kept)
        assert f"正文改过了{n}次" in (live / "articles" / "news-22.html").read_text(encoding="utf-8")
        assert (live / "articles" / "series-part-2.html").exists() == (n != 1 and n != 2)
        assert broken_links(live) == []
    assert recycled.count(True) >= 2, recycled


def test_a_fresh_process_loads_the_templates_a_build_compiled(
    room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(room.root)
    assert ingest(room).ok
    site.environment.cache_clear()  # this process has compiled nothing yet
    build_all(room, allow_all, now=NOW)
    folder = room.var_dir / "cache" / "templates"
    assert any(folder.iterdir()), "the build left its compiled templates"
    # A new process: an environment of its own, with nothing compiled in memory, may not compile.
    site.environment.cache_clear()

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled a template the build had left compiled")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    site.keep_compiled_templates(folder)
    for template in ("article.html", "column.html", "home.html", "series.html", "search.html", "404.html"):
        site.environment().get_template(template)
    site.environment.cache_clear()


def test_a_full_build_looks_up_the_render_cache_in_a_few_queries_not_one_per_article(
    room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(40):
        write_article(room.root / "content", f"bulk/a-{n}.md", base_meta(f"bulk-{n}", title=f"批量稿件{n}"))
    assert ingest(room).ok
    lookups: list[str] = []
    connect = fragments_module.FragmentCache._conn

    def traced(cache: fragments_module.FragmentCache) -> sqlite3.Connection:
        db = connect(cache)
        db.set_trace_callback(lambda sql: lookups.append(sql) if sql.startswith("SELECT") else None)
        return db

    monkeypatch.setattr(fragments_module.FragmentCache, "_conn", traced)
    report = build_site(room, website(room), allow_all, now=NOW, workers=1)
    assert report.rendered == 43
    assert 0 < len(lookups) <= 2, lookups


def test_an_articles_consultation_key_is_the_json_it_always_was() -> None:
    # Stored page keys stay valid across the short cut for articles without a consultation.
    consultations: list[object] = [None, {"id": "c1", "title": "征求意见", "open": True}, []]
    for consultation in consultations:
        expected = json.dumps(consultation, ensure_ascii=False, sort_keys=True)
        assert site._consultation_key(consultation) == expected


def test_the_render_cache_keeps_one_connection_per_thread_between_builds(room: Newsroom) -> None:
    """Each build makes its own FragmentCache: the SQLite file behind it is opened once per thread
    and kept, commits without waiting for the disk (a cache: what a crash loses is rendered again),
    and is opened anew when its folder was removed."""
    first = build_module.fragment_cache(room, website(room))
    second = build_module.fragment_cache(room, website(room))
    db = first._conn()
    assert second._conn() is db
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    elsewhere: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: elsewhere.append(second._conn()))
    thread.start()
    thread.join()
    assert elsewhere and elsewhere[0] is not db
    first.add("k", json.dumps({"html": "<p>x</p>", "toc": "", "media": [], "cover": None}))
    first.flush()
    assert second.get("k").html == "<p>x</p>"
    shutil.rmtree(first.render_cache)
    third = build_module.fragment_cache(room, website(room))
    assert third._conn() is not db and (third.render_cache / "fragments.db").is_file()
    assert third.lacking(["k"]) == {"k"}
