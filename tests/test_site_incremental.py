"""Differential: a site rebuilt incrementally, edit after edit, is byte for byte the site a build
from scratch makes of the same store and the same publication history."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.site import build as build_module
from publisher.site import select as select_module
from publisher.site import site as site_module
from publisher.site.build import build_all, build_site
from publisher.site.select import load_current
from publisher.store.engine import read_session
from tests.factory import base_meta, write_article
from tests.site_support import NOW, deny_slugs, populate, public, website

GATE = deny_slugs("unapproved-draft")


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "media" not in p.relative_to(folder).parts
    }


def forget_process_memories() -> None:
    """What a build remembers across builds of one process, gone: the next build is a new process's."""
    select_module._known.clear()
    select_module._last_rows.clear()
    select_module._metas.clear()
    select_module._items.clear()
    site_module._search_records.clear()
    site_module._article_keys.clear()
    site_module._lastmods.clear()
    build_module._derivative_names.cache_clear()
    build_module._shown.clear()


def from_scratch(room: Newsroom) -> dict[str, bytes]:
    """The live site rebuilt with no release, render cache or memory of earlier builds; only the
    publication history (which revision of each article was published first) is kept, as it
    decides which pages say they were corrected."""
    live = public(room).resolve()
    history = json.loads(live.with_name(live.name + ".json").read_text(encoding="utf-8"))["published"]
    public(room).unlink()
    state = room.var_dir / "site" / "website"
    shutil.rmtree(state)
    shutil.rmtree(room.var_dir / "cache" / "render")
    forget_process_memories()
    seed = state / "releases" / "seed"
    seed.mkdir(parents=True)
    seed.with_name("seed.json").write_text(json.dumps({"published": history}), encoding="utf-8")
    os.symlink(seed, public(room))
    build_site(room, website(room), GATE, now=NOW)
    return tree(public(room))


def edit(
    room: Newsroom, name: str, slug: str, body: str = "## 标题\n\n正文第一段，内容充实。\n", **meta: str
) -> None:
    write_article(room.root / "content", name, base_meta(slug, **meta), body)
    assert ingest(room).ok


def news(n: int, **meta: str) -> dict[str, str]:
    return {
        "title": f"工作动态第{n}条",
        "column": "工作动态",
        "date": f"2026-11-{n:02d}T08:00:00+08:00",
        **meta,
    }


EDITS: dict[str, Callable[[Newsroom, int], None]] = {
    # The text only: the page, the feeds carrying it and the sitemap's date.
    "body": lambda room, n: edit(
        room, "news/news-12.md", "news-12", f"## 标题\n\n第{n}次改过的正文。\n", **news(12)
    ),
    # A title shows in lists, neighbours' links, feeds, the search index and the home page.
    "title": lambda room, n: edit(room, "news/news-7.md", "news-7", **news(7, title=f"改过{n}次的标题")),
    # A new date moves the article among its column's pages and its neighbours.
    "date": lambda room, n: edit(
        room, "news/news-3.md", "news-3", **news(3, date=f"2026-11-{24 + n:02d}T08:00:00+08:00")
    ),
    # A series part: the series page and every part's page list it.
    "series": lambda room, n: edit(
        room,
        "series-2.md",
        "series-part-2",
        column="监督在线·实效追踪",
        title=f"河湖保护监督第2篇（第{n}次修订）",
        date="2026-10-02T09:00:00+08:00",
        series={"id": "rivers", "title": "河湖保护监督跟踪", "part": 2, "stage": "inspection"},  # type: ignore[arg-type]
    ),
    # A new article on the site.
    "new": lambda room, n: edit(room, f"news/extra-{n}.md", f"extra-{n}", **news(25 + n)),
}


@pytest.mark.parametrize("change", sorted(EDITS))
def test_incremental_rebuilds_make_the_site_a_build_from_scratch_makes(room: Newsroom, change: str) -> None:
    populate(room.root)
    assert ingest(room).ok
    build_all(room, GATE, now=NOW)
    # Three rebuilds: the third is the first to recycle a spare release.
    for n in range(1, 4):
        EDITS[change](room, n)
        report = build_site(room, website(room), GATE, now=NOW)
        assert report.deployed
    incremental = tree(public(room))
    scratch = from_scratch(room)
    assert incremental.keys() == scratch.keys()
    differ = sorted(path for path in incremental if incremental[path] != scratch[path])
    assert differ == []


def test_the_search_index_is_the_json_of_its_records(room: Newsroom) -> None:
    populate(room.root)
    assert ingest(room).ok
    build_all(room, GATE, now=NOW)
    edit(room, "news/news-7.md", "news-7", **news(7, title="改过的标题"))
    build_site(room, website(room), GATE, now=NOW)
    data = (public(room) / "search-index.json").read_bytes()
    records = json.loads(data)
    assert any(r["t"] == "改过的标题" for r in records) and len(records) > 20
    assert data == json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def test_current_rows_run_newest_first_and_by_slug_within_a_date(room: Newsroom) -> None:
    content = room.root / "content"
    for slug, date in (
        ("b-same", "2026-11-20T10:00:00+08:00"),
        ("a-same", "2026-11-20T10:00:00+08:00"),
        ("c-older", "2026-11-19T10:00:00+08:00"),
        ("z-newer", "2026-11-21T10:00:00+08:00"),
        ("a-b", "2026-11-20T10:00:00+08:00"),
        ("ab", "2026-11-20T10:00:00+08:00"),
    ):
        write_article(content, f"{slug}.md", base_meta(slug, date=date))
    assert ingest(room).ok
    with read_session(room.engine) as session:
        rows = load_current(session)
    order = [(row.revision.dated_at, row.slug) for row in rows]
    assert order == sorted(order, key=lambda pair: (-pair[0].timestamp(), pair[1]))
    assert len(rows) == len({row.slug for row in rows}) and {"a-b", "ab", "z-newer"} <= {r.slug for r in rows}


def test_a_rebuild_makes_anew_only_the_rows_of_articles_that_changed(room: Newsroom) -> None:
    populate(room.root)
    assert ingest(room).ok
    with read_session(room.engine) as session:
        before = {row.slug: row for row in load_current(session)}
    edit(room, "news/news-12.md", "news-12", "## 标题\n\n改过的正文。\n", **news(12))
    with read_session(room.engine) as session:
        after = {row.slug: row for row in load_current(session)}
    assert after.keys() == before.keys()
    remade = sorted(slug for slug in after if after[slug] is not before[slug])
    assert remade == ["news-12"]
    assert after["news-12"].revision.id != before["news-12"].revision.id
    # A row outlives the session that read it: its body is read when asked for, in a session of its own.
    assert "改过的正文" in after["news-12"].revision.body
    assert "改过的正文" not in before["news-12"].revision.body
    assert before["news-7"].revision.body == after["news-7"].revision.body


def test_rows_are_remembered_per_engine(room: Newsroom) -> None:
    """Rows are remembered for the engine that read them (and its body reader): another engine on
    the store, as a new Newsroom opens, reads its own."""
    populate(room.root)
    assert ingest(room).ok
    with read_session(room.engine) as session:
        first = {row.slug: row for row in load_current(session)}
    other = Newsroom(room.root)
    try:
        with read_session(other.engine) as session:
            again = {row.slug: row for row in load_current(session)}
        # Another engine on the same store reads its own rows (the same revisions, by id).
        assert all(again[slug] is not first[slug] for slug in first)
        assert {s: r.revision.id for s, r in again.items()} == {s: r.revision.id for s, r in first.items()}
    finally:
        other.close()
