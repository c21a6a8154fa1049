"""A person's own password and an admin's reset: both end the account's other sessions and every
command-line token, since a password is changed when it may have been seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from publisher.auth.identity import Identity
from publisher.auth.sessions import revoke_user_sessions
from publisher.auth.signin import AuthError, password_problem
from publisher.auth.tokens import revoke_user_tokens
from publisher.review.users import disable_user, get_user, set_password, verify_password
from publisher.store.engine import write_session
from publisher.timeutil import utc_now


def change_password(
    engine: Engine,
    identity: Identity,
    old: str,
    new: str,
    *,
    keep_session: str | None = None,
    now: datetime | None = None,
) -> None:
    now = now or utc_now()
    problem = password_problem(new, identity.username)
    if problem:
        raise AuthError(problem)
    with write_session(engine) as session:
        user = get_user(session, identity.username)
        if not verify_password(user, old):
            raise AuthError("当前密码不正确 / the current password is wrong")
        set_password(session, identity.username, new, actor=identity.username)
        user.password_changed_at = now
        session.add(user)
        revoke_user_sessions(session, identity.username, actor=identity.username, keep=keep_session, now=now)
        revoke_user_tokens(session, identity.username, actor=identity.username, now=now)


def reset_password(
    engine: Engine, admin: Identity, username: str, new: str, now: datetime | None = None
) -> None:
    """An admin sets someone's password (a forgotten one): their sessions and tokens end too."""
    if not admin.has_any("admin"):
        raise AuthError("只有管理员可以重置他人密码 / only an admin resets another person's password")
    now = now or utc_now()
    problem = password_problem(new, username)
    if problem:
        raise AuthError(problem)
    with write_session(engine) as session:
        user = get_user(session, username)
        if user.kind != "person":
            raise AuthError("服务账号没有密码 / a service account has no password")
        set_password(session, username, new, actor=admin.username)
        user.password_changed_at = now
        user.failed_logins = 0
        user.locked_until = None
        session.add(user)
        revoke_user_sessions(session, username, actor=admin.username, now=now)
        revoke_user_tokens(session, username, actor=admin.username, now=now)


def revoke_access(
    engine: Engine, admin: Identity, username: str, now: datetime | None = None
) -> tuple[int, int]:
    """An admin ends every console session and command-line token of a person (a lost laptop);
    returns how many of each."""
    if not admin.has_any("admin"):
        raise AuthError("只有管理员可以撤销他人的登录 / only an admin revokes another person's sign-ins")
    now = now or utc_now()
    with write_session(engine) as session:
        get_user(session, username)
        sessions = revoke_user_sessions(session, username, actor=admin.username, now=now)
        tokens = revoke_user_tokens(session, username, actor=admin.username, now=now)
    return sessions, tokens


def disable_account(engine: Engine, admin: Identity, username: str, now: datetime | None = None) -> None:
    """An admin disables a person: they can no longer sign in, and what they were signed in with ends."""
    if not admin.has_any("admin"):
        raise AuthError("只有管理员可以停用账号 / only an admin disables an account")
    if username == admin.username:
        raise AuthError("不能停用自己的账号 / an admin cannot disable their own account")
    now = now or utc_now()
    with write_session(engine) as session:
        disable_user(session, username, actor=admin.username)
        revoke_user_sessions(session, username, actor=admin.username, now=now)
        revoke_user_tokens(session, username, actor=admin.username, now=now)
