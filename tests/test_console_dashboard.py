"""工作台: what one person sees first."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from publisher.console.views.dashboard import dashboard
from publisher.engine.pause import set_paused
from publisher.newsroom import Newsroom
from publisher.store.engine import write_session
from publisher.store.tables import Article, Delivery, Worker
from tests.console_world import NOW, build


def _trouble(room: Newsroom, slug: str, status: str, reason: str) -> None:
    with write_session(room.engine) as session:
        article = session.exec(select(Article).where(Article.slug == slug)).one()
        assert article.id is not None
        session.add(
            Delivery(
                article_id=article.id,
                channel="wechat",
                due_at=NOW - timedelta(hours=1),
                status=status,
                attempts=3,
                next_attempt_at=NOW - timedelta(hours=1),
                idempotency_key=f"test-{slug}-{status}",
                last_error=reason,
                created_by="zhouwb",
                created_at=NOW - timedelta(days=1),
                updated_at=NOW - timedelta(minutes=5),
            )
        )


def test_a_reviewer_sees_the_stage_waiting_on_them_and_an_author_their_pieces(room: Newsroom) -> None:
    world = build(room)
    with Session(room.engine) as session:
        head = dashboard(session, "qianwd", NOW, 5)
        author = dashboard(session, "wangxm", NOW, 5)
        sent_back = dashboard(session, "lijing", NOW, 5)
    assert [(t.slug, t.stage) for t in head.tasks] == [(world.in_review, "复审")]
    assert world.in_review in {w.slug for w in author.waiting} and not author.tasks
    assert [(t.slug, t.stage) for t in sent_back.tasks] == [(world.rejected, "退回修改")]


def test_the_week_counts_releases_per_local_day_and_channel(room: Newsroom) -> None:
    build(room)  # article-1 on the website two days from now
    with Session(room.engine) as session:
        board = dashboard(session, "zhouwb", NOW, 5)
    assert len(board.week) == 8 and board.week[0].day == NOW.date()
    (website,) = board.week[2].channels
    assert website.channel == "website" and website.counts == {"scheduled": 1}
    assert all(not day.channels for i, day in enumerate(board.week) if i != 2)
    assert board.today == ()


def test_a_release_late_in_the_local_evening_counts_on_that_local_day(room: Newsroom) -> None:
    build(room)
    # 23:30 in Shanghai on the 25th is 15:30 UTC: the 25th, not the 26th, and not the UTC day.
    _trouble(room, "article-3", "scheduled", "")
    with write_session(room.engine) as session:
        late = session.exec(
            select(Delivery).where(Delivery.idempotency_key == "test-article-3-scheduled")
        ).one()
        late.due_at = NOW.replace(hour=15, minute=30)
        session.add(late)
    with Session(room.engine) as session:
        board = dashboard(session, "zhouwb", NOW, 5)
    assert [c.channel for c in board.week[0].channels] == ["wechat"]
    assert [r.due_local for r in board.today] == ["2026-11-25 23:30 +0800"]


def test_held_failed_and_missed_releases_are_listed_with_their_reasons(room: Newsroom) -> None:
    world = build(room)
    _trouble(room, world.draft, "held", "未经审核通过 / not approved")
    _trouble(room, world.finance, "failed", "微信返回 45009 / daily quota")
    with Session(room.engine) as session:
        board = dashboard(session, "zhouwb", NOW, 5)
    assert {(r.slug, r.state, r.reason) for r in board.trouble} == {
        (world.draft, "held", "未经审核通过 / not approved"),
        (world.finance, "failed", "微信返回 45009 / daily quota"),
    }
    assert board.trouble_counts == {"held": 1, "failed": 1, "missed": 0, "unknown": 0}


def test_live_workers_and_the_pause_switch_are_shown(room: Newsroom) -> None:
    build(room)
    with write_session(room.engine) as session:
        for name, beat in (("alive", NOW - timedelta(seconds=3)), ("gone", NOW - timedelta(hours=1))):
            session.add(
                Worker(
                    id=name,
                    host="h",
                    pid=1,
                    started_at=NOW - timedelta(hours=2),
                    heartbeat_at=beat,
                    state="running",
                )
            )
    with Session(room.engine) as session:
        before = dashboard(session, "zhouwb", NOW, 5)
    set_paused(room, True, "zhouwb", "演练")
    with Session(room.engine) as session:
        after = dashboard(session, "zhouwb", NOW, 5)
    assert [w.id for w in before.workers] == ["alive"]
    assert not before.pause.paused
    assert after.pause.paused and after.pause.by == "zhouwb"
