"""Walk articles through the review chain in tests."""

from __future__ import annotations

from unittest.mock import patch

from publisher.newsroom import Newsroom
from publisher.review import walk
from publisher.review.service import ReviewService
from publisher.review.users import sync_users
from publisher.store.engine import write_session


def seed_users(room: Newsroom) -> None:
    with write_session(room.engine) as session:
        sync_users(session, room.settings.users, "test")


def next_signer(room: Newsroom, slug: str) -> str:
    signer = walk.next_signer(ReviewService(room), slug)
    assert signer is not None, f"nobody may sign {slug} now"
    return signer[0]


def sign_through(room: Newsroom, service: ReviewService, slug: str, stages: int | None = None) -> list[str]:
    """Approve stage after stage with the first eligible user; returns the stage names signed."""
    return [s.stage for s in walk.sign_through(service, slug, stages)]


def approve_dodging_checks(room: Newsroom, slug: str) -> None:
    """Sign the current revision through every stage as if the automatic checks had been dodged
    (they find nothing): real, signed acts, so only the gate's own re-check stands in the way."""
    seed_users(room)  # idempotent: the newsroom's staff, as the test fixtures seed them
    service = ReviewService(room)
    with patch.object(ReviewService, "_findings", lambda self, subject: []):
        service.submit(slug, "wangxm")
        walk.sign_through(service, slug, acknowledge=True)


def approve(room: Newsroom, slug: str) -> None:
    """Submit the current revision and sign it through every stage with eligible staff."""
    service = ReviewService(room)
    service.submit(slug, "zhouwb")
    walk.sign_through(service, slug)
