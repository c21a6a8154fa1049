"""Ingest loading in worker processes and storing while it loads: the same report, the same store,
the same audit chain as one process that loads everything first and then stores."""

from __future__ import annotations

import multiprocessing
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from publisher import audit
from publisher import ingest as ingest_module
from publisher.content import parallel
from publisher.content.loader import load_article
from publisher.ingest import IngestReport, ingest
from publisher.ingest_writer import write_batch
from publisher.newsroom import Newsroom
from publisher.store.tables import Article, AuditEvent, Revision, RevisionAsset
from tests.conftest import reopen
from tests.factory import base_meta, write_article, write_image

BROKEN_DATE = base_meta("broken-date", date="2026-11-20T10:00:00")  # no UTC offset


def _first_round(content: Path) -> None:
    """Good articles with shared and copied images, broken files and a slug claimed twice."""
    write_image(content / "images" / "copy-of-cover.png")  # the same bytes as cover.png
    (content / "images" / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\nnot an image")
    shutil.copy(content / "images" / "garbage.png", content / "images" / "garbage-copy.png")
    for n in range(12):
        write_image(content / "images" / f"n-{n:02}.png", (20 + n, 10), (n * 20, 40, 90))
        cover = "images/cover.png" if n % 2 else "images/copy-of-cover.png"
        write_article(
            content,
            f"n/n-{n:02}.md",
            base_meta(f"n-{n:02}", title=f"第{n}篇", cover=f"../{cover}"),
            f"导语。\n\n![图](../images/n-{n:02}.png)\n\n正文。\n",
        )
    write_article(content, "broken-date.md", BROKEN_DATE)
    write_article(content, "broken-image.md", base_meta("broken-image", cover="images/garbage.png"))
    write_article(content, "broken-image-2.md", base_meta("broken-image-2", cover="images/garbage-copy.png"))
    write_article(content, "twin-a.md", base_meta("twin", title="双胞胎甲"))
    write_article(content, "twin-b.md", base_meta("twin", title="双胞胎乙"))
    write_article(content, "no-slug.md", base_meta(None, title="宪法宣传周启动"))


def _second_round(content: Path) -> None:
    """An edit, a moved file, a new file claiming a stored slug, a fixed file and a new twin."""
    write_article(content, "n/n-03.md", base_meta("n-03", title="第3篇（修订）"))
    (content / "archive").mkdir()
    (content / "article-2.md").rename(content / "archive" / "article-2.md")
    write_article(content, "0-first.md", base_meta("article-3", title="抢占他人的 slug"))
    write_article(content, "broken-date.md", base_meta("broken-date"))
    write_article(content, "n/0-twin.md", base_meta("n-07", title="路径在前的重复"))


def _comparable(report: IngestReport) -> dict[str, Any]:
    """The report, with the stored changes in slug order: articles that had to wait for every
    claim are stored after the others, which is the one thing allowed to differ."""
    data: dict[str, Any] = dict(report.as_dict())
    for problem in data["problems"]:
        # Pillow names the buffer it read by its address: the one part of a reason that varies.
        problem["reason"] = re.sub(r" at 0x[0-9a-f]+", "", problem["reason"])
    for key in ("created", "revised", "reverted"):
        data[key] = sorted(data[key], key=lambda change: change["slug"])
    return data


def _stored(room: Newsroom) -> dict[str, Any]:
    with Session(room.engine) as s:
        assert audit.verify(s).ok
        articles = s.execute(
            sa_select(
                col(Article.slug),
                col(Article.source),
                col(Article.current_revision_id),
                col(Article.revision_count),
            )
        ).all()
        revisions = s.execute(
            sa_select(
                col(Revision.id),
                col(Revision.number),
                col(Revision.parent_id),
                col(Revision.source),
                col(Revision.body),
            )
        ).all()
        assets = s.execute(
            sa_select(
                col(RevisionAsset.revision_id),
                col(RevisionAsset.position),
                col(RevisionAsset.role),
                col(RevisionAsset.ref),
                col(RevisionAsset.path),
                col(RevisionAsset.sha256),
                col(RevisionAsset.width),
            )
        ).all()
        events = s.execute(
            sa_select(col(AuditEvent.action), col(AuditEvent.object_id), col(AuditEvent.revision_id))
        ).all()
    return {
        "articles": sorted(map(tuple, articles)),
        "revisions": sorted(map(tuple, revisions)),
        "assets": sorted(map(tuple, assets)),
        "events": sorted(map(tuple, events)),
    }


def _load_first_then_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """How ingest ran before: one process, every claim known before the first article is stored."""
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10**9)
    monkeypatch.setattr(ingest_module, "_owner_already", lambda *args: False)


def _workers_and_small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 0)
    monkeypatch.setattr(parallel, "CHUNK", 2)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    monkeypatch.setattr(ingest_module, "BATCH", 3)


def test_workers_and_early_batches_report_and_store_what_one_process_storing_last_does(
    room: Newsroom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    room.engine  # the room's database, before the reference newsroom sets its own  # noqa: B018
    _first_round(room.content_dir)
    reference_root = tmp_path / "reference"
    shutil.copytree(room.root, reference_root, ignore=shutil.ignore_patterns("var"))

    with monkeypatch.context() as patch:
        patch.setenv("PUBLISHER_DATABASE_URL", f"sqlite:///{tmp_path / 'reference.db'}")
        reference = Newsroom(reference_root)
        _load_first_then_store(patch)
        expected = [_comparable(ingest(reference))]
        _second_round(reference.content_dir)
        reference = reopen(reference)
        expected.append(_comparable(ingest(reference)))
        expected_store = _stored(reference)
        reference.close()

    _workers_and_small_batches(monkeypatch)
    got = [_comparable(ingest(room))]
    _second_round(room.content_dir)
    room = reopen(room)
    got.append(_comparable(ingest(room)))

    assert got == expected
    assert _stored(room) == expected_store
    # What the rounds hold, so that the comparison above compares something.
    first, second = got
    assert len(first["created"]) == 3 + 12 + 2 and len(first["problems"]) == 4
    assert [c["slug"] for c in second["revised"]] == ["n-03"]
    assert [(p["file"], p["field"]) for p in second["problems"]] == [
        ("content/broken-image-2.md", "cover"),
        ("content/broken-image.md", "cover"),
        ("content/0-first.md", "slug"),
        ("content/n/0-twin.md", "slug"),
        ("content/twin-b.md", "slug"),
    ]


def test_a_failing_batch_stops_the_workers_and_stores_nothing_more(
    room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    _first_round(room.content_dir)
    _workers_and_small_batches(monkeypatch)
    real = write_batch
    calls: list[int] = []

    def second_fails(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "write_batch", second_fails)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest(room)
    assert multiprocessing.active_children() == []
    with Session(room.engine) as s:
        assert len(s.execute(sa_select(col(Article.id))).all()) == ingest_module.BATCH
        assert audit.verify(s).ok


def test_a_worker_that_fails_fails_the_ingest(room: Newsroom, monkeypatch: pytest.MonkeyPatch) -> None:
    _first_round(room.content_dir)
    _workers_and_small_batches(monkeypatch)
    real = load_article

    def broken(path: Path, ctx: Any) -> Any:
        if path.name == "n-05.md":
            raise OSError("the disk went away")
        return real(path, ctx)

    monkeypatch.setattr(parallel, "load_article", broken)
    with pytest.raises(OSError, match="the disk went away"):
        ingest(room)
    assert multiprocessing.active_children() == []
