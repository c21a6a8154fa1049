"""Ingest: idempotent, revisions immutable and kept, history readable, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from publisher import articles, audit
from publisher import ingest as ingest_module
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.tables import Article, AuditEvent, Revision, RevisionAsset, SourceStamp
from tests.conftest import reopen
from tests.factory import base_meta, shared_corpus_script, write_article, write_image


def count(room: Newsroom, table: type) -> int:
    with Session(room.engine) as s:
        return len(list(s.exec(select(table))))


def test_first_ingest_stores_every_article_with_its_assets(room: Newsroom) -> None:
    report = ingest(room)
    assert report.ok, report.problems
    assert sorted(c.slug for c in report.created) == ["article-1", "article-2", "article-3"]
    with Session(room.engine) as s:
        view = articles.get_article(s, "article-1")
        assets = articles.assets_of(s, view.revision.id)
    assert view.revision.number == 1
    assert [(a.role, a.ref, a.width, a.height) for a in assets] == [
        ("cover", "images/cover.png", 64, 32),
        ("inline", "images/inline.png", 40, 40),
    ]
    cover_bytes = (room.content_dir / "images" / "cover.png").read_bytes()
    assert assets[0].sha256 == hashlib.sha256(cover_bytes).hexdigest()
    # The bytes a revision names are kept, so it can be rendered after the file changes.
    assert room.blobs.get(assets[0].sha256) == cover_bytes
    # Times come back in UTC and the date keeps its instant.
    assert view.revision.dated_at.isoformat() == "2026-11-20T02:00:00+00:00"
    assert view.meta["date"] == "2026-11-20T02:00:00Z"
    assert view.meta["column"] == "legislation"


def test_a_date_with_fractions_of_a_second_and_any_offset_is_stored_as_its_exact_instant(
    room: Newsroom,
) -> None:
    """The date crosses from a loading process as text: the instant stored keeps its microseconds
    (which the canonical meta, to the second, does not hold) whatever the offset written."""
    date = "2026-11-20T10:00:00.123456+05:45"
    write_article(room.content_dir, "exact.md", base_meta("exact", date=date))
    report = ingest(room)
    assert report.ok, report.problems
    with Session(room.engine) as s:
        revision = articles.get_article(s, "exact").revision
    assert revision.dated_at == datetime.fromisoformat(date)
    assert revision.dated_at.isoformat() == "2026-11-20T04:15:00.123456+00:00"


def test_reingest_unchanged_creates_nothing(room: Newsroom) -> None:
    ingest(room)
    before = (count(room, Revision), count(room, AuditEvent))
    room = reopen(room)
    report = ingest(room)
    assert report.ok
    assert report.created == report.revised == report.reverted == []
    assert report.unchanged == 3
    assert (count(room, Revision), count(room, AuditEvent)) == before


def test_reingest_after_touching_files_without_changes_creates_nothing(room: Newsroom) -> None:
    ingest(room)
    for path in room.content_dir.rglob("*"):
        if path.is_file():
            path.write_bytes(path.read_bytes())  # new mtime, same bytes: the slow path must agree
    report = ingest(reopen(room))
    assert report.created == report.revised == []
    assert report.unchanged == 3


def test_edit_adds_a_revision_and_keeps_the_old_one(room: Newsroom) -> None:
    ingest(room)
    path = room.content_dir / "article-2.md"
    write_article(room.content_dir, "article-2.md", base_meta("article-2", title="改过的标题"))
    report = ingest(reopen(room))
    assert [(c.slug, c.number) for c in report.revised] == [("article-2", 2)]
    with Session(room.engine) as s:
        article, revisions = articles.history(s, "article-2")
    assert [r.number for r in revisions] == [1, 2]
    assert revisions[0].title == "测试稿件第2篇"  # the old text is still readable
    assert revisions[1].title == "改过的标题"
    assert revisions[1].parent_id == revisions[0].id
    assert article.current_revision_id == revisions[1].id
    assert path.exists()


def test_changing_only_an_image_makes_a_new_revision(room: Newsroom) -> None:
    ingest(room)
    write_image(room.content_dir / "images" / "inline.png", (40, 40), (0, 128, 0))
    report = ingest(reopen(room))
    assert [c.slug for c in report.revised] == ["article-1"]


def test_reverting_a_file_returns_to_the_earlier_revision(room: Newsroom) -> None:
    ingest(room)
    original = (room.content_dir / "article-3.md").read_bytes()
    write_article(room.content_dir, "article-3.md", base_meta("article-3", title="临时修改"))
    ingest(reopen(room))
    (room.content_dir / "article-3.md").write_bytes(original)
    report = ingest(reopen(room))
    assert [(c.slug, c.number) for c in report.reverted] == [("article-3", 1)]
    with Session(room.engine) as s:
        article, revisions = articles.history(s, "article-3")
    assert len(revisions) == 2 and article.current_revision_id == revisions[0].id


def test_removed_file_deletes_nothing_and_is_reported(room: Newsroom) -> None:
    ingest(room)
    (room.content_dir / "article-3.md").unlink()
    report = ingest(reopen(room))
    assert report.ok
    assert report.missing == [("article-3", "content/article-3.md")]
    with Session(room.engine) as s:
        assert articles.get_article(s, "article-3").revision.title == "测试稿件第3篇"


def test_moved_file_keeps_the_article(room: Newsroom) -> None:
    ingest(room)
    (room.content_dir / "archive").mkdir()
    (room.content_dir / "article-2.md").rename(room.content_dir / "archive" / "article-2.md")
    report = ingest(reopen(room))
    assert report.missing == [] and report.created == [] and report.revised == []
    with Session(room.engine) as s:
        assert articles.get_article(s, "article-2").article.source == "content/archive/article-2.md"


def test_slug_is_derived_from_the_title_by_pinyin(room: Newsroom) -> None:
    write_article(room.content_dir, "noslug.md", base_meta(None, title="宪法宣传周启动"))
    report = ingest(room)
    assert "xian-fa-xuan-chuan-zhou-qi-dong" in [c.slug for c in report.created]


def test_revision_id_is_the_hash_of_the_normalised_snapshot(room: Newsroom) -> None:
    ingest(room)
    with Session(room.engine) as s:
        first = articles.get_article(s, "article-2").revision.id
    # Same instant written with another offset, CRLF line ends, trailing spaces: same revision.
    text = (room.content_dir / "article-2.md").read_text(encoding="utf-8")
    text = text.replace("2026-11-20T10:00:00+08:00", "2026-11-20T02:00:00+00:00").replace("\n", "  \r\n")
    (room.content_dir / "article-2.md").write_bytes(text.encode("utf-8"))
    report = ingest(reopen(room))
    assert report.revised == [] and report.unchanged == 3
    with Session(room.engine) as s:
        assert articles.get_article(s, "article-2").revision.id == first


def test_every_change_is_in_the_audit_chain(room: Newsroom) -> None:
    ingest(room)
    write_article(room.content_dir, "article-1.md", base_meta("article-1", title="新标题"))
    ingest(reopen(room))
    with Session(room.engine) as s:
        events = list(s.exec(select(AuditEvent).order_by(col(AuditEvent.seq))))
        assert audit.verify(s).ok
    assert [e.action for e in events] == ["revision.create"] * 4
    last = events[-1]
    assert last.object_id == "article-1" and json.loads(last.details_json)["number"] == 2
    assert last.revision_id is not None and len(last.revision_id) == 64


def test_generated_corpus_ingests_unchanged(room: Newsroom, tmp_path: Path) -> None:
    script = shared_corpus_script()
    assert script is not None, "../shared/bench/make_corpus.py is needed beside the checkout"
    out = room.content_dir / "corpus"
    subprocess.run(
        [sys.executable, str(script), str(out), "--count", "40", "--seed", "7", "--images", "--quiet"],
        check=True,
    )
    report = ingest(room)
    assert report.ok, report.problems[:5]
    assert len(report.created) == 43
    with Session(room.engine) as s:
        assert len(list(s.exec(select(RevisionAsset)))) > 40
        kinds = {a.kind for a in s.exec(select(Revision))}
    assert {"news", "meeting_report", "interpretation", "feature"} <= kinds
    assert count(room, Article) == 43


def _backdate(root: Path, seconds: int = 60) -> None:
    past = time.time_ns() - seconds * 1_000_000_000
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(past, past))


def _stamp_in_the_tick_of(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest's clock pinned to one second after `path` was last written, as a prompt ingest
    stamps it, whatever the machine's load: a busy machine let more than the racy window pass
    between writing the fixture's files and stamping them, and the edit went unseen by design."""
    stamped = datetime.fromtimestamp(path.stat().st_mtime_ns / 1_000_000_000 + 1, UTC)
    monkeypatch.setattr(ingest_module, "utc_now", lambda: stamped)


