"""Signing in: the password (argon2), the lockout after repeated failures, the TOTP second factor.

Every attempt is audited: `auth.login`, `auth.login_failed` (with the reason, never the password),
`auth.lockout` when an account is locked. A wrong password and an unknown username read the same
to the caller, so the form cannot be used to find out who works here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from publisher import audit
from publisher.auth.identity import Identity, UserKind, Via
from publisher.config import AuthSettings
from publisher.errors import PublisherError
from publisher.review.users import roles_of, verify_password
from publisher.store.engine import write_session
from publisher.store.tables import StaffUser
from publisher.timeutil import utc_now

WRONG = "用户名或密码错误 / wrong username or password"


class AuthError(PublisherError):
    """A sign-in or a credential was refused; the message is safe to show to the person."""


class SecondStep(StrEnum):
    NONE = "none"  # no second factor for this account
    DONE = "done"  # the code came with the password and was right
    OWED = "owed"  # the account has a TOTP secret: the next step asks for the code
    ENROL = "enrol"  # the newsroom requires one for a role of this account and none is enrolled


@dataclass(frozen=True, slots=True)
class SignIn:
    identity: Identity
    second: SecondStep

    @property
    def complete(self) -> bool:
        return self.second in (SecondStep.NONE, SecondStep.DONE)


def totp_required(user: StaffUser, auth: AuthSettings) -> bool:
    return bool(user.totp_secret) or any(role in auth.totp_roles for role in roles_of(user))


def _locked_message(until: datetime, tz_name: str | None) -> str:
    from zoneinfo import ZoneInfo

    shown = until.astimezone(ZoneInfo(tz_name)) if tz_name else until
    return (
        f"连续登录失败次数过多，账号已临时锁定至 {shown:%H:%M} / too many failed sign-ins: "
        f"the account is locked until {shown:%H:%M}; 请稍后再试或联系管理员 / try later or ask an admin"
    )


def _fail(
    session: Session,
    user: StaffUser | None,
    username: str,
    reason: str,
    where: str,
    auth: AuthSettings,
    now: datetime,
) -> None:
    audit.append(
        session,
        actor=username,
        action="auth.login_failed",
        object_type="user",
        object_id=username,
        details={"reason": reason, "where": where},
    )
    if user is None:
        return
    user.failed_logins += 1
    if user.failed_logins >= auth.max_failures:
        user.locked_until = now + timedelta(minutes=auth.lockout_minutes)
        user.failed_logins = 0
        audit.append(
            session,
            actor=username,
            action="auth.lockout",
            object_type="user",
            object_id=username,
            details={"until": user.locked_until.isoformat(), "where": where},
        )
    session.add(user)


def _load(session: Session, username: str) -> StaffUser | None:
    return session.exec(select(StaffUser).where(StaffUser.username == username)).first()


def sign_in(
    engine: Engine,
    auth: AuthSettings,
    username: str,
    password: str,
    *,
    totp: str | None = None,
    where: str,
    tz_name: str | None = None,
    now: datetime | None = None,
) -> SignIn:
    """Check a password (and a TOTP code when one is given). Failures are committed before the
    refusal is raised, so the count survives; a locked account is refused without a check."""
    now = now or utc_now()
    refusal: str | None = None
    with write_session(engine) as session:
        user = _load(session, username)
        if user is not None and user.locked_until is not None and user.locked_until > now:
            audit.append(
                session,
                actor=username,
                action="auth.login_failed",
                object_type="user",
                object_id=username,
                details={"reason": "locked", "where": where},
            )
            refusal = _locked_message(user.locked_until, tz_name)
        elif user is None or user.kind != UserKind.PERSON or not verify_password(user, password):
            reason = (
                "unknown user"
                if user is None
                else "service account"
                if user.kind != UserKind.PERSON
                else (
                    "disabled"
                    if not user.active
                    else "no password"
                    if not user.password_hash
                    else "wrong password"
                )
            )
            _fail(session, user, username, reason, where, auth, now)
            refusal = WRONG
        else:
            second = SecondStep.NONE
            if totp_required(user, auth):
                if not user.totp_secret:
                    second = SecondStep.ENROL
                elif totp is None:
                    second = SecondStep.OWED
                elif code_matches(user.totp_secret, totp, now):
                    second = SecondStep.DONE
                else:
                    _fail(session, user, username, "wrong second factor", where, auth, now)
                    refusal = "动态验证码错误 / wrong one-time code"
            if refusal is None:
                user.failed_logins = 0
                user.locked_until = None
                session.add(user)
                if second in (SecondStep.NONE, SecondStep.DONE):
                    audit.append(
                        session,
                        actor=username,
                        action="auth.login",
                        object_type="user",
                        object_id=username,
                        details={"where": where, "second_factor": second == SecondStep.DONE},
                    )
                return SignIn(Identity.of(user, Via.PASSWORD), second)
    raise AuthError(refusal or WRONG)


def code_matches(secret: str, code: str, now: datetime) -> bool:
    # One step either side: a phone's clock a little off still signs in.
    return pyotp.TOTP(secret).verify(code.strip().replace(" ", ""), for_time=now, valid_window=1)


def second_factor(
    engine: Engine, auth: AuthSettings, username: str, code: str, *, where: str, now: datetime | None = None
) -> Identity:
    """The console's second step, after the password: a wrong code counts as a failed sign-in."""
    now = now or utc_now()
    with write_session(engine) as session:
        user = _load(session, username)
        if user is None or not user.active or not user.totp_secret:
            raise AuthError(WRONG)
        if user.locked_until is not None and user.locked_until > now:
            raise AuthError(_locked_message(user.locked_until, None))
        if code_matches(user.totp_secret, code, now):
            audit.append(
                session,
                actor=username,
                action="auth.login",
                object_type="user",
                object_id=username,
                details={"where": where, "second_factor": True},
            )
            return Identity.of(user, Via.PASSWORD)
        _fail(session, user, username, "wrong second factor", where, auth, now)
    raise AuthError("动态验证码错误 / wrong one-time code")


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def enrol_totp(engine: Engine, username: str, secret: str, code: str, *, now: datetime | None = None) -> None:
    """Store a TOTP secret once the person has shown a code from it (so a typo never locks them out)."""
    now = now or utc_now()
    if not code_matches(secret, code, now):
        raise AuthError("动态验证码不正确，请用验证器应用中的当前代码 / the code does not match the secret")
    with write_session(engine) as session:
        user = _load(session, username)
        if user is None or not user.active:
            raise AuthError(WRONG)
        user.totp_secret = secret
        session.add(user)
        audit.append(
            session, actor=username, action="auth.totp_enrol", object_type="user", object_id=username
        )


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is refused, or None. Length over rules: a long phrase is the good kind."""
    if len(password) < 10:
        return "密码至少 10 个字符 / a password needs at least 10 characters"
    if username.lower() in password.lower():
        return "密码不能包含用户名 / a password must not contain the username"
    return None
