"""Declaring a consultation in front matter: window, clauses, problems, and its registration when
the approved revision goes live on the website."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select

from publisher.consultation.declare import ConsultationDecl, clauses, window
from publisher.content.loader import LoadContext, load_article
from publisher.errors import Problem
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.numerals import chinese_number
from publisher.site.build import build_site
from publisher.store.engine import read_session
from publisher.store.tables import AuditEvent, Consultation
from tests.consultation_support import DRAFT, OPEN, SLUG, add_draft, go_live
from tests.site_support import deny_slugs, populate, public, website

TZ = ZoneInfo("Asia/Shanghai")


def test_chinese_clause_numbers_read_as_their_value() -> None:
    assert [chinese_number(t) for t in ("一", "十", "十二", "二十", "二十五", "一百", "一百零三", "六十八", "7")] == [
        1, 10, 12, 20, 25, 100, 103, 68, 7,
    ]  # fmt: skip


def test_clauses_are_the_headings_with_stable_keys_and_a_repeated_number_is_a_problem() -> None:
    found, problems = clauses(
        "## 第一条　目的\n\n正文\n\n### 第十二条 筹备\n\n文字 第三条 不是标题\n\n### 第十二条 又一次\n"
    )
    assert [(c.key, c.label, c.heading, c.line) for c in found] == [
        ("1", "第一条", "目的", 1),
        ("12", "第十二条", "筹备", 5),
    ]
    assert len(problems) == 1 and problems[0].line == 9 and "重复" in problems[0].reason


def test_the_window_defaults_to_thirty_days_and_a_closing_date_means_the_end_of_that_day() -> None:
    opens, closes = window(ConsultationDecl.model_validate({"opens": "2026-11-02"}), TZ)
    assert opens == datetime(2026, 11, 2, tzinfo=TZ) and (closes - opens).days == 30
    _, closes = window(ConsultationDecl.model_validate({"opens": "2026-11-02", "closes": "2026-12-01"}), TZ)
    assert closes == datetime(2026, 12, 2, tzinfo=TZ)


def _problems(room: Newsroom, text: str) -> dict[str | None, Problem]:
    path = add_draft(room.root, text)
    result = load_article(path, LoadContext(room.root.resolve(), room.taxonomy))
    assert isinstance(result, list)
    return {p.field: p for p in result}


def test_bad_consultation_front_matter_names_the_file_line_and_field(room: Newsroom) -> None:
    draft = DRAFT.read_text(encoding="utf-8")
    typo = _problems(room, draft.replace("  closes: 2026-12-01", "  closes: 2026-12-01\n  nmae: x"))
    line = typo["consultation.nmae"].line
    assert (
        line is not None
        and draft.replace("  closes: 2026-12-01", "  closes: 2026-12-01\n  nmae: x").split("\n")[line - 1]
        == "  nmae: x"
    )
    backwards = _problems(room, draft.replace("  closes: 2026-12-01", "  closes: 2026-10-01"))
    assert "截止时间早于开始时间" in backwards["consultation"].reason
    assert backwards["consultation"].file.endswith(f"{SLUG}.md")
    twice = draft.replace("### 第二十五条　电子投票", "### 第十二条　电子投票")
    body = _problems(room, twice)["body"]
    assert body.line is not None and "重复" in body.reason
    assert twice.split("\n")[body.line - 1].startswith("### 第十二条　电子投票")


def test_the_live_draft_registers_its_consultation_with_window_clauses_and_questions(room: Newsroom) -> None:
    add_draft(room.root)
    go_live(room)
    with read_session(room.engine) as session:
        row = session.get(Consultation, SLUG)
        assert row is not None
        assert row.opens_at == datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
        assert row.closes_at == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
        assert [c["key"] for c in json.loads(row.clauses_json)] == ["1", "12", "25", "38", "46", "56"]
        assert len(json.loads(row.questions_json)) == 3
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.object_id == SLUG)).all()
        assert "consultation.registered" in actions
    page = (public(room) / "articles" / f"{SLUG}.html").read_text(encoding="utf-8")
    assert page.count('class="consultation-form"') == 7  # the whole draft and six clauses
    assert 'action="http://127.0.0.1:8730/consultations/property-management-draft-comments/comments"' in page
    assert 'name="website"' in page and 'name="consent"' in page


def test_after_closing_the_page_has_no_form_and_links_the_published_feedback_report(room: Newsroom) -> None:
    add_draft(room.root)
    feedback = DRAFT.parent / "property-management-draft-feedback.md"
    (room.root / "content" / "legislation" / feedback.name).write_text(
        feedback.read_text(encoding="utf-8"), encoding="utf-8"
    )
    go_live(room, datetime.fromisoformat("2026-12-20T10:00:00+08:00"))
    page = (public(room) / "articles" / f"{SLUG}.html").read_text(encoding="utf-8")
    assert 'class="consultation-form"' not in page and "已经截止" in page
    assert 'href="/articles/property-management-draft-feedback.html"' in page
    with read_session(room.engine) as session:
        row = session.get(Consultation, SLUG)
        assert row is not None and row.feedback_published_at is not None


def test_the_page_before_the_window_opens_says_when_it_does(room: Newsroom) -> None:
    add_draft(room.root)
    go_live(room, datetime.fromisoformat("2026-11-02T08:00:00+08:00"))
    page = (public(room) / "articles" / f"{SLUG}.html").read_text(encoding="utf-8")
    assert 'class="consultation-form"' not in page and "尚未开始" in page
    assert OPEN  # the support module's window is the demo's


def test_the_feedback_report_going_live_is_noted_when_the_draft_has_left_the_site(room: Newsroom) -> None:
    """No live article declares a consultation any more, yet the report a closed one waits for
    goes live: its publication is still noted (the contact purge counts from it)."""
    add_draft(room.root)
    go_live(room, datetime.fromisoformat("2026-12-10T10:00:00+08:00"))
    with read_session(room.engine) as session:
        row = session.get(Consultation, SLUG)
        assert row is not None and row.feedback_slug is not None and row.feedback_published_at is None
    feedback = DRAFT.parent / "property-management-draft-feedback.md"
    (room.root / "content" / "legislation" / feedback.name).write_text(
        feedback.read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert ingest(room).ok
    later = datetime.fromisoformat("2026-12-20T10:00:00+08:00")
    report = build_site(room, website(room), deny_slugs(SLUG), now=later, workers=1)
    assert SLUG not in report.published and row.feedback_slug in report.published
    with read_session(room.engine) as session:
        noted = session.get(Consultation, SLUG)
        assert noted is not None and noted.feedback_published_at == later.astimezone(UTC)


def test_a_build_with_nothing_to_register_takes_no_write_lock(newsroom_dir: Path) -> None:
    """On SQLite a write transaction holds the whole store: a site build that registers nothing
    must not wait for (or hold up) the worker's releases."""
    room = Newsroom(newsroom_dir)
    try:
        populate(room.root)
        assert ingest(room).ok
        assert room.engine.url.database
        holder = sqlite3.connect(room.engine.url.database, timeout=0.1)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another process writing, for as long as the build takes
            report = build_site(room, website(room), deny_slugs(), now=datetime(2026, 11, 30, 2, tzinfo=UTC))
            assert report.deployed and report.published
        finally:
            holder.rollback()
            holder.close()
    finally:
        room.close()