def test_same_size_edit_within_the_same_clock_tick_is_still_seen(
    room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = room.content_dir / "article-2.md"
    _stamp_in_the_tick_of(path, monkeypatch)
    ingest(room)
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("第2篇", "第9篇"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime: only bytes differ
    assert path.stat().st_size == stat.st_size
    report = ingest(reopen(room))
    assert [c.slug for c in report.revised] == ["article-2"]


def test_same_size_image_swap_within_the_same_clock_tick_is_still_seen(
    room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = room.content_dir / "images" / "inline.png"
    _stamp_in_the_tick_of(image, monkeypatch)
    ingest(room)
    stat = image.stat()
    write_image(image, (40, 40), (20, 60, 121))
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    if image.stat().st_size != stat.st_size:
        pytest.skip("the re-encoded image changed size; the stat alone would see it")
    report = ingest(reopen(room))
    assert [c.slug for c in report.revised] == ["article-1"]


def test_settled_unchanged_files_are_not_even_read(room: Newsroom, monkeypatch: pytest.MonkeyPatch) -> None:
    _backdate(room.content_dir)
    ingest(room)
    read: list[Path] = []
    real = Path.read_bytes

    def counting(self: Path) -> bytes:
        read.append(self)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    report = ingest(reopen(room))
    assert report.unchanged == 3
    assert [p for p in read if p.is_relative_to(room.content_dir)] == []


def test_touched_files_are_restamped_once_then_skipped(room: Newsroom) -> None:
    _backdate(room.content_dir, 120)
    ingest(room)
    _backdate(room.content_dir, 60)  # every stat moves; no byte changes
    with Session(room.engine) as s:
        before = {st.source: st.mtime_ns for st in s.exec(select(SourceStamp))}
    report = ingest(reopen(room))
    assert report.unchanged == 3 and report.revised == []
    with Session(room.engine) as s:
        after = {st.source: st.mtime_ns for st in s.exec(select(SourceStamp))}
    assert after.keys() == before.keys() and all(after[k] > before[k] for k in after)
