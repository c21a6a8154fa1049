"""三审三校: the chain, its conditions, every refusal, re-review after an edit, checks, gate, audit."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, col, select

from publisher import audit
from publisher.channels.registry import Channel
from publisher.engine.release import newsroom_gate
from publisher.engine.worker import DeliveryWorker
from publisher.errors import Problem
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review import gate as gate_module
from publisher.review import queries
from publisher.review.checks import Subject
from publisher.review.gate import for_many, publication_gate
from publisher.review.service import ReviewService
from publisher.review.users import add_user
from publisher.review.workflow import ReviewRefused
from publisher.store.engine import write_session
from publisher.store.tables import Article, AuditEvent, Notice, Retraction, Revision
from tests.factory import base_meta, write_article
from tests.review_helpers import approve_dodging_checks, next_signer, seed_users, sign_through

PLAIN = ["初审", "一校", "复审", "二校", "三校", "终审"]


@pytest.fixture
def svc(room: Newsroom) -> Iterator[ReviewService]:
    seed_users(room)
    yield ReviewService(room)


def add(room: Newsroom, slug: str, body: str | None = None, **meta: Any) -> None:
    write_article(room.content_dir, f"{slug}.md", base_meta(slug, authors=["王晓明"], **meta), body)
    report = ingest(room)
    assert report.ok, report.problems


def current(room: Newsroom, slug: str) -> Revision:
    with Session(room.engine) as s:
        article = s.exec(select(Article).where(Article.slug == slug)).one()
        revision = s.get(Revision, article.current_revision_id)
        assert revision is not None
        return revision


def gate(
    room: Newsroom, slug: str, channel: str = "website", at: datetime | None = None
) -> tuple[bool, tuple[str, ...]]:
    revision = current(room, slug)
    with Session(room.engine) as s:
        decision = publication_gate(s, revision, room.channels.channels[channel], at or datetime.now(UTC))
    return decision.allowed, decision.reasons


def refused(match: str) -> pytest.RaisesExc[ReviewRefused]:
    return pytest.raises(ReviewRefused, match=match)


# -- the chain -------------------------------------------------------------------------------------
def test_plain_article_walks_the_whole_chain(room: Newsroom, svc: ReviewService) -> None:
    add(room, "plain")
    result = svc.submit("plain", "wangxm")
    assert result.next_stage == "初审"
    assert gate(room, "plain")[0] is False
    assert sign_through(room, svc, "plain") == PLAIN
    with Session(room.engine) as s:
        st = queries.status(s, "plain")
    assert st.status == "approved" and all(v.done_by for v in st.stages)
    assert len({v.done_by for v in st.stages}) == len(PLAIN)  # six different people
    assert gate(room, "plain") == (True, ())


@pytest.mark.parametrize(
    ("meta", "stages"),
    [
        ({"committee": "社会建设委员会"}, ["初审", "一校", "复审", "专委会审核", "二校", "三校", "终审"]),
        ({"kind": "meeting_report"}, ["初审", "一校", "复审", "二校", "程序符合性校验", "三校", "终审"]),
        (
            {"committee": "法制委员会", "kind": "meeting_report"},
            ["初审", "一校", "复审", "专委会审核", "二校", "程序符合性校验", "三校", "终审"],
        ),
        ({"sensitive": True}, PLAIN),
    ],
)
def test_conditional_stages_appear_only_when_they_apply(
    room: Newsroom, svc: ReviewService, meta: dict[str, Any], stages: list[str]
) -> None:
    if meta.get("kind") == "meeting_report":
        meta = {
            **meta,
            "meeting": {
                "name": "江澜市第十七届人民代表大会常务委员会第二十九次会议",
                "term": 17,
                "session": 29,
                "start": "2026-11-25",
                "end": "2026-11-27",
            },
        }
    add(room, "cond", **meta)
    svc.submit("cond", "wangxm")
    assert sign_through(room, svc, "cond") == stages


def test_sensitive_article_needs_the_principal_leader(room: Newsroom, svc: ReviewService) -> None:
    add(room, "hot", sensitive=True)
    svc.submit("hot", "wangxm")
    sign_through(room, svc, "hot", stages=5)
    with refused("principal_leader"):
        svc.approve("hot", "wangjh")
    assert svc.approve("hot", "chenlx").status == "approved"


# -- refusals --------------------------------------------------------------------------------------
def test_acting_on_a_stage_that_is_not_current(room: Newsroom, svc: ReviewService) -> None:
    add(room, "a")
    svc.submit("a", "wangxm")
    with refused("不是当前环节.*初审"):
        svc.approve("a", "qianwd", stage="复审")
    with refused("不是当前环节"):
        svc.reject("a", "qianwd", stage="second-review", comment="x")


def test_acting_without_the_stage_role(room: Newsroom, svc: ReviewService) -> None:
    add(room, "a")
    svc.submit("a", "wangxm")
    with refused("需要角色 editor"):
        svc.approve("a", "hejing")  # a proofreader on 初审
    with refused("需要角色 editor"):
        svc.approve("a", "admin")  # no role bypasses the chain


def test_committee_reviewer_of_another_committee(room: Newsroom, svc: ReviewService) -> None:
    add(room, "c", committee="社会建设委员会")
    svc.submit("c", "wangxm")
    sign_through(room, svc, "c", stages=3)
    with refused("another committee"):
        svc.approve("c", "penglj")  # 城乡建设环境保护委员会
    assert svc.approve("c", "caowh").stage == "专委会审核"


def test_author_cannot_review_their_own_article(room: Newsroom, svc: ReviewService) -> None:
    with write_session(room.engine) as s:
        add_user(s, username="wxm-editor", name="王晓明", roles=["editor"], actor="test")
    add(room, "own")
    svc.submit("own", "wangxm")
    with refused("cannot review their own"):
        svc.approve("own", "wxm-editor")


def test_one_person_cannot_sign_two_stages(room: Newsroom, svc: ReviewService) -> None:
    with write_session(room.engine) as s:
        add_user(s, username="both", name="两头签", roles=["editor", "proofreader"], actor="test")
    add(room, "two")
    svc.submit("two", "wangxm")
    svc.approve("two", "both")
    with refused("two stages"):
        svc.approve("two", "both")
    assert svc.approve("two", "hejing").stage == "一校"


def test_each_act_answers_who_may_sign_what_waits_after_it(room: Newsroom, svc: ReviewService) -> None:
    # The people a submission or an approval names are those its notice went to, and exactly those
    # the stage now waiting accepts (queries.eligible, read afresh after the act).
    add(room, "answered")
    result = svc.submit("answered", "wangxm")
    while result.next_stage is not None:
        with Session(room.engine) as s:
            now_eligible = [(u.username, u.display_name) for u in queries.eligible(s, "answered")]
            told = set(s.exec(select(Notice.username).where(col(Notice.title).contains(result.next_stage))))
        assert [tuple(p) for p in result.waiting_for] == now_eligible and now_eligible
        assert told >= {p.username for p in result.waiting_for}
        result = svc.approve("answered", result.waiting_for[-1].username)
    assert result.status == "approved" and result.waiting_for == ()


def test_acting_on_a_superseded_revision(room: Newsroom, svc: ReviewService) -> None:
    add(room, "old")
    first = current(room, "old").id
    svc.submit("old", "wangxm")
    add(room, "old", body="改过的正文。\n")
    with refused("superseded"):
        svc.approve("old", "zhouwb", revision_id=first)
    with refused("superseded"):
        svc.approve("old", "zhouwb", revision_id=first[:12])


def test_other_refusals_with_reasons(room: Newsroom, svc: ReviewService) -> None:
    add(room, "r")
    with refused("尚未提交"):
        svc.approve("r", "zhouwb")
    with refused("只有作者|only the article's authors"):
        svc.submit("r", "hejing")
    svc.submit("r", "wangxm")
    with refused("already in_review"):
        svc.submit("r", "wangxm")
    with refused("needs a comment"):
        svc.reject("r", "zhouwb", comment="  ")
    with write_session(room.engine) as s:
        from publisher.review.users import disable_user

        disable_user(s, "zhouwb", "test")
    with refused("disabled"):
        svc.approve("r", "zhouwb")


# -- reject, edit, re-review -----------------------------------------------------------------------
def test_reject_then_fix_then_the_chain_starts_again(room: Newsroom, svc: ReviewService) -> None:
    add(room, "fix")
    svc.submit("fix", "wangxm")
    sign_through(room, svc, "fix", stages=2)
    assert svc.reject("fix", "qianwd", comment="第二段数据需核实").status == "rejected"
    with Session(room.engine) as s:
        assert [i.slug for i in queries.queue(s, "wangxm")] == ["fix"]  # back to the author
    with refused("已退回"):
        svc.approve("fix", "qianwd")

    add(room, "fix", body="核实后的正文。\n")
    with Session(room.engine) as s:
        st = queries.status(s, "fix")
    assert st.status == "draft" and st.revision.number == 2
    assert [a.act for _r, a in st.voided] == ["submit", "approve", "approve", "reject"]
    assert st.voided[-1][1].comment == "第二段数据需核实"  # history and comments stay readable

    svc.submit("fix", "wangxm")
    assert sign_through(room, svc, "fix") == PLAIN
    assert gate(room, "fix")[0]


def test_an_edit_after_approval_voids_it(room: Newsroom, svc: ReviewService) -> None:
    add(room, "edit")
    svc.submit("edit", "wangxm")
    sign_through(room, svc, "edit")
    approved = current(room, "edit")
    assert gate(room, "edit")[0]
    add(room, "edit", body="批准后又改了一个字。\n")
    allowed, reasons = gate(room, "edit")
    assert not allowed and any("never submitted" in r for r in reasons)
    with Session(room.engine) as s:
        decision = publication_gate(s, approved, room.channels.channels["website"], datetime.now(UTC))
    assert not decision.allowed and any("current revision" in r for r in decision.reasons)


def test_withdrawn_article_is_held_back(room: Newsroom, svc: ReviewService) -> None:
    add(room, "w")
    svc.submit("w", "wangxm")
    sign_through(room, svc, "w")
    svc.withdraw("w", "wangxm", comment="口径调整")
    allowed, reasons = gate(room, "w")
    assert not allowed and any("withdrawn" in r for r in reasons)
    with refused("only a revision in review or approved"):
        svc.withdraw("w", "wangxm")


# -- automatic checks ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        "机密★5年\n\n正文。\n",
        "正文提到绝密★长期的文件。\n",
        "秘密 ★\n\n正文。\n",
        "内部资料，注意保存\n\n正文。\n",
        "【内部传阅】\n\n正文。\n",
        "**不得公开**\n\n正文。\n",
    ],
)
def test_secrecy_marking_blocks_submission(room: Newsroom, svc: ReviewService, body: str) -> None:
    add(room, "secret", body=body)
    with refused("secrecy marking"):
        svc.submit("secret", "wangxm")
    with Session(room.engine) as s:
        last = s.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc())).first()
    assert last is not None and last.action == "review.blocked" and last.object_id == "secret"
    assert gate(room, "secret")[0] is False


def test_secrecy_marking_in_the_title_blocks(room: Newsroom, svc: ReviewService) -> None:
    add(room, "t", title="【内部资料】关于某事项的情况通报")
    with refused("title carries"):
        svc.submit("t", "wangxm")


def test_words_about_secrecy_are_not_markings(room: Newsroom, svc: ReviewService) -> None:
    body = (
        "机关举办保密法培训，强调保守国家秘密是每个公民的义务。\n\n"
        "带有密级标志的稿件一律不得公开发布，内部资料也要妥善管理。\n"
    )
    add(room, "law", body=body, title="学习《中华人民共和国保守国家秘密法》")
    svc.submit("law", "wangxm")
    assert sign_through(room, svc, "law") == PLAIN


def test_terminology_warnings_must_be_acknowledged_by_name(room: Newsroom, svc: ReviewService) -> None:
    add(room, "term", body="会议听取了一府两院的工作报告。\n\n另一段。\n")
    result = svc.submit("term", "wangxm")
    assert [w.code for w in result.warnings] == ["一府两院"]
    assert result.warnings[0].line == 1
    with refused("--ack 一府两院"):
        svc.approve("term", "zhouwb")
    with refused("no warning named"):
        svc.approve("term", "zhouwb", ack=["一府一委"])
    svc.approve("term", "zhouwb", ack=["一府两院"])
    assert sign_through(room, svc, "term") == PLAIN[1:]  # later stages see it acknowledged
    with Session(room.engine) as s:
        assert queries.status(s, "term").acknowledged == {"一府两院": "zhouwb"}


MEETING = {
    "name": "江澜市第十七届人民代表大会常务委员会第二十九次会议",
    "term": 17,
    "session": 29,
    "start": "2026-11-25",
    "end": "2026-11-27",
}


@pytest.mark.parametrize(
    ("meeting", "body", "says"),
    [
        (None, "会议召开。\n", "must name its meeting"),
        (
            {**MEETING, "name": "江澜市第十七届人民代表大会常务委员会第三十一次会议", "session": 31},
            "会议召开。\n",
            "not in the register",
        ),
        ({**MEETING, "end": "2026-11-28"}, "会议召开。\n", "dates disagree"),
        (MEETING, "会议表决通过了《江澜市公共数据管理条例（草案）》。\n", "公共数据管理条例"),
        (MEETING, "会议表决通过《江澜市物业管理条例》。\n", "会议登记中没有该事项"),
    ],
)
def test_meeting_report_that_disagrees_with_the_register(
    room: Newsroom, svc: ReviewService, meeting: dict[str, object] | None, body: str, says: str
) -> None:
    add(room, "mr", body=body, kind="meeting_report", meeting=meeting)
    with refused(says):
        svc.submit("mr", "wangxm")


def test_meeting_report_that_agrees_with_the_register(room: Newsroom, svc: ReviewService) -> None:
    body = (
        "会议表决通过了《江澜市历史文化名城保护条例》和关于批准2026年市级预算调整方案的决议。\n\n"
        "会议审议了《江澜市公共数据管理条例（草案）》。\n"
    )
    add(room, "mr", body=body, kind="meeting_report", meeting=MEETING)
    svc.submit("mr", "wangxm")
    assert "程序符合性校验" in sign_through(room, svc, "mr")


def test_a_congress_session_is_not_taken_for_the_standing_committee_session_of_the_same_number(
    room: Newsroom, svc: ReviewService
) -> None:
    # The congress and its standing committee both hold a "seventh session" in the 17th term.
    register = room.root / "schedules" / "meetings.toml"
    sc_seventh = (
        '[[meeting]]\nid = "sc-17-7"\nbody = "standing-committee"\n'
        'name = "江澜市第十七届人民代表大会常务委员会第七次会议"\nterm = 17\nsession = 7\n'
        "start = 2023-06-27\nend = 2023-06-28\n\n"
    )
    text = register.read_text(encoding="utf-8")
    first = text.index("\n[[meeting]]") + 1  # the first table, not the comment that names it
    register.write_text(text[:first] + sc_seventh + text[first:], encoding="utf-8")
    congress = {"term": 17, "session": 7, "start": "2027-01-12", "end": "2027-01-15"}
    # A name off by a word: found by body, term and session, so the message names the right meeting.
    add(
        room,
        "npc",
        kind="meeting_report",
        meeting={**congress, "name": "江澜市第十七届人民代表大会第七次全体会议"},
    )
    with refused("登记为「江澜市第十七届人民代表大会第七次会议」"):
        svc.submit("npc", "wangxm")
    # The exact name passes, and so does a body given outright with the registered name.
    add(
        room,
        "npc2",
        kind="meeting_report",
        meeting={**congress, "name": "江澜市第十七届人民代表大会第七次会议"},
    )
    svc.submit("npc2", "wangxm")
    add(
        room,
        "sc7",
        kind="meeting_report",
        meeting={
            "name": "常委会第七次会议",
            "body": "standing-committee",
            "term": 17,
            "session": 7,
            "start": "2023-06-27",
            "end": "2023-06-28",
        },
    )
    with refused("登记为「江澜市第十七届人民代表大会常务委员会第七次会议」"):
        svc.submit("sc7", "wangxm")


def test_channel_limits_are_checked_through_the_hook(room: Newsroom) -> None:
    seed_users(room)

    def short_titles(channel: Channel):  # type: ignore[no-untyped-def]
        def check(subject: Subject) -> list[Problem]:
            if len(subject.title) > 8:
                return [
                    Problem(
                        channel.name,
                        f"标题超过 8 字 / title longer than 8 ({len(subject.title)})",
                        field="title",
                    )
                ]
            return []

        return check

    svc = ReviewService(room, checkers={"website": short_titles})
    add(room, "long", title="这是一个超过八个字的标题")
    with refused("渠道 website：title"):
        svc.submit("long", "wangxm")
    add(room, "short", title="短标题", channels=["wechat"])  # targets a channel without the limit
    svc.submit("short", "wangxm")


def test_final_approval_checks_again(room: Newsroom, svc: ReviewService) -> None:
    add(room, "late", body="本稿提到常委会某项安排。\n")
    svc.submit("late", "wangxm")
    sign_through(room, svc, "late", stages=5)
    secrecy = room.root / "review" / "secrecy.toml"
    secrecy.write_text(
        secrecy.read_text(encoding="utf-8")
        + '\n[[marking]]\nname = "某项安排"\npattern = "某项安排"\nscope = "anywhere"\n',
        encoding="utf-8",
    )
    fresh = ReviewService(room)
    with refused("secrecy marking"):
        fresh.approve("late", "wangjh")
    with Session(room.engine) as s:
        assert queries.status(s, "late").status == "in_review"


# -- gate ------------------------------------------------------------------------------------------
def test_gate_holds_embargoed_and_disabled(room: Newsroom, svc: ReviewService) -> None:
    add(room, "emb", embargo="2026-12-04T00:00:00+08:00")
    svc.submit("emb", "wangxm")
    sign_through(room, svc, "emb")
    before = datetime(2026, 12, 3, 15, 59, tzinfo=UTC)
    allowed, reasons = gate(room, "emb", at=before)
    assert not allowed and any("embargoed" in r for r in reasons)
    assert gate(room, "emb", at=before + timedelta(minutes=2))[0]
    off = dataclasses.replace(room.channels.channels["website"], enabled=False)
    with Session(room.engine) as s:
        decision = publication_gate(s, current(room, "emb"), off, before + timedelta(days=1))
    assert not decision.allowed and any("disabled" in r for r in decision.reasons)


def slip_past_review(room: Newsroom, slug: str) -> None:
    """Signed through every stage with the checks dodged: the gate's own re-check must still refuse."""
    approve_dodging_checks(room, slug)


