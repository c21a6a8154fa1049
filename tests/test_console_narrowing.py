"""The console's read models let the database narrow rows before the rules decide (the inbox by the
waiting stage's role and the user's name, the list by a condition each state implies): narrowing
must never hide a row the rules would show. Checked against the rules run on every row, on a seeded
newsroom with every review status and many releases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from bench.console_seed import seed
from publisher.console.views.article_list import ArticleFilter, article_list
from publisher.newsroom import Newsroom
from publisher.review import queries
from publisher.review.queries import eligible, inbox
from publisher.review.workflow import is_author, refusal_to_act
from publisher.standing import ArticleState, standings_in
from publisher.store.tables import Article, ReviewState, Revision, StaffUser
from tests.factory import shared_corpus_script

pytestmark = pytest.mark.skipif(shared_corpus_script() is None, reason="needs ../shared/bench/make_corpus.py")


@pytest.fixture
def seeded(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Newsroom]:
    monkeypatch.delenv("PUBLISHER_DATABASE_URL", raising=False)
    seed(tmp_path / "room", articles=40, deliveries=400, users=30, database_url=db_url, quiet=True)
    room = Newsroom(tmp_path / "room")
    try:
        yield room
    finally:
        room.close()


def test_the_list_filtered_by_state_or_stage_is_what_every_articles_standing_says(seeded: Newsroom) -> None:
    with Session(seeded.engine) as session:
        ids = list(session.exec(select(Article.id).where(col(Article.current_revision_id).is_not(None))))
        standings = standings_in(session, [i for i in ids if i is not None])
        slug_of = dict(session.exec(select(Article.id, Article.slug)).all())
        for state in ArticleState:
            listed = article_list(session, ArticleFilter(state=state), size=200)
            expected = {slug_of[i] for i, s in standings.items() if s.state is state}
            assert {row.slug for row in listed.rows} == expected, state
            assert listed.page.total == len(expected)
        stages = {s.stage for s in standings.values() if s.stage}
        assert stages, "the seed leaves reviews waiting"
        for stage in stages:
            listed = article_list(session, ArticleFilter(stage=stage), size=200)
            assert {row.slug for row in listed.rows} == {
                slug_of[i] for i, s in standings.items() if s.stage == stage
            }
    assert {s.state for s in standings.values()} >= {ArticleState.IN_REVIEW, ArticleState.LIVE}


def test_each_users_inbox_is_what_the_rules_say_on_every_open_review(seeded: Newsroom) -> None:
    with Session(seeded.engine) as session:
        users = list(session.exec(select(StaffUser).where(col(StaffUser.kind) == "person")))
        open_reviews = session.exec(
            select(Article.slug, ReviewState.status, ReviewState.submitted_by, Revision.meta_json)
            .join(Revision, col(Revision.id) == col(Article.current_revision_id))
            .join(ReviewState, col(ReviewState.revision_id) == col(Revision.id))
            .where(col(ReviewState.status).in_(["in_review", "rejected"]))
        ).all()
        may_sign = {slug: {u.username for u in eligible(session, slug)} for slug, *_rest in open_reviews}
        seen_tasks = 0
        for user in users:
            box = inbox(session, user.username)
            tasks, waiting = set(), set()
            for slug, status, submitter, meta_json in open_reviews:
                mine = is_author(user, json.loads(meta_json)) or submitter == user.username
                if status == "rejected":
                    if mine:
                        tasks.add(slug)
                elif user.username in may_sign[slug]:
                    tasks.add(slug)
                elif mine:
                    waiting.add(slug)
            assert {t.slug for t in box.tasks} == tasks, user.username
            assert {w.slug for w in box.waiting} == waiting, user.username
            seen_tasks += len(tasks)
    assert seen_tasks, "some stage waits on someone"


def _authored_open_pieces(session: Session, user: StaffUser) -> int:
    rows = session.exec(
        select(Revision.meta_json)
        .join(ReviewState, col(ReviewState.revision_id) == col(Revision.id))
        .where(col(ReviewState.status).in_(["in_review", "rejected"]))
    ).all()
    return sum(1 for meta in rows if is_author(user, json.loads(meta)))


def test_the_dashboards_inbox_asks_the_rule_only_for_the_rows_it_shows_and_the_users_articles(
    seeded: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = 0

    def counted(*args: Any) -> str | None:
        nonlocal asked
        asked += 1
        return refusal_to_act(*args)

    shown = 2
    spared = 0  # open reviews the rule was not asked about, yet counted
    with Session(seeded.engine) as session:
        for user in session.exec(select(StaffUser).where(col(StaffUser.kind) == "person")).all():
            whole = inbox(session, user.username)
            monkeypatch.setattr(queries, "refusal_to_act", counted)
            asked = 0
            first = inbox(session, user.username, shown=shown)
            monkeypatch.setattr(queries, "refusal_to_act", refusal_to_act)
            assert first.tasks == whole.tasks[:shown], user.username
            assert first.waiting == whole.waiting[:shown], user.username
            assert first.task_count == whole.task_count == len(whole.tasks), user.username
            assert first.waiting_count == whole.waiting_count == len(whole.waiting), user.username
            # Asked for the rows shown (tasks and pieces waiting) and the articles they wrote, only.
            authored = _authored_open_pieces(session, user)
            assert asked <= 2 * shown + authored, (user.username, asked)
            spared += max(0, len(whole.tasks) + len(whole.waiting) - 2 * shown - authored)
    assert spared > 0, "some user has more tasks and pieces than the rows shown and their own articles"


def test_reviews_stored_without_their_bylines_are_judged_by_the_rule(seeded: Newsroom) -> None:
    with Session(seeded.engine) as session:
        users = list(session.exec(select(StaffUser).where(col(StaffUser.kind) == "person")))
        before = {u.username: inbox(session, u.username) for u in users}
        session.execute(update(ReviewState).values(bylines=None))
        for user in users:
            after = inbox(session, user.username, shown=3)
            assert after.tasks == before[user.username].tasks[:3], user.username
            assert after.task_count == before[user.username].task_count, user.username
            assert after.waiting == before[user.username].waiting[:3], user.username
            assert after.waiting_count == before[user.username].waiting_count, user.username
        session.rollback()
