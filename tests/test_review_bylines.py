"""`review_state.bylines`: the author rule's view of a revision's bylines, stored beside its review
so the console's inbox can judge in the database. Written at submission and, for reviews written
before it existed, by migration 0020; a byline matches a person exactly as `is_author` says."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session, col, select

from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.service import ReviewService
from publisher.review.users import bylines_key, bylines_key_pattern
from publisher.review.workflow import is_author
from publisher.store.migrate import HEAD, alembic_config
from publisher.store.tables import ReviewState, Revision, StaffUser
from tests.factory import base_meta, write_article
from tests.review_helpers import seed_users


@pytest.fixture
def svc(room: Newsroom) -> Iterator[ReviewService]:
    seed_users(room)
    yield ReviewService(room)


def _submit(room: Newsroom, svc: ReviewService, slug: str, authors: list[str]) -> None:
    write_article(room.content_dir, f"{slug}.md", base_meta(slug, authors=authors))
    assert ingest(room).ok
    svc.submit(slug, "zhouwb")


def _stored(room: Newsroom) -> dict[str, tuple[str | None, str]]:
    with Session(room.engine) as session:
        rows = session.exec(
            select(ReviewState.revision_id, ReviewState.bylines, Revision.meta_json).join(
                Revision, col(Revision.id) == col(ReviewState.revision_id)
            )
        ).all()
    return {revision: (bylines, meta) for revision, bylines, meta in rows}


def test_a_submission_stores_the_bylines_as_the_author_rule_reads_them(
    room: Newsroom, svc: ReviewService
) -> None:
    _submit(room, svc, "spaced", ["王\u3000晓明", "李\u200b华"])
    (bylines, _meta), *_ = _stored(room).values()
    assert bylines == " 王晓明 李华 "


def test_the_stored_bylines_match_a_person_exactly_where_is_author_does(
    room: Newsroom, svc: ReviewService
) -> None:
    _submit(room, svc, "one", ["王 晓明"])
    _submit(room, svc, "two", ["王晓明明", "100%_名"])
    with Session(room.engine) as session:
        users = list(session.exec(select(StaffUser)))
        for user in users:
            matched = set(
                session.exec(
                    select(ReviewState.revision_id).where(
                        col(ReviewState.bylines).like(bylines_key_pattern(user.display_name), escape="\\")
                    )
                )
            )
            expected = {
                revision
                for revision, (_b, meta) in _stored(room).items()
                if is_author(user, json.loads(meta))
            }
            assert matched == expected, user.username


def test_upgrading_to_0020_writes_the_bylines_of_every_review_already_stored(
    room: Newsroom, svc: ReviewService
) -> None:
    _submit(room, svc, "before", ["王晓明", "Ｌｉ Ming"])
    config = alembic_config()
    with room.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0019")
    with room.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
    for bylines, meta in _stored(room).values():
        assert bylines == bylines_key(json.loads(meta)) == " 王晓明 LiMing "