def test_gate_blocks_builtin_marks_on_a_revision_that_got_past_review(room: Newsroom) -> None:
    (room.root / "review" / "secrecy.toml").write_text("", encoding="utf-8")
    add(room, "sneak", body="秘密★1年\n\n正文。\n")
    slip_past_review(room, "sneak")
    allowed, reasons = gate(room, "sneak")
    assert not allowed and any("secrecy" in r for r in reasons)


def test_a_batched_gate_decides_as_the_single_one_in_a_few_queries(
    room: Newsroom, svc: ReviewService
) -> None:
    for slug in ("ok", "pending", "never", "edited", "retracted", "marked", "emb"):
        body = "秘密★1年\n\n正文。\n" if slug == "marked" else None
        add(room, slug, body=body, **({"embargo": "2026-12-04T00:00:00+08:00"} if slug == "emb" else {}))
    for slug in ("ok", "edited", "retracted", "emb"):
        svc.submit(slug, "wangxm")
        sign_through(room, svc, slug)
    slip_past_review(room, "marked")  # the checks refuse it at submission: past them by hand
    svc.submit("pending", "wangxm")
    superseded = current(room, "edited")
    add(room, "edited", body="批准后又改了一个字。\n")
    with write_session(room.engine) as s:
        article = s.exec(select(Article).where(Article.slug == "retracted")).one()
        assert article.id is not None
        s.add(
            Retraction(
                article_id=article.id, reason="撤稿", retracted_by="wangxm", retracted_at=datetime.now(UTC)
            )
        )
    revisions = [
        current(room, slug) for slug in ("ok", "pending", "never", "edited", "retracted", "marked", "emb")
    ]
    website = room.channels.channels["website"]
    channels = [
        website,
        dataclasses.replace(website, enabled=False),
        dataclasses.replace(website, external=False),
    ]
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement)

    with Session(room.engine) as s:
        event.listen(room.engine, "before_cursor_execute", count)
        try:
            batched = for_many(publication_gate, s, revisions)
            for at in (datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC)):
                decided = [batched(s, r, c, at) for r in revisions for c in channels]
        finally:
            event.remove(room.engine, "before_cursor_execute", count)
        # Articles, retractions, review states, the signed acts, their signers and, for the secrecy
        # check, the bodies: one query each (no bodies when the process already knows the answer: a
        # revision id is its text's hash).
        assert 5 <= len([q for q in statements if q.lstrip().upper().startswith("SELECT")]) <= 6, statements
        single = [publication_gate(s, r, c, at) for r in revisions for c in channels]
        assert decided == single
        allowed = {
            r.id for r, d in zip([r for r in revisions for _ in channels], decided, strict=True) if d.allowed
        }
        # After the embargo; the marked one only to the channel that never leaves the building.
        assert allowed == {current(room, slug).id for slug in ("ok", "emb", "marked")}
        # A revision the batch was not made for is asked about directly, not guessed from the batch.
        assert batched(s, superseded, website, at) == publication_gate(s, superseded, website, at)
        assert not batched(s, superseded, website, at).allowed


