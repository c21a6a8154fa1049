"""Walk articles through the review chain in tests."""

from __future__ import annotations

from sqlmodel import Session

from publisher.newsroom import Newsroom
from publisher.review import queries
from publisher.review.service import ReviewService
from publisher.review.users import sync_users
from publisher.store.engine import write_session


def seed_users(room: Newsroom) -> None:
    with write_session(room.engine) as session:
        sync_users(session, room.settings.users, "test")


def next_signer(room: Newsroom, slug: str) -> str:
    with Session(room.engine) as session:
        people = queries.eligible(session, slug)
    assert people, f"nobody may sign {slug} now"
    return people[0].username


def sign_through(room: Newsroom, service: ReviewService, slug: str, stages: int | None = None) -> list[str]:
    """Approve stage after stage with the first eligible user; returns the stage names signed."""
    signed: list[str] = []
    while stages is None or len(signed) < stages:
        with Session(room.engine) as session:
            current = queries.status(session, slug).current
        if current is None:
            break
        result = service.approve(slug, next_signer(room, slug))
        assert result.stage is not None
        signed.append(result.stage)
    return signed
