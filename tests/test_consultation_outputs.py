"""What handling produces for others: the exports for the legislative committee (read back with
openpyxl and csv), the drafted feedback report (ingested like any article), and the purge of
contacts after the report is published."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from apscheduler.schedulers.background import BackgroundScheduler
from openpyxl import load_workbook
from sqlmodel import col, select

from publisher import audit
from publisher.auth.identity import Identity, Via, service_identity
from publisher.consultation import handling
from publisher.consultation.exports import Format, Scope, export
from publisher.consultation.purge import purge
from publisher.consultation.report import ReportRefused, draft_report
from publisher.consultation.states import Disposition
from publisher.engine.clock import FixedClock
from publisher.engine.worker import DeliveryWorker
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session, write_session
from publisher.store.tables import (
    Article,
    AuditEvent,
    Consultation,
    ConsultationAttachment,
    ConsultationComment,
    ConsultationContact,
    Delivery,
)
from tests.consultation_support import OPENS, add_comment, make_consultation
from tests.factory import base_meta, write_article

TZ = ZoneInfo("Asia/Shanghai")
HANDLER = Identity("dengzy", "邓志远", ("department_head",), Via.TOKEN)
AFTER = OPENS + timedelta(days=45)
ID_NUMBER = "11010519491231002X"  # a valid checksum


def _actions(room: Newsroom, action: str) -> list[AuditEvent]:
    with read_session(room.engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def _handled(room: Newsroom) -> None:
    make_consultation(room)
    a = add_comment(room, clause=None, body=f"身份证{ID_NUMBER}，电话13812345678，建议明确物业交接。")
    b = add_comment(room, clause="12", body='=HYPERLINK("http://evil")公共收益按季度公示', group_id=3)
    add_comment(room, clause="12", body="公共收益按季度公示。", group_id=3, contact="li@example.cn")
    add_comment(room, clause="3", body="广告广告", moderation="hidden")
    assert a.id is not None and b.id is not None
    handling.dispose(
        room.engine, HANDLER, "property-draft", a.id, Disposition.FURTHER_STUDY, "需进一步调研", AFTER
    )
    handling.dispose(
        room.engine, HANDLER, "property-draft", b.id, Disposition.ADOPTED, None, AFTER, whole_group=True
    )
    handling.answer(
        room.engine,
        HANDLER,
        "property-draft",
        b.id,
        "已采纳，修改稿改为按季度公示。",
        AFTER,
        whole_group=True,
    )


def test_the_public_xlsx_export_is_by_clause_masked_and_without_contacts(room: Newsroom) -> None:
    _handled(room)
    made = export(room.engine, HANDLER, "property-draft", Scope.PUBLIC, Format.XLSX, TZ, AFTER)
    sheet = load_workbook(io.BytesIO(made.data)).active
    assert sheet is not None
    rows = [[str(cell.value) if cell.value is not None else "" for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:5] == ["受理编号", "收到时间", "意见人类型", "条款", "意见内容"]
    assert "联系方式" not in rows[0] and "姓名" not in rows[0]
    body = rows[1:]
    assert [r[3] for r in body] == ["第十二条", "第十二条", "全文 / 总体意见"]  # hidden spam left out
    assert body[0][1] == "2026-03-03 09:00"  # received 01:00 UTC, shown in Shanghai
    assert body[0][4].startswith("=HYPERLINK")  # kept as text ...
    assert sheet.cell(row=2, column=5).data_type == "s"  # ... never a formula
    assert (body[0][5], body[0][6], body[0][9]) == ("2", "采纳", "已采纳，修改稿改为按季度公示。")
    assert ID_NUMBER not in body[2][4] and "13812345678" not in body[2][4]
    assert "138****5678" in body[2][4]
    assert (body[2][6], body[2][7]) == ("另行研究", "需进一步调研")
    assert "13812345678" not in made.data.decode("latin-1")


def test_the_internal_csv_export_carries_contacts_and_is_audited(room: Newsroom) -> None:
    _handled(room)
    made = export(room.engine, HANDLER, "property-draft", Scope.INTERNAL, Format.CSV, TZ, AFTER)
    assert made.filename.endswith("-internal.csv")
    rows = list(csv.reader(io.StringIO(made.data.decode("utf-8-sig"))))
    assert rows[0][-4:] == ["姓名", "联系方式类型", "联系方式", "公开摘录"]
    assert len(rows) == 5  # the hidden one too
    assert {r[12] for r in rows[1:]} == {"13812345678", "li@example.cn"}
    assert [r[3] for r in rows[1:]] == ["第三条", "第十二条", "第十二条", "全文 / 总体意见"]
    assert rows[2][4].startswith("'=HYPERLINK")  # a spreadsheet shows it, never runs it
    events = _actions(room, "consultation.exported")
    assert [e.details_json for e in events] == ['{"comments":4,"format":"csv","scope":"internal"}']


def test_the_report_is_refused_while_open_or_undisposed_and_says_what_is_missing(room: Newsroom) -> None:
    assert ingest(room).ok
    make_consultation(room, article="article-1")
    waiting = add_comment(room)
    with pytest.raises(ReportRefused) as refused:
        draft_report(room, HANDLER, "property-draft", OPENS + timedelta(days=3))
    assert "尚未截止" in str(refused.value) and waiting.receipt in str(refused.value)
    with pytest.raises(ReportRefused, match=waiting.receipt):
        draft_report(room, HANDLER, "property-draft", AFTER)
    forced = draft_report(room, HANDLER, "property-draft", AFTER, force=True)
    assert waiting.receipt in forced.path.read_text(encoding="utf-8")


def test_the_drafted_report_ingests_as_an_article_in_the_drafts_series(room: Newsroom) -> None:
    series = {"id": "property-management-draft", "title": "物业管理条例草案征求意见与反馈", "part": 1}
    write_article(
        room.content_dir / "legislation",
        "draft.md",
        base_meta("property-draft-text", department="法制工作委员会", kind="notice", series=series),
    )
    assert ingest(room).ok
    make_consultation(room, article="property-draft-text")
    _comments = [
        add_comment(room, clause="12", body="建议按季度公示，联系我13812345678", moderation="shown"),
        add_comment(room, clause="3", body="建议明确街道职责", moderation="shown"),
    ]
    for c, d, why in zip(
        _comments, (Disposition.ADOPTED, Disposition.NOT_ADOPTED), (None, "上位法已有规定"), strict=True
    ):
        assert c.id is not None
        handling.dispose(room.engine, HANDLER, "property-draft", c.id, d, why, AFTER)
    drafted = draft_report(room, HANDLER, "property-draft", AFTER)
    assert drafted.path == room.content_dir / "legislation" / "property-draft-feedback.md"
    text = drafted.path.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["authors"] == ["邓志远"] and front["department"] == "法制工作委员会"
    assert front["series"] == {"id": "property-management-draft", "title": series["title"], "part": 2}
    assert "张三" not in text and "13812345678" not in text and "138****5678" in text
    assert "未采纳（1条）：上位法已有规定" in text and "### 第三条（职责分工）" in text
    report = ingest(room)
    assert report.ok, report.problems
    assert [c.slug for c in report.created] == ["property-draft-feedback"]
    with read_session(room.engine) as session:
        consultation = session.get(Consultation, "property-draft")
        assert consultation is not None and consultation.feedback_slug == "property-draft-feedback"
    with pytest.raises(ReportRefused, match="已存在"):
        draft_report(room, HANDLER, "property-draft", AFTER)
    assert len(_actions(room, "consultation.report_drafted")) == 1


def _released(room: Newsroom, slug: str, at: datetime) -> None:
    """The engine's record of a finished release of `slug` (what the purge reads)."""
    with write_session(room.engine) as session:
        article = session.exec(select(Article).where(Article.slug == slug)).one()
        assert article.id is not None
        session.add(
            Delivery(
                article_id=article.id,
                channel="website",
                due_at=at,
                status="done",
                next_attempt_at=at,
                idempotency_key=f"test-{slug}",
                created_by="test",
                created_at=at,
                updated_at=at,
                done_at=at,
            )
        )