# -- audit -----------------------------------------------------------------------------------------
def test_every_act_is_in_the_audit_chain(room: Newsroom, svc: ReviewService) -> None:
    add(room, "aud")
    svc.submit("aud", "wangxm", comment="请审")
    svc.approve("aud", "zhouwb", comment="同意")
    svc.reject("aud", "hejing", comment="有错字")
    with Session(room.engine) as s:
        events = [
            e
            for e in s.exec(select(AuditEvent).order_by(col(AuditEvent.seq)))
            if e.action.startswith("review.")
        ]
        assert audit.verify(s).ok
    assert [(e.action, e.actor) for e in events] == [
        ("review.submit", "wangxm"),
        ("review.approve", "zhouwb"),
        ("review.reject", "hejing"),
    ]
    details = json.loads(events[1].details_json)
    assert details["stage"] == "初审" and details["role"] == "editor" and details["comment"] == "同意"
    assert events[1].revision_id == current(room, "aud").id
    with room.engine.begin() as conn:
        conn.exec_driver_sql(
            "DROP TRIGGER IF EXISTS audit_event_no_update"
        ) if conn.dialect.name == "sqlite" else conn.exec_driver_sql(
            "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"
        )
        conn.execute(
            text("UPDATE audit_event SET details_json = '{}' WHERE seq = :seq"), {"seq": events[1].seq}
        )
    with Session(room.engine) as s:
        assert [b.seq for b in audit.verify(s).breaks] == [events[1].seq]


