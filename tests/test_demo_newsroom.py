"""The repository root is a working demo newsroom; keep it valid and complete."""

from __future__ import annotations

import importlib.util
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from publisher.content.loader import LoadContext, LoadedArticle, load_article
from publisher.ingest import check, scan
from publisher.newsroom import Newsroom
from tests.factory import REPO, shared_corpus_script


@pytest.fixture(scope="module")
def demo() -> Newsroom:
    return Newsroom(REPO)


@pytest.fixture(scope="module")
def loaded(demo: Newsroom) -> list[LoadedArticle]:
    ctx = LoadContext(root=demo.root, taxonomy=demo.taxonomy)
    items = [load_article(p, ctx) for p in scan(demo.content_dir)]
    assert all(isinstance(i, LoadedArticle) for i in items), [
        i for i in items if not isinstance(i, LoadedArticle)
    ]
    return [i for i in items if isinstance(i, LoadedArticle)]


def test_demo_passes_check(demo: Newsroom) -> None:
    report = check(demo)
    assert report.ok, report.problems
    assert report.files >= 15


def test_every_column_has_articles_and_every_article_a_cover(
    demo: Newsroom, loaded: list[LoadedArticle]
) -> None:
    per_column = Counter(item.snapshot.meta["column"] for item in loaded)
    assert {c.key for c in demo.settings.columns} <= set(per_column)
    # A plain notice may go without a picture; everything else carries a cover.
    assert all(item.snapshot.meta.get("cover") for item in loaded if item.meta.kind != "notice")
    kinds = {item.meta.kind for item in loaded}
    assert {"news", "meeting_report", "interpretation", "feature", "notice", "video"} <= kinds
    assert any(item.meta.sensitive for item in loaded)


def test_supervision_thread_follows_one_matter_in_order(loaded: list[LoadedArticle]) -> None:
    series: dict[str, list[Any]] = {}
    for item in loaded:
        if item.meta.series is not None and item.snapshot.meta["column"] == "supervision":
            series.setdefault(item.meta.series.id, []).append(item.meta)
    longest = max(series.values(), key=len)
    longest.sort(key=lambda m: m.series.part)
    assert len(longest) >= 3
    assert [m.series.part for m in longest] == list(range(1, len(longest) + 1))
    stages = [m.series.stage for m in longest]
    assert stages[0] == "inspection" and "inquiry" in stages and stages[-1] == "rectification"
    dates = [m.date for m in longest]
    assert dates == sorted(dates)


def test_meeting_reports_name_meetings_in_the_register(loaded: list[LoadedArticle]) -> None:
    register = tomllib.loads((REPO / "schedules" / "meetings.toml").read_text(encoding="utf-8"))["meeting"]
    known = {(m["name"], m["term"], m["session"], m["start"], m["end"]) for m in register}
    reports = [i.meta for i in loaded if i.meta.kind == "meeting_report"]
    assert reports
    for meta in reports:
        if meta.meeting is not None:
            m = meta.meeting
            assert (m.name, m.term, m.session, m.start, m.end) in known


def test_an_interpretation_of_a_new_regulation(loaded: list[LoadedArticle]) -> None:
    regs = [i.meta.regulation for i in loaded if i.meta.kind == "interpretation" and i.meta.regulation]
    assert any(r.effective is not None and r.passed is not None for r in regs)


def test_key_dates_include_constitution_day(demo: Newsroom) -> None:
    dates = tomllib.loads((demo.schedules_dir / "key-dates.toml").read_text(encoding="utf-8"))
    assert any(
        d["key"] == "constitution-day" and d["name"] == "国家宪法日" and d["date"] == "12-04"
        for d in dates["annual"]
    )


def test_channels_cover_the_media_matrix(demo: Newsroom) -> None:
    kinds = Counter(c.kind for c in demo.channels.channels.values())
    assert not demo.channels.problems
    assert kinds["website"] == 1 and kinds["wechat"] == 1 and kinds["feed"] >= 1 and kinds["partner"] == 2


def test_newsroom_declares_everything_the_corpus_generator_writes(demo: Newsroom) -> None:
    script = shared_corpus_script()
    assert script is not None
    spec = importlib.util.spec_from_file_location("make_corpus", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.COLUMNS) <= set(demo.taxonomy.columns)
    assert set(module.SOURCE_DEPARTMENTS) <= demo.taxonomy.departments
    assert set(module.COMMITTEES) <= demo.taxonomy.committees


def test_demo_images_are_real_images(demo: Newsroom, loaded: list[LoadedArticle]) -> None:
    uses = [u for item in loaded for u in item.snapshot.assets]
    assert sum(1 for u in uses if u.role == "inline") >= 3
    assert all(u.asset.width >= 300 for u in uses if u.role == "cover")
    assert all((demo.root / u.asset.path).is_relative_to(demo.content_dir) for u in uses)


def test_repo_has_no_runtime_state_committed() -> None:
    assert ".gitignore" in {p.name for p in Path(REPO).iterdir()}
    assert "/var/" in (REPO / ".gitignore").read_text(encoding="utf-8")
