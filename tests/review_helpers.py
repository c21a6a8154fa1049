"""Walk articles through the review chain in tests."""

from __future__ import annotations

from functools import cache
from unittest.mock import patch

from typer.testing import CliRunner

from publisher.cli import app
from publisher.newsroom import Newsroom
from publisher.review import users, walk
from publisher.review.service import ReviewService
from publisher.review.users import get_user, sync_users
from publisher.store.engine import write_session

LOGIN_PASSWORD = "a-long-test-passphrase"


@cache
def _login_hash() -> str:
    # One hash for every test login, with the hasher the tests use (see conftest).
    return users._hasher().hash(LOGIN_PASSWORD)


def give_password(room: Newsroom, *usernames: str) -> None:
    """Set LOGIN_PASSWORD for these (existing) users, as an admin's reset would."""
    with write_session(room.engine) as session:
        for username in usernames:
            user = get_user(session, username)
            user.password_hash = _login_hash()
            session.add(user)


def room_env(room: Newsroom) -> dict[str, str]:
    """The environment a CLI run needs to open this newsroom and its database."""
    return {"PUBLISHER_NEWSROOM": str(room.root), "PUBLISHER_DATABASE_URL": room.database_url}


def cli_login(room: Newsroom, *usernames: str) -> None:
    """`publisher login --as U --password-stdin` for each user, after giving them a password: the
    token lands in this test's own config folder, so later CLI runs act as the last one signed in
    (or the one named with --as)."""
    seed_users(room)
    give_password(room, *usernames)
    runner = CliRunner()
    for username in usernames:
        result = runner.invoke(
            app,
            ["login", "--as", username, "--password-stdin"],
            input=LOGIN_PASSWORD + "\n",
            env=room_env(room),
        )
        assert result.exit_code == 0, result.stdout + result.stderr + repr(result.exception)


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
