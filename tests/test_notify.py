"""Notices: the right people hear of review acts and of troubled releases, once, and only they may
mark their notices read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from publisher.engine import scheduling
from publisher.engine.clock import FixedClock
from publisher.engine.worker import DeliveryWorker
from publisher.errors import NotFound
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.notify import Announcement, NoticeKind, announce, mark_read, notices_for, produce, unread_count
from publisher.review import queries
from publisher.review.service import ReviewService
from publisher.review.users import disable_user
from publisher.store.engine import write_session
from publisher.store.tables import AuditEvent, Notice, NoticeOutbox
from tests.review_helpers import approve, seed_users
from tests.sink import Sink

T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


@pytest.fixture
def staffed(room: Newsroom) -> Newsroom:
    """The `room` fixture's newsroom (SQLite and PostgreSQL), its articles ingested, its staff seeded."""
    assert ingest(room).ok
    seed_users(room)
    return room


def notices(room: Newsroom, kind: NoticeKind | None = None) -> list[Notice]:
    with Session(room.engine) as s:
        query = select(Notice).order_by(col(Notice.id))
        if kind is not None:
            query = query.where(Notice.kind == kind)
        return list(s.exec(query))


def told(room: Newsroom, kind: NoticeKind) -> set[str]:
    return {n.username for n in notices(room, kind)}


def eligible(room: Newsroom, slug: str) -> set[str]:
    with Session(room.engine) as s:
        return {u.username for u in queries.eligible(s, slug)}


def test_submission_tells_exactly_those_who_may_sign_the_first_stage(staffed: Newsroom) -> None:
    room = staffed
    ReviewService(room).submit("article-1", "zhouwb")
    waiting = notices(room, NoticeKind.REVIEW_WAITING)
    assert {n.username for n in waiting} == eligible(room, "article-1") == {"zhouwb", "liangyu"}
    assert all(n.link == "/articles/article-1" and "初审" in n.title for n in waiting)
    assert {n.username for n in notices(room)} == {"zhouwb", "liangyu"}  # nobody else hears of it


def test_each_approval_tells_the_next_stage_and_not_who_signed(staffed: Newsroom) -> None:
    room = staffed
    service = ReviewService(room)
    service.submit("article-1", "zhouwb")
    service.approve("article-1", "zhouwb")  # 初审
    proofreaders = {n.username for n in notices(room) if "一校" in n.title}
    assert proofreaders == eligible(room, "article-1") == {"hejing", "shenyl", "tangliang", "fengxd"}
    service.approve("article-1", "hejing")  # 一校
    heads = {n.username for n in notices(room) if "复审" in n.title}
    # dengzy heads another department: the rule that refuses his signature keeps him out of it.
    assert heads == eligible(room, "article-1") == {"qianwd"}
    service.approve("article-1", "qianwd")  # 复审
    second_proof = {n.username for n in notices(room) if "二校" in n.title}
    assert "hejing" not in second_proof and second_proof == {"shenyl", "tangliang", "fengxd"}


def test_rejection_tells_the_author_with_the_comment(staffed: Newsroom) -> None:
    room = staffed
    service = ReviewService(room)
    service.submit("article-1", "zhouwb")
    service.reject("article-1", "liangyu", comment="第二段数据请核实出处")
    [notice] = notices(room, NoticeKind.REJECTED)
    assert notice.username == "wangxm"  # the byline 王晓明
    assert "第二段数据请核实出处" in notice.body and "梁宇" in notice.body and "初审" in notice.title


def test_final_approval_tells_the_author(staffed: Newsroom) -> None:
    room = staffed
    approve(room, "article-1")
    assert told(room, NoticeKind.APPROVED) == {"wangxm"}
    leaders = {n.username for n in notices(room) if "终审" in n.title}
    assert leaders == {"wangjh", "liucm"}  # a sensitive piece would go to the principal leader


def test_an_event_tells_each_person_once(staffed: Newsroom) -> None:
    room = staffed
    news = Announcement(NoticeKind.DELIVERY_FAILED, ("liangyu", "zhouwb", "liangyu"), "标题", "正文", "ref-1")
    with write_session(room.engine) as s:
        assert len(announce(s, room.settings.notify, news, T0)) == 2
    with write_session(room.engine) as s:
        assert announce(s, room.settings.notify, news, T0) == []
        # a new person told of the same event hears of it; the others do not hear again
        again = Announcement(NoticeKind.DELIVERY_FAILED, ("zhouwb", "hejing"), "标题", "正文", "ref-1")
        assert [n.username for n in announce(s, room.settings.notify, again, T0)] == ["hejing"]
    assert sorted(n.username for n in notices(room)) == ["hejing", "liangyu", "zhouwb"]


