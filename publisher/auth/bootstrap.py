"""The first password of a fresh newsroom: nobody can sign in yet, so user administration is
allowed without a login until an admin account has a password. The window closes by itself and
every act done through it is audited with the actor "bootstrap"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from publisher.auth.identity import UserKind
from publisher.auth.signin import AuthError, password_problem
from publisher.review.users import get_user, roles_of, set_password
from publisher.store.engine import read_session, write_session
from publisher.store.tables import StaffUser
from publisher.timeutil import utc_now

BOOTSTRAP_ACTOR = "bootstrap"

CLOSED = (
    "已有管理员设置了密码，引导模式已关闭：请先以管理员身份 publisher login / an admin already has a "
    "password, so the bootstrap window is closed: sign in as an admin first (publisher login --as ADMIN)"
)


def bootstrap_open_in(session: Session) -> bool:
    """True while no active admin account has a password (nobody could sign in to administer)."""
    people = session.exec(
        select(StaffUser).where(
            StaffUser.kind == UserKind.PERSON,
            col(StaffUser.active).is_(True),
            col(StaffUser.password_hash).is_not(None),
        )
    )
    return not any("admin" in roles_of(user) for user in people)


def bootstrap_open(engine: Engine) -> bool:
    with read_session(engine) as session:
        return bootstrap_open_in(session)


def bootstrap_password(engine: Engine, username: str, new: str, now: datetime | None = None) -> None:
    """Set a password without a login, checked again inside the write so two terminals racing
    cannot both pass the window."""
    now = now or utc_now()
    problem = password_problem(new, username)
    if problem:
        raise AuthError(problem)
    with write_session(engine) as session:
        if not bootstrap_open_in(session):
            raise AuthError(CLOSED)
        user = get_user(session, username)
        if user.kind != UserKind.PERSON:
            raise AuthError("服务账号没有密码 / a service account has no password")
        set_password(session, username, new, actor=BOOTSTRAP_ACTOR)
        user.password_changed_at = now
        session.add(user)
