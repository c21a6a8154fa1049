"""Bad input: every problem reported at once with file, line and field; stored data untouched."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel

from publisher.errors import Problem
from publisher.ingest import check, ingest
from publisher.newsroom import Newsroom
from tests.conftest import reopen
from tests.factory import write_image

GOOD_FRONT = """\
title: 一篇好稿件
slug: {slug}
date: 2026-11-20T10:00:00+08:00
column: 良法善治护航发展
kind: news
authors: [王晓明]
department: 研究室
tags: [立法]
"""


def front(slug: str = "bad") -> str:
    return GOOD_FRONT.format(slug=slug)


def md(front_text: str, body: str = "正文。\n") -> bytes:
    return f"---\n{front_text}---\n\n{body}".encode()


def dump(room: Newsroom) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in primary-key order: what "byte-for-byte unchanged" compares.

    `source_stamp` is left out: it caches file stats, and may be refreshed for untouched good
    files whose stamps have become old enough to trust (see ingest's racy rule)."""
    out: dict[str, list[tuple[object, ...]]] = {}
    with Session(room.engine) as s:
        for table in SQLModel.metadata.sorted_tables:
            if table.name == "source_stamp":
                continue
            rows = s.execute(sa_select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


@dataclass(frozen=True)
class Case:
    name: str
    write: Callable[[Path], None]  # writes content/bad.md (and whatever else it needs)
    field: str | None
    line: int | None
    says: str


def _file(data: bytes) -> Callable[[Path], None]:
    def write(content: Path) -> None:
        (content / "bad.md").write_bytes(data)

    return write


def _with_image(image_bytes: bytes | None, ref: str) -> Callable[[Path], None]:
    def write(content: Path) -> None:
        if image_bytes is not None:
            (content / "images" / "broken.png").write_bytes(image_bytes)
        (content / "bad.md").write_bytes(md(front() + f"cover: {ref}\n"))

    return write


def _duplicate(content: Path) -> None:
    (content / "bad.md").write_bytes(md(front(slug="article-2")))


CASES = [
    Case("yaml-syntax", _file(md(front().replace("kind: news", "kind: [news"))), None, 7, "YAML"),
    Case("missing-title", _file(md(front().replace("title: 一篇好稿件\n", ""))), "title", 1, "缺少必填字段"),
    Case("wrong-type", _file(md(front() + "sensitive: 也许\n")), "sensitive", 10, "true 或 false"),
    Case(
        "wrong-type-list-item",
        _file(md(front().replace("tags: [立法]", "tags:\n  - 立法\n  - {a: b}"))),
        "tags.1",
        11,
        "应为文本",
    ),
    Case(
        "unknown-column",
        _file(md(front().replace("良法善治护航发展", "不存在的栏目"))),
        "column",
        5,
        "未知栏目",
    ),
    Case("unknown-field", _file(md(front() + "titel: 笔误\n")), "titel", 10, "未知字段"),
    Case("duplicate-slug", _duplicate, "slug", 3, "article-2"),
    Case("date-without-offset", _file(md(front().replace("+08:00", ""))), "date", 4, "时区"),
    Case(
        "date-only", _file(md(front().replace("2026-11-20T10:00:00+08:00", "2026-11-20"))), "date", 4, "时区"
    ),
    Case(
        "impossible-date",
        _file(md(front().replace("2026-11-20T10", "2026-02-30T10"))),
        "date",
        4,
        "日期不存在",
    ),
    Case(
        "not-utf8",
        _file(md(front()).replace("一篇好稿件".encode(), "一篇好稿件".encode("gbk"))),
        None,
        2,
        "UTF-8",
    ),
    Case("image-missing", _with_image(None, "images/nowhere.png"), "cover", 10, "图片不存在"),
    Case(
        "image-not-decodable",
        _with_image(b"\x89PNG\r\n\x1a\nnot really", "images/broken.png"),
        "cover",
        10,
        "无法解码",
    ),
    Case(
        "image-escapes-newsroom",
        _with_image(None, "../../../../../../etc/passwd"),
        "cover",
        10,
        "超出新闻室目录",
    ),
    Case("image-url", _with_image(None, "https://example.org/x.png"), "cover", 10, "本地文件"),
    Case(
        "inline-image-missing",
        _file(md(front(), "第一段。\n\n第二段。\n\n![图](images/gone.jpg)\n")),
        "body",
        16,
        "图片不存在",
    ),
    Case("empty-body", _file(md(front(), "\n  \n")), "body", 11, "正文为空"),
    Case("unknown-channel", _file(md(front() + "channels: [website, weibo]\n")), "channels", 10, "weibo"),
    Case("no-front-matter", _file("只是正文，没有元数据。\n".encode()), None, 1, "---"),
    Case("unclosed-front-matter", _file(b"---\ntitle: x\n"), None, 1, "---"),
]


def only(problems: list[Problem], file: str) -> list[Problem]:
    return [p for p in problems if p.file == file]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_file_is_reported_and_stored_data_is_untouched(room: Newsroom, case: Case) -> None:
    assert ingest(room).ok
    before = dump(room)
    case.write(room.content_dir)

    report = ingest(reopen(room))

    assert not report.ok
    problems = only(report.problems, "content/bad.md")
    assert problems, report.problems
    first = problems[0]
    assert case.says in first.reason, first
    assert first.field == case.field, first
    assert first.line == case.line, first
    assert report.skipped == ["content/bad.md"]
    assert report.created == report.revised == []
    assert dump(room) == before


def test_check_reports_the_same_problems_and_writes_nothing(newsroom_dir: Path) -> None:
    (newsroom_dir / "content" / "bad.md").write_bytes(md(front().replace("+08:00", "")))
    room = Newsroom(newsroom_dir)
    report = check(room)
    errors = [p for p in report.problems if p.severity == "error"]
    assert [(p.file, p.field, p.line) for p in errors] == [("content/bad.md", "date", 4)]
    assert not (newsroom_dir / "var").exists()


def test_one_run_reports_every_problem_and_still_stores_the_valid_files(room: Newsroom) -> None:
    content = room.content_dir
    (content / "a-bad.md").write_bytes(
        md(front(slug="a-bad").replace("良法善治护航发展", "无此栏目") + "sensitive: 2\n")
    )
    (content / "b-bad.md").write_bytes(md(front(slug="b-bad") + "cover: images/none.png\n", ""))
    (content / "c-good.md").write_bytes(md(front(slug="c-good")))
    report = ingest(room)
    assert sorted(report.skipped) == ["content/a-bad.md", "content/b-bad.md"]
    fields = sorted((p.file, p.field or "") for p in report.problems)
    assert fields == [
        ("content/a-bad.md", "column"),
        ("content/a-bad.md", "sensitive"),
        ("content/b-bad.md", "body"),
        ("content/b-bad.md", "cover"),
    ]
    assert sorted(c.slug for c in report.created) == ["article-1", "article-2", "article-3", "c-good"]


def test_a_stored_article_broken_by_an_edit_keeps_its_revision_and_is_not_reported_missing(
    room: Newsroom,
) -> None:
    ingest(room)
    before = dump(room)
    path = room.content_dir / "article-2.md"
    path.write_text(path.read_text(encoding="utf-8").replace("kind: news", "kind: rumour"), encoding="utf-8")
    report = ingest(reopen(room))
    assert [(p.file, p.field) for p in report.problems] == [("content/article-2.md", "kind")]
    assert "rumour" in report.problems[0].reason and "news" in report.problems[0].reason
    assert report.missing == []
    assert dump(room) == before


def test_duplicate_slug_keeps_the_stored_owner_whatever_the_path_order(room: Newsroom) -> None:
    ingest(room)
    # "0-first.md" sorts before "article-3.md" but must not take the slug from the stored article.
    (room.content_dir / "0-first.md").write_bytes(md(front(slug="article-3")))
    report = ingest(reopen(room))
    assert [(p.file, p.field) for p in report.problems] == [("content/0-first.md", "slug")]
    assert "content/article-3.md" in report.problems[0].reason


def test_shared_broken_image_is_reported_for_every_article_that_uses_it(room: Newsroom) -> None:
    write_image(room.content_dir / "images" / "ok.png")
    (room.content_dir / "images" / "ok.png").write_bytes(b"garbage")
    for slug in ("x-1", "x-2"):
        (room.content_dir / f"{slug}.md").write_bytes(md(front(slug=slug) + "cover: images/ok.png\n"))
    report = ingest(room)
    assert sorted(p.file for p in report.problems) == ["content/x-1.md", "content/x-2.md"]
    assert all(p.reason.endswith("images/ok.png") for p in report.problems)