def test_review_acts_cannot_be_rewritten(room: Newsroom, svc: ReviewService) -> None:
    add(room, "x")
    svc.submit("x", "wangxm")
    with pytest.raises(DatabaseError, match="append-only"), room.engine.begin() as conn:
        conn.execute(text("UPDATE review_act SET username = 'someone'"))


# -- questions staff ask ---------------------------------------------------------------------------
def test_queue_shows_what_waits_on_each_person(room: Newsroom, svc: ReviewService) -> None:
    add(room, "q1")
    add(room, "q2", committee="法制委员会")
    svc.submit("q1", "wangxm")
    svc.submit("q2", "wangxm")
    with Session(room.engine) as s:
        assert [i.stage for i in queries.queue(s, "zhouwb")] == ["初审", "初审"]
        assert queries.queue(s, "hejing") == []
    svc.approve("q1", "zhouwb")
    with Session(room.engine) as s:
        assert [(i.slug, i.stage) for i in queries.queue(s, "hejing")] == [("q1", "一校")]
        assert [i.slug for i in queries.queue(s, "zhouwb")] == ["q2"]


def test_stats_time_per_stage_and_rejections_per_department(room: Newsroom, svc: ReviewService) -> None:
    add(room, "s1")
    add(room, "s2", department="法制工作委员会")
    for slug in ("s1", "s2"):
        svc.submit(slug, "wangxm")
    sign_through(room, svc, "s1")
    svc.reject("s2", next_signer(room, "s2"), comment="重写")
    with Session(room.engine) as s:
        result = queries.stats(s)
    assert [t.stage for t in result.stages] == PLAIN
    assert all(t.count >= 1 and t.median_hours >= 0 for t in result.stages)
    assert result.rejections_by_department == {"法制工作委员会": 1}
    assert result.status_counts == {"approved": 1, "rejected": 1}