def test_unknown_and_disabled_people_are_not_told(staffed: Newsroom) -> None:
    room = staffed
    with write_session(room.engine) as s:
        disable_user(s, "hejing", "test")
    news = Announcement(NoticeKind.DELIVERY_HELD, ("hejing", "nobody", "zhouwb"), "标题", "正文", "ref-2")
    with write_session(room.engine) as s:
        assert [n.username for n in announce(s, room.settings.notify, news, T0)] == ["zhouwb"]


def test_a_user_cannot_mark_another_users_notices(staffed: Newsroom) -> None:
    room = staffed
    ReviewService(room).submit("article-1", "zhouwb")
    with Session(room.engine) as s:
        [mine] = notices_for(s, "zhouwb")
        [theirs] = notices_for(s, "liangyu")
        assert unread_count(s, "zhouwb") == 1 and mine.unread
    with pytest.raises(NotFound, match="no such notices"), write_session(room.engine) as s:
        mark_read(s, "zhouwb", [mine.id, theirs.id])
    with Session(room.engine) as s:  # refused as a whole: nothing was marked
        assert unread_count(s, "zhouwb") == 1 and unread_count(s, "liangyu") == 1
    with write_session(room.engine) as s:
        assert mark_read(s, "zhouwb", [mine.id]) == 1
        assert mark_read(s, "zhouwb", None) == 0  # all of mine: none left unread
    with Session(room.engine) as s:
        assert unread_count(s, "zhouwb") == 0 and unread_count(s, "liangyu") == 1
        assert notices_for(s, "zhouwb", unread_only=True) == []
        [read] = notices_for(s, "zhouwb")
        assert read.read_at is not None


def test_troubled_releases_tell_the_duty_editor(sink_room: Newsroom, sink: Sink) -> None:
    room = sink_room
    assert room.settings.notify.duty_editors == ["liangyu"]
    approve(room, "article-1")
    scheduling.schedule(room, "article-1", ["sink"], T0, "zhouwb", now=T0 - timedelta(hours=1))
    scheduling.schedule(room, "article-2", ["sink"], T0, "zhouwb", now=T0 - timedelta(hours=1))  # unapproved
    grace = timedelta(seconds=room.settings.engine.grace_seconds)
    scheduling.schedule(room, "article-3", ["sink"], T0 - grace - timedelta(minutes=5), "zhouwb")
    sink.script = [(400, {})]
    DeliveryWorker(room, clock=FixedClock(T0), worker_id="w1").run_once()
    [failed] = notices(room, NoticeKind.DELIVERY_FAILED)
    [held] = notices(room, NoticeKind.DELIVERY_HELD)
    [missed] = notices(room, NoticeKind.DELIVERY_MISSED)
    assert {failed.username, held.username, missed.username} == {"liangyu"}
    assert "测试接收端" in failed.title and "测试稿件第1篇" in failed.title and "HTTP 400" in failed.body
    assert "never submitted" in held.body and held.link == "/articles/article-2"
    assert "grace" in missed.body and "2026-12-04" in missed.body
    assert "+0800" in failed.body  # the due time as the newsroom reads it
    before = len(notices(room))
    # Run again: nothing new happened, nobody is told twice.
    DeliveryWorker(room, clock=FixedClock(T0 + timedelta(minutes=1)), worker_id="w2").run_once()
    assert len(notices(room)) == before
    assert len([n for n in notices(room) if n.kind.startswith("delivery_")]) == 3


def test_no_outward_channel_means_no_outbox(staffed: Newsroom) -> None:
    room = staffed
    ReviewService(room).submit("article-1", "zhouwb")
    with Session(room.engine) as s:
        assert s.exec(select(NoticeOutbox)).all() == []


def test_a_notice_that_cannot_be_written_never_undoes_the_act(
    staffed: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = staffed

    def broken(*args: object) -> list[Notice]:
        raise RuntimeError("the notice tables are broken")

    monkeypatch.setattr(produce, "_write", broken)
    result = ReviewService(room).submit("article-1", "zhouwb")
    assert result.status == "in_review"
    with Session(room.engine) as s:
        assert queries.status(s, "article-1").current is not None  # the act stands
        assert [e.action for e in s.exec(select(AuditEvent))][-1] == "review.submit"
    assert notices(room) == []
