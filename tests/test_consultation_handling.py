"""Handling a consultation's comments: each act one transaction and one audit event, group acts,
the reasons a disposition needs, the permission, and the 3-month rule (console and inspection)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from publisher.auth.identity import Identity, Via
from publisher.auth.signin import AuthError
from publisher.consultation import handling
from publisher.consultation.overdue import falls_due, received_before_bound
from publisher.consultation.queries import Filter, comments, summaries
from publisher.consultation.states import Disposition, Moderation
from publisher.inspection.consultations import inspect_consultations
from publisher.inspection.settings import InspectionSettings
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import AuditEvent, ConsultationComment
from tests.consultation_support import OPENS, add_comment, make_consultation

TZ = ZoneInfo("Asia/Shanghai")
HANDLER = Identity("dengzy", "邓志远", ("department_head",), Via.TOKEN)
AUTHOR = Identity("wangxm", "王晓明", ("author",), Via.TOKEN)
NOW = OPENS + timedelta(days=40)


def _events(room: Newsroom, action: str) -> list[AuditEvent]:
    with read_session(room.engine) as session:
        return list(
            session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.seq)))
        )


def _comment(room: Newsroom, comment_id: int | None) -> ConsultationComment:
    with read_session(room.engine) as session:
        found = session.get(ConsultationComment, comment_id)
        assert found is not None
        return found


def test_a_disposition_other_than_adopted_is_refused_without_a_reason(room: Newsroom) -> None:
    make_consultation(room)
    c = add_comment(room)
    assert c.id is not None
    for disposition in (Disposition.NOT_ADOPTED, Disposition.PARTLY_ADOPTED, Disposition.FURTHER_STUDY):
        with pytest.raises(handling.HandlingRefused, match="理由"):
            handling.dispose(room.engine, HANDLER, "property-draft", c.id, disposition, "  ", NOW)
    assert _comment(room, c.id).disposition is None
    assert _events(room, "consultation.disposed") == []
    handling.dispose(room.engine, HANDLER, "property-draft", c.id, Disposition.ADOPTED, None, NOW)
    handling.dispose(
        room.engine, HANDLER, "property-draft", c.id, Disposition.NOT_ADOPTED, "上位法已有规定", NOW
    )
    stored = _comment(room, c.id)
    assert (stored.disposition, stored.reason, stored.updated_by) == (
        "not_adopted",
        "上位法已有规定",
        "dengzy",
    )
    events = _events(room, "consultation.disposed")
    assert len(events) == 2
    assert json.loads(events[1].details_json)["from"] == {"disposition": "adopted", "reason": None}


def test_a_group_act_answers_every_comment_of_a_mass_campaign_with_one_audit_event(room: Newsroom) -> None:
    make_consultation(room)
    campaign = [add_comment(room, body=f"统一意见{i}", group_id=7) for i in range(5)]
    alone = add_comment(room, body="另一条意见", group_id=None)
    first = campaign[0].id
    assert first is not None
    done = handling.answer(
        room.engine, HANDLER, "property-draft", first, "感谢来信，已采纳。", NOW, whole_group=True
    )
    assert len(done.receipts) == 5
    assert all(_comment(room, c.id).answer == "感谢来信，已采纳。" for c in campaign)
    assert _comment(room, alone.id).answer is None
    events = _events(room, "consultation.answered")
    assert len(events) == 1 and json.loads(events[0].details_json)["group"] is True


def test_moderation_moves_by_its_table_and_a_repeat_is_refused(room: Newsroom) -> None:
    make_consultation(room)
    c = add_comment(room)
    assert c.id is not None
    handling.moderate(room.engine, HANDLER, "property-draft", c.id, Moderation.HIDDEN, NOW)
    with pytest.raises(handling.HandlingRefused):
        handling.moderate(room.engine, HANDLER, "property-draft", c.id, Moderation.HIDDEN, NOW)
    handling.moderate(room.engine, HANDLER, "property-draft", c.id, Moderation.PENDING, NOW)
    handling.moderate(room.engine, HANDLER, "property-draft", c.id, Moderation.SHOWN, NOW)
    assert _comment(room, c.id).moderation == "shown"
    assert len(_events(room, "consultation.moderated")) == 3


def test_classify_and_assign_accept_only_the_drafts_clauses_and_declared_committees(room: Newsroom) -> None:
    make_consultation(room)
    c = add_comment(room, clause=None)
    assert c.id is not None
    with pytest.raises(handling.HandlingRefused, match="99"):
        handling.classify(room.engine, HANDLER, "property-draft", c.id, "99", "收益", NOW)
    handling.classify(room.engine, HANDLER, "property-draft", c.id, "3", "职责", NOW)
    declared = room.settings.committees
    with pytest.raises(handling.HandlingRefused):
        handling.assign(room.engine, HANDLER, "property-draft", c.id, "不存在委员会", declared, NOW)
    handling.assign(room.engine, HANDLER, "property-draft", c.id, "法制委员会", declared, NOW)
    stored = _comment(room, c.id)
    assert (stored.clause, stored.topic, stored.committee) == ("3", "职责", "法制委员会")
    assert len(_events(room, "consultation.classified")) == 1
    assert len(_events(room, "consultation.assigned")) == 1


def test_staff_without_the_consult_permission_change_nothing(room: Newsroom) -> None:
    make_consultation(room)
    c = add_comment(room)
    assert c.id is not None
    with pytest.raises(AuthError):
        handling.answer(room.engine, AUTHOR, "property-draft", c.id, "答复", NOW)
    assert _comment(room, c.id).answer is None
    assert _events(room, "consultation.answered") == []


def test_a_comment_falls_due_three_calendar_months_after_it_was_received_on_the_local_calendar() -> None:
    # 30 November 10:00 in Shanghai falls due 28 February 10:00 (2027 is not a leap year).
    received = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    assert falls_due(received, TZ) == datetime(2027, 2, 28, 2, 0, tzinfo=UTC)
    # 31 December 20:00 UTC is already 1 January in Shanghai: due 1 April.
    assert falls_due(datetime(2026, 12, 31, 20, 0, tzinfo=UTC), TZ) == datetime(
        2027, 3, 31, 20, 0, tzinfo=UTC
    )


def test_only_valid_unanswered_comments_past_three_months_are_overdue_in_console_and_inspection(
    room: Newsroom,
) -> None:
    make_consultation(room)
    make_consultation(room, "other-draft")
    received = OPENS + timedelta(days=1)
    due = falls_due(received, TZ)
    late = add_comment(room, received=received)
    add_comment(room, received=received, moderation="hidden")  # spam: owed no answer
    answered = add_comment(room, received=received)
    add_comment(room, received=received + timedelta(days=10))  # not yet due
    add_comment(room, "other-draft", received=received + timedelta(days=10))
    assert answered.id is not None
    handling.answer(
        room.engine, HANDLER, "property-draft", answered.id, "已答复", received + timedelta(days=5)
    )
    settings = InspectionSettings()
    with read_session(room.engine) as session:
        assert inspect_consultations(session, settings, due, TZ) == []
        after = due + timedelta(minutes=1)
        findings = inspect_consultations(session, settings, after, TZ)
        page = comments(session, "property-draft", Filter(overdue=True), after, TZ)
        listed = {s.consultation.slug: s for s in summaries(session, after, TZ)}
    assert [(f.rule, f.location) for f in findings] == [
        ("consultation.overdue", "consultation:property-draft")
    ]
    assert "1 条" in findings[0].message
    assert [r.comment.receipt for r in page.rows] == [late.receipt]
    assert (listed["property-draft"].overdue, listed["property-draft"].unanswered) == (1, 2)
    assert listed["other-draft"].overdue == 0


def test_the_overdue_rule_is_a_single_veto_kept_in_the_inspection_settings(room: Newsroom) -> None:
    settings = InspectionSettings()
    assert settings.rule("consultation.overdue").severity.value == "veto"
    assert settings.consultation.answer_months == 3
    text = (room.root / "review" / "inspection.toml").read_text(encoding="utf-8")
    assert "consultation.overdue" in text and "answer_months = 3" in text


def test_the_databases_bound_never_leaves_an_overdue_comment_out() -> None:
    # For every day of a leap and a common year: a comment due before `now` was received before
    # the bound, so narrowing in the database then asking is_overdue loses nothing.
    start = datetime(2027, 11, 1, 16, 0, tzinfo=UTC)
    for day in range(800):
        received = start + timedelta(days=day)
        due = falls_due(received, TZ)
        assert received < received_before_bound(due + timedelta(seconds=1))


def test_hiding_a_group_hides_the_members_not_yet_hidden_and_names_only_those(room: Newsroom) -> None:
    make_consultation(room)
    members = [add_comment(room, body=f"刷屏{i}", group_id=9) for i in range(3)]
    first, second = members[0].id, members[1].id
    assert first is not None and second is not None
    handling.moderate(room.engine, HANDLER, "property-draft", second, Moderation.HIDDEN, NOW)
    done = handling.moderate(
        room.engine, HANDLER, "property-draft", first, Moderation.HIDDEN, NOW, whole_group=True
    )
    assert set(done.receipts) == {members[0].receipt, members[2].receipt}
    assert {_comment(room, c.id).moderation for c in members} == {"hidden"}
    with pytest.raises(handling.HandlingRefused, match="已是"):
        handling.moderate(
            room.engine, HANDLER, "property-draft", first, Moderation.HIDDEN, NOW, whole_group=True
        )