def test_newsroom_changes_the_chain_without_code(
    newsroom_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = newsroom_dir / "publisher.toml"
    text_ = config.read_text(encoding="utf-8")
    start = text_.index("[[review.stages]]")
    end = text_.index("# Demo staff")
    short = (
        '[[review.stages]]\nkey = "edit"\nname = "编辑审"\nrole = "editor"\n\n'
        '[[review.stages]]\nkey = "sign"\nname = "领导签发"\nrole = "leader"\n\n'
    )
    config.write_text(text_[:start] + short + text_[end:], encoding="utf-8")
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(newsroom_dir)
    seed_users(room)
    svc = ReviewService(room)
    ingest(room)
    svc.submit("article-1", "zhouwb")
    assert sign_through(room, svc, "article-1") == ["编辑审", "领导签发"]
    room.close()


# -- issue 11, point 7 -----------------------------------------------------------------------------
def test_built_in_secrecy_markings_block_submission_without_a_secrecy_list(
    room: Newsroom, svc: ReviewService
) -> None:
    # A newsroom made by `publisher init` has no review/secrecy.toml.
    (room.root / "review" / "secrecy.toml").unlink()
    add(room, "classified", body="机密★\n\n正文。\n")
    add(room, "internal", body="内部资料 注意保存\n\n正文。\n")
    for slug, marking in (("classified", "密级标志"), ("internal", "内部资料 注意保存")):
        with refused(f"(?s){marking}.*secrecy marking"):
            svc.submit(slug, "wangxm")
        slip_past_review(room, slug)
        with Session(room.engine) as s:
            for name in ("newsroom gate", "engine"):
                gate = (
                    newsroom_gate(room)
                    if name == "newsroom gate"
                    else DeliveryWorker(room, worker_id="p7").gate
                )
                decision = gate(s, current(room, slug), room.channels.channels["website"], datetime.now(UTC))
                assert not decision.allowed and any("secrecy" in r for r in decision.reasons), name


def test_a_batch_reads_only_the_bodies_whose_marking_check_the_process_has_not_made(
    room: Newsroom, svc: ReviewService
) -> None:
    """A site rebuild after one edit asks the gate about every article again: the bodies it reads
    for the secrecy check are those of the revisions not screened yet, not all of them."""
    for n in range(6):
        add(room, f"piece-{n}")
    website = room.channels.channels["website"]
    at = datetime(2026, 12, 5, tzinfo=UTC)
    bodies_read: list[int] = []
    gate_module._marked.clear()  # the same texts, screened by another test of this process

    def count(conn: object, cursor: object, statement: str, parameters: Any, *rest: object) -> None:
        if "revision.body" in statement:
            bodies_read.append(len(parameters))

    def batch() -> list[bool]:
        revisions = [current(room, f"piece-{n}") for n in range(6)]
        with Session(room.engine) as s:
            event.listen(room.engine, "before_cursor_execute", count)
            try:
                batched = for_many(publication_gate, s, revisions)
                return [batched(s, r, website, at).allowed for r in revisions]
            finally:
                event.remove(room.engine, "before_cursor_execute", count)

    first = batch()
    again = batch()
    add(room, "piece-3", body="改过的正文。\n")
    third = batch()
    assert first == again == third == [False] * 6  # never submitted: refused, and screened all the same
    # The first batch read the six bodies it had not screened; the second none; the third the edited one.
    assert bodies_read == [6, 1], bodies_read
