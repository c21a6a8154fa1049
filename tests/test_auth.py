"""Signing in: passwords, lockout, TOTP, sessions, command-line tokens, the engine's account."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from publisher.auth.identity import SERVICE_ACCOUNT, Via
from publisher.auth.sessions import close_session, live_session, open_session
from publisher.auth.signin import AuthError, SecondStep, enrol_totp, sign_in
from publisher.auth.tokens import issue_token, revoke_token, token_identity
from publisher.cli import app
from publisher.config import AuthSettings
from publisher.newsroom import Newsroom
from publisher.review.plan import PlannedStage
from publisher.review.users import get_user, set_password
from publisher.review.workflow import refusal_to_sign
from publisher.store.engine import read_session, write_session
from publisher.store.tables import AuditEvent
from publisher.timeutil import utc_now
from tests.review_helpers import seed_users

PASSWORD = "correct horse battery"
AUTH = AuthSettings(max_failures=3, lockout_minutes=10, session_idle_minutes=30, session_absolute_hours=8)


@pytest.fixture
def staff(room: Newsroom) -> Newsroom:
    seed_users(room)
    with write_session(room.engine) as session:
        for name in ("wangxm", "zhouwb", "wangjh"):
            set_password(session, name, PASSWORD, actor="test")
    return room


def actions(room: Newsroom, prefix: str = "auth.") -> list[tuple[str, str]]:
    with read_session(room.engine) as session:
        rows = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq)))
        return [(e.action, e.object_id) for e in rows if e.action.startswith(prefix)]


def test_a_right_password_signs_in_and_is_audited(staff: Newsroom) -> None:
    result = sign_in(staff.engine, AUTH, "zhouwb", PASSWORD, where="test")
    assert result.complete and result.identity.username == "zhouwb" and "editor" in result.identity.roles
    assert actions(staff) == [("auth.login", "zhouwb")]


def test_a_wrong_password_and_an_unknown_user_read_the_same(staff: Newsroom) -> None:
    with pytest.raises(AuthError) as wrong:
        sign_in(staff.engine, AUTH, "zhouwb", "nope", where="test")
    with pytest.raises(AuthError) as unknown:
        sign_in(staff.engine, AUTH, "nobody", "nope", where="test")
    assert str(wrong.value) == str(unknown.value)
    assert actions(staff) == [("auth.login_failed", "zhouwb"), ("auth.login_failed", "nobody")]


def test_repeated_failures_lock_the_account_even_against_the_right_password(staff: Newsroom) -> None:
    now = utc_now()
    for _ in range(3):
        with pytest.raises(AuthError):
            sign_in(staff.engine, AUTH, "zhouwb", "guess", where="test", now=now)
    with pytest.raises(AuthError, match="锁定"):
        sign_in(staff.engine, AUTH, "zhouwb", PASSWORD, where="test", now=now + timedelta(minutes=1))
    assert ("auth.lockout", "zhouwb") in actions(staff)
    # After the lock ends, the right password works and the count starts again.
    later = sign_in(staff.engine, AUTH, "zhouwb", PASSWORD, where="test", now=now + timedelta(minutes=11))
    assert later.complete
    with read_session(staff.engine) as session:
        assert get_user(session, "zhouwb").failed_logins == 0


def test_the_engine_account_can_neither_sign_in_nor_review(staff: Newsroom) -> None:
    with read_session(staff.engine) as session:
        engine_user = get_user(session, SERVICE_ACCOUNT)
    assert engine_user.kind == "service"
    with pytest.raises(AuthError):
        sign_in(staff.engine, AUTH, SERVICE_ACCOUNT, "", where="test")
    stage = PlannedStage("s1", "一审", "editor")
    assert "服务账号" in (refusal_to_sign(engine_user, stage, {}, {}) or "")


def test_a_role_the_newsroom_names_must_use_a_second_factor(staff: Newsroom) -> None:
    auth = AuthSettings(totp_roles=["leader"])
    first = sign_in(staff.engine, auth, "wangjh", PASSWORD, where="test")
    assert first.second == SecondStep.ENROL and not first.complete
    secret = pyotp.random_base32()
    with pytest.raises(AuthError):
        enrol_totp(staff.engine, "wangjh", secret, "000000")
    enrol_totp(staff.engine, "wangjh", secret, pyotp.TOTP(secret).now())
    assert sign_in(staff.engine, auth, "wangjh", PASSWORD, where="test").second == SecondStep.OWED
    done = sign_in(staff.engine, auth, "wangjh", PASSWORD, totp=pyotp.TOTP(secret).now(), where="test")
    assert done.second == SecondStep.DONE
    with pytest.raises(AuthError, match="验证码"):
        sign_in(staff.engine, auth, "wangjh", PASSWORD, totp="123456", where="test")
    # Editors are not named: no second step for them.
    assert sign_in(staff.engine, auth, "zhouwb", PASSWORD, where="test").second == SecondStep.NONE


def test_sessions_end_when_idle_at_their_absolute_end_when_closed_or_when_the_account_is_disabled(
    staff: Newsroom,
) -> None:
    identity = sign_in(staff.engine, AUTH, "zhouwb", PASSWORD, where="test").identity
    now = utc_now()
    token, opened = open_session(staff.engine, AUTH, identity, now=now)
    live = live_session(staff.engine, AUTH, token, now=now + timedelta(minutes=5))
    assert live is not None and live.identity.via == Via.SESSION and live.csrf_token == opened.csrf_token
    assert (
        live_session(staff.engine, AUTH, token, now=now + timedelta(minutes=34)) is not None
    )  # touched at 5
    assert live_session(staff.engine, AUTH, token, now=now + timedelta(minutes=70)) is None  # idle
    assert live_session(staff.engine, AUTH, "forged", now=now) is None

    token, opened = open_session(staff.engine, AUTH, identity, now=now)
    for minutes in range(20, 8 * 60, 20):  # kept busy, it still ends after 8 hours
        assert live_session(staff.engine, AUTH, token, now=now + timedelta(minutes=minutes)) is not None
    assert live_session(staff.engine, AUTH, token, now=now + timedelta(hours=8, minutes=1)) is None

    token, opened = open_session(staff.engine, AUTH, identity)
    close_session(staff.engine, opened.id, "zhouwb")
    assert live_session(staff.engine, AUTH, token) is None

    token, _opened = open_session(staff.engine, AUTH, identity)
    with write_session(staff.engine) as session:
        user = get_user(session, "zhouwb")
        user.active = False
        session.add(user)
    assert live_session(staff.engine, AUTH, token) is None


def test_tokens_stand_for_their_owner_until_revoked_or_expired(staff: Newsroom) -> None:
    identity = sign_in(staff.engine, AUTH, "zhouwb", PASSWORD, where="test").identity
    raw = issue_token(staff.engine, AUTH, identity, "laptop")
    assert token_identity(staff.engine, raw).username == "zhouwb"
    with pytest.raises(AuthError, match="过期"):
        token_identity(staff.engine, raw, now=utc_now() + timedelta(days=AUTH.token_days + 1))
    other = sign_in(staff.engine, AUTH, "wangxm", PASSWORD, where="test").identity
    with read_session(staff.engine) as session:
        from publisher.auth.tokens import list_tokens

        (view,) = list_tokens(session, "zhouwb")
    with pytest.raises(Exception, match="没有这个令牌"):
        revoke_token(staff.engine, other, view.id)  # not theirs, not an admin
    revoke_token(staff.engine, identity, view.id)
    with pytest.raises(AuthError, match="撤销"):
        token_identity(staff.engine, raw)
    assert [a for a, _ in actions(staff) if a.startswith("auth.token")] == [
        "auth.token_issue",
        "auth.token_revoke",
    ]


runner = CliRunner()


def test_cli_login_stores_a_token_that_acts_and_logout_revokes_it(staff: Newsroom) -> None:
    root = ["--newsroom", str(staff.root)]
    refused = runner.invoke(app, ["whoami", "--as", "zhouwb", *root])
    assert refused.exit_code == 1 and "publisher login" in refused.output
    wrong = runner.invoke(app, ["login", "--as", "zhouwb", "--password-stdin", *root], input="nope\n")
    assert wrong.exit_code == 1 and "密码错误" in wrong.output
    ok = runner.invoke(app, ["login", "--as", "zhouwb", "--password-stdin", *root], input=PASSWORD + "\n")
    assert ok.exit_code == 0, ok.output
    me = runner.invoke(app, ["whoami", *root, "--json"])
    assert me.exit_code == 0 and '"zhouwb"' in me.output
    # --as names only one's own stored logins: another person's name is not enough.
    other = runner.invoke(app, ["whoami", "--as", "wangjh", *root])
    assert other.exit_code == 1
    out = runner.invoke(app, ["logout", *root])
    assert out.exit_code == 0
    assert runner.invoke(app, ["whoami", *root]).exit_code == 1
    assert ("auth.token_revoke", "1") in actions(staff) or any(
        a == "auth.token_revoke" for a, _ in actions(staff)
    )


def test_a_token_in_the_environment_serves_scripts_and_cannot_be_used_for_someone_else(
    staff: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity = sign_in(staff.engine, AUTH, "zhouwb", PASSWORD, where="test").identity
    monkeypatch.setenv("PUBLISHER_TOKEN", issue_token(staff.engine, AUTH, identity))
    root = ["--newsroom", str(staff.root)]
    assert runner.invoke(app, ["whoami", *root]).exit_code == 0
    mismatch = runner.invoke(app, ["whoami", "--as", "wangjh", *root])
    assert mismatch.exit_code == 1 and "PUBLISHER_TOKEN" in mismatch.output