def test_contacts_are_kept_until_the_retention_after_publication_then_deleted_with_comments_kept(
    room: Newsroom,
) -> None:
    assert ingest(room).ok
    make_consultation(room)
    kept = [add_comment(room, attachment="张三的意见.pdf"), add_comment(room, contact="a@example.cn")]
    engine = service_identity()
    with write_session(room.engine) as session:
        consultation = session.get(Consultation, "property-draft")
        assert consultation is not None
        consultation.feedback_slug = "article-2"  # the report article
        session.add(consultation)
    # Not published yet: nothing is deleted, whatever the date.
    done, waiting = purge(room.engine, engine, 180, AFTER + timedelta(days=900))
    assert done == [] and waiting[0].purge_at is None
    published = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
    _released(room, "article-2", published)
    done, waiting = purge(room.engine, engine, 180, published + timedelta(days=180) - timedelta(seconds=1))
    assert done == [] and waiting[0].purge_at == published + timedelta(days=180)
    with read_session(room.engine) as session:
        assert len(session.exec(select(ConsultationContact)).all()) == 2
        stored = session.get(Consultation, "property-draft")
        assert stored is not None and stored.feedback_published_at == published
    done, _ = purge(room.engine, engine, 180, published + timedelta(days=180))
    assert [(p.contacts, p.names, p.attachments) for p in done] == [(2, 2, 1)]
    with read_session(room.engine) as session:
        assert session.exec(select(ConsultationContact)).all() == []
        comments = session.exec(select(ConsultationComment).order_by(col(ConsultationComment.id))).all()
        assert [c.receipt for c in comments] == [c.receipt for c in kept]
        assert all(c.name is None and c.body for c in comments)
        attachment = session.exec(select(ConsultationAttachment)).one()
        assert "张三" not in attachment.filename and attachment.filename.endswith(".pdf")
        assert attachment.sha256 == "a" * 64
    assert purge(room.engine, engine, 180, published + timedelta(days=181))[0] == []
    events = _actions(room, "consultation.purged")
    assert len(events) == 1 and events[0].actor == "engine"
    with read_session(room.engine) as session:
        assert audit.verify(session).ok


def test_the_engine_purges_contacts_at_the_newsrooms_inspection_times(room: Newsroom) -> None:
    make_consultation(room)
    add_comment(room)
    published = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
    with write_session(room.engine) as session:
        consultation = session.get(Consultation, "property-draft")
        assert consultation is not None
        consultation.feedback_slug, consultation.feedback_published_at = "article-2", published
        session.add(consultation)
    worker = DeliveryWorker(room, clock=FixedClock(published + timedelta(days=180)), worker_id="w-purge")
    scheduler = BackgroundScheduler(timezone="UTC")
    worker._arm_inspections(scheduler)
    assert "consultation-purge-0630" in {job.id for job in scheduler.get_jobs()}
    assert [p.contacts for p in worker.purge_contacts_due()] == [1]
    with read_session(room.engine) as session:
        assert session.exec(select(ConsultationContact)).all() == []
    assert [e.actor for e in _actions(room, "consultation.purged")] == ["engine"]
