"""Attempts to act as someone else from the command line: naming a person with --as, borrowing
or relabelling a stored token, a revoked or disabled account's token, the engine's service
account, user administration without the admin role, and the bootstrap window after it closed.
Each is refused with a clear message, and nothing is signed, scheduled or changed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from publisher.auth.identity import SERVICE_ACCOUNT
from publisher.auth.signin import AuthError, sign_in
from publisher.auth.tokens import list_tokens, revoke_token
from publisher.cli import app
from publisher.cli.identity import credentials_file
from publisher.engine.worker import DeliveryWorker
from publisher.newsroom import Newsroom
from publisher.review import queries
from publisher.review.service import ReviewService
from publisher.review.users import disable_user, get_user, roles_of
from publisher.store.engine import read_session, write_session
from publisher.store.tables import AuditEvent, Delivery
from tests.review_helpers import LOGIN_PASSWORD, cli_login, give_password, room_env, seed_users

runner = CliRunner()


def cli(room: Newsroom, *args: str, stdin: str | None = None, **extra: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={**room_env(room), "COLUMNS": "200", **extra}, input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, " ".join((result.stdout + result.stderr).split())


@pytest.fixture
def staffed(room: Newsroom) -> Iterator[Newsroom]:
    """The test newsroom ingested and staffed, article-1 submitted by its editor."""
    assert cli(room, "ingest")[0] == 0
    seed_users(room)
    ReviewService(room).submit("article-1", "zhouwb")
    yield room


def signed_by(room: Newsroom, slug: str) -> list[str | None]:
    with read_session(room.engine) as session:
        return [v.done_by for v in queries.status(session, slug).stages]


def releases(room: Newsroom) -> list[Delivery]:
    with Session(room.engine) as session:
        return list(session.exec(select(Delivery)))


def token_of(room: Newsroom, username: str) -> str:
    entry = json.loads(credentials_file().read_text(encoding="utf-8"))["newsrooms"]
    [(_key, logins)] = entry.items()
    return str(logins["tokens"][username])


def test_naming_a_leader_with_as_and_no_login_signs_nothing(staffed: Newsroom) -> None:
    give_password(staffed, "wangjh", "zhouwb")  # passwords exist; nobody typed them
    code, out = cli(staffed, "review", "approve", "article-1", "--as", "zhouwb", "--yes")
    assert code == 1 and "not signed in as zhouwb" in out and "publisher login" in out
    code, out = cli(staffed, "review", "approve", "article-1", "--as", "wangjh", "--yes")
    assert code == 1 and "not signed in as wangjh" in out
    assert "Traceback" not in out
    assert set(signed_by(staffed, "article-1")) == {None}


def test_one_persons_stored_token_cannot_act_as_another(staffed: Newsroom) -> None:
    cli_login(staffed, "zhouwb")
    code, out = cli(staffed, "review", "approve", "article-1", "--as", "hejing", "--yes")
    assert code == 1 and "not signed in as hejing" in out
    code, out = cli(
        staffed,
        "review",
        "approve",
        "article-1",
        "--as",
        "hejing",
        "--yes",
        PUBLISHER_TOKEN=token_of(staffed, "zhouwb"),
    )
    assert code == 1 and "belongs to zhouwb" in out
    # The credentials file edited to file zhouwb's token under hejing's name.
    path = credentials_file()
    data = json.loads(path.read_text(encoding="utf-8"))
    for logins in data["newsrooms"].values():
        logins["tokens"]["hejing"] = logins["tokens"]["zhouwb"]
    path.write_text(json.dumps(data), encoding="utf-8")
    code, out = cli(staffed, "review", "approve", "article-1", "--as", "hejing", "--yes")
    assert code == 1 and "belongs to zhouwb" in out
    assert set(signed_by(staffed, "article-1")) == {None}


def test_a_revoked_token_stops_working_at_once(staffed: Newsroom) -> None:
    cli_login(staffed, "zhouwb")
    assert "zhouwb" in cli(staffed, "whoami")[1]
    with read_session(staffed.engine) as session:
        [view] = list_tokens(session, "zhouwb")
    owner = sign_in(staffed.engine, staffed.settings.auth, "zhouwb", LOGIN_PASSWORD, where="test").identity
    revoke_token(staffed.engine, owner, view.id)
    code, out = cli(staffed, "schedule", "article-1", "-c", "website", "--at", "2031-12-04 09:00")
    assert code == 1 and "revoked" in out
    assert releases(staffed) == []


def test_an_author_with_a_token_cannot_pass_a_stage_by_naming_a_reviewer(staffed: Newsroom) -> None:
    cli_login(staffed, "wangxm")
    token = token_of(staffed, "wangxm")
    for attempt in (
        ("--as", "zhouwb"),
        ("--as", "wangjh"),
    ):
        code, out = cli(staffed, "review", "approve", "article-1", *attempt, "--yes")
        assert code == 1 and "not signed in" in out
        code, out = cli(staffed, "review", "approve", "article-1", *attempt, "--yes", PUBLISHER_TOKEN=token)
        assert code == 1 and "belongs to wangxm" in out
    code, out = cli(staffed, "review", "approve", "article-1", "--yes")
    assert code == 1 and "需要角色" in out  # as themself: an author holds no reviewing role
    assert set(signed_by(staffed, "article-1")) == {None}


def test_the_service_account_can_never_sign_in_or_sign(staffed: Newsroom) -> None:
    code, out = cli(staffed, "review", "approve", "article-1", "--as", SERVICE_ACCOUNT, "--yes")
    assert code == 1 and f"not signed in as {SERVICE_ACCOUNT}" in out
    code, out = cli(staffed, "login", "--as", SERVICE_ACCOUNT, "--password-stdin", stdin="anything-at-all\n")
    assert code == 1 and "wrong username or password" in out
    # Even a password hash written into its row behind the CLI's back does not let it sign in.
    give_password(staffed, SERVICE_ACCOUNT)
    with pytest.raises(AuthError):
        sign_in(staffed.engine, staffed.settings.auth, SERVICE_ACCOUNT, LOGIN_PASSWORD, where="test")
    code, out = cli(
        staffed, "login", "--as", SERVICE_ACCOUNT, "--password-stdin", stdin=LOGIN_PASSWORD + "\n"
    )
    assert code == 1
    code, out = cli(
        staffed, "users", "passwd", SERVICE_ACCOUNT, "--password-stdin", stdin="long-enough-phrase\n"
    )
    assert code == 1 and "service account" in out
    assert set(signed_by(staffed, "article-1")) == {None}
    # What the engine does, it does under the service account's name.
    assert DeliveryWorker(staffed).id.startswith(f"{SERVICE_ACCOUNT}@")


def test_a_disabled_users_token_stops(staffed: Newsroom) -> None:
    cli_login(staffed, "zhouwb")
    assert cli(staffed, "pause", "--reason", "演练")[0] == 0
    with write_session(staffed.engine) as session:
        disable_user(session, "zhouwb", "test")
    code, out = cli(staffed, "resume")
    assert code == 1 and "disabled" in out


def test_user_administration_by_a_non_admin_is_refused(staffed: Newsroom) -> None:
    give_password(staffed, "admin")  # the bootstrap window is closed
    cli_login(staffed, "zhouwb")
    refused = [
        ("users", "add", "mole", "--name", "内鬼", "--role", "leader"),
        ("users", "edit", "zhouwb", "--roles", "admin"),
        ("users", "disable", "hejing"),
        ("users", "sync"),
    ]
    for args in refused:
        code, out = cli(staffed, *args)
        assert code == 1 and "may not manage_users" in out, (args, out)
    code, out = cli(staffed, "users", "passwd", "hejing", "--password-stdin", stdin="taken-over-account\n")
    assert code == 1 and "only change their own password" in out
    with read_session(staffed.engine) as session:
        assert get_user(session, "hejing").active and get_user(session, "hejing").password_hash is None
        assert roles_of(get_user(session, "zhouwb")) == ["editor"]
        assert not any(
            e.actor == "zhouwb" and e.action.startswith("user.") for e in session.exec(select(AuditEvent))
        )


def test_the_bootstrap_window_closes_once_an_admin_has_a_password(staffed: Newsroom) -> None:
    code, out = cli(staffed, "users", "passwd", "admin", "--password-stdin", stdin="short\n")
    assert code == 1 and "at least 10 characters" in out
    code, out = cli(staffed, "users", "passwd", "admin", "--password-stdin", stdin="first-root-phrase-2026\n")
    assert code == 0 and "bootstrap" in out
    with read_session(staffed.engine) as session:
        [event] = session.exec(
            select(AuditEvent).where(AuditEvent.action == "user.password").order_by(col(AuditEvent.seq))
        ).all()
    assert (event.actor, event.object_id) == ("bootstrap", "admin")
    # Now nobody sets a password, or administers users, without signing in.
    code, out = cli(staffed, "users", "passwd", "zhouwb", "--password-stdin", stdin="a-password-i-chose\n")
    assert code == 1 and "not signed in" in out
    code, out = cli(staffed, "users", "passwd", "admin", "--password-stdin", stdin="taken-over-admin\n")
    assert code == 1 and "not signed in" in out
    code, out = cli(staffed, "users", "add", "mole", "--name", "内鬼", "--role", "admin")
    assert code == 1 and "not signed in" in out
    # The admin signs in and sets the editor's; the editor then changes their own, giving the old one.
    code, out = cli(staffed, "login", "--as", "admin", "--password-stdin", stdin="first-root-phrase-2026\n")
    assert code == 0, out
    code, out = cli(staffed, "users", "passwd", "zhouwb", "--password-stdin", stdin="set-by-the-admin\n")
    assert code == 0 and "password reset" in out
    code, out = cli(staffed, "login", "--as", "zhouwb", "--password-stdin", stdin="set-by-the-admin\n")
    assert code == 0, out
    code, out = cli(
        staffed,
        "users",
        "passwd",
        "zhouwb",
        "--as",
        "zhouwb",
        "--password-stdin",
        "--old-password-env",
        "OLD",
        stdin="my-own-new-phrase\n",
        OLD="set-by-the-admin",
    )
    assert code == 0 and "password changed" in out
    assert sign_in(
        staffed.engine, staffed.settings.auth, "zhouwb", "my-own-new-phrase", where="test"
    ).complete
