"""Console sessions, kept in the database so an admin can end them: the cookie carries a random
token, the row its sha256. A session ends when revoked, after `session_idle_minutes` unused, at
`session_absolute_hours` after sign-in, or as soon as its account is disabled."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from publisher import audit
from publisher.auth.identity import Identity, UserKind, Via
from publisher.config import AuthSettings
from publisher.store.engine import read_session, write_session
from publisher.store.tables import StaffSession, StaffUser
from publisher.timeutil import utc_now

# last_seen is written at most this often: a page view is a read, not a write per request.
_TOUCH_EVERY = timedelta(seconds=60)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class LiveSession:
    id: str
    identity: Identity
    csrf_token: str
    second_factor_done: bool
    created_at: datetime
    last_seen_at: datetime


def open_session(
    engine: Engine,
    auth: AuthSettings,
    identity: Identity,
    *,
    second_factor_done: bool = True,
    user_agent: str = "",
    now: datetime | None = None,
) -> tuple[str, LiveSession]:
    """A new session; returns the cookie's token (shown once, never stored) and the session."""
    now = now or utc_now()
    token = secrets.token_urlsafe(32)
    session_id, csrf = digest(token), secrets.token_urlsafe(24)
    row = StaffSession(
        id=session_id,
        username=identity.username,
        csrf_token=csrf,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=auth.session_absolute_hours),
        second_factor_done=second_factor_done,
        user_agent=user_agent[:300],
    )
    with write_session(engine) as session:
        session.add(row)
    return token, LiveSession(
        session_id,
        Identity(identity.username, identity.display_name, identity.roles, Via.SESSION),
        csrf,
        second_factor_done,
        now,
        now,
    )


def live_session(
    engine: Engine, auth: AuthSettings, token: str, now: datetime | None = None
) -> LiveSession | None:
    """The session a cookie names, if it is still good; one read, and a write at most once a minute."""
    if not token:
        return None
    now = now or utc_now()
    with read_session(engine) as session:
        found = session.exec(
            select(StaffSession, StaffUser)
            .join(StaffUser, col(StaffUser.username) == col(StaffSession.username))
            .where(StaffSession.id == digest(token))
        ).first()
    if found is None:
        return None
    row, user = found
    idle_end = row.last_seen_at + timedelta(minutes=auth.session_idle_minutes)
    if (
        row.revoked_at is not None
        or row.expires_at <= now
        or idle_end <= now
        or not user.active
        or user.kind != UserKind.PERSON
    ):
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        with write_session(engine) as session:
            session.execute(
                update(StaffSession).where(col(StaffSession.id) == row.id).values(last_seen_at=now)
            )
    return LiveSession(
        row.id, Identity.of(user, Via.SESSION), row.csrf_token, row.second_factor_done, row.created_at, now
    )


def finish_second_factor(engine: Engine, session_id: str) -> None:
    with write_session(engine) as session:
        session.execute(
            update(StaffSession).where(col(StaffSession.id) == session_id).values(second_factor_done=True)
        )


def close_session(engine: Engine, session_id: str, username: str, now: datetime | None = None) -> None:
    """Sign out: the row stays (who was signed in when), revoked."""
    now = now or utc_now()
    with write_session(engine) as session:
        session.execute(
            update(StaffSession)
            .where(col(StaffSession.id) == session_id, col(StaffSession.revoked_at).is_(None))
            .values(revoked_at=now)
        )
        audit.append(session, actor=username, action="auth.logout", object_type="user", object_id=username)


def revoke_user_sessions(
    session: Session, username: str, *, actor: str, keep: str | None = None, now: datetime | None = None
) -> int:
    """End every session of a user (a password change, a disable, an admin's decision), except `keep`."""
    now = now or utc_now()
    query = update(StaffSession).where(
        col(StaffSession.username) == username, col(StaffSession.revoked_at).is_(None)
    )
    if keep is not None:
        query = query.where(col(StaffSession.id) != keep)
    result = session.execute(query.values(revoked_at=now))
    ended = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if ended:
        audit.append(
            session,
            actor=actor,
            action="auth.sessions_revoked",
            object_type="user",
            object_id=username,
            details={"sessions": ended},
        )
    return int(ended)


def sessions_of(session: Session, username: str, now: datetime | None = None) -> list[StaffSession]:
    now = now or utc_now()
    return list(
        session.exec(
            select(StaffSession)
            .where(
                StaffSession.username == username,
                col(StaffSession.revoked_at).is_(None),
                col(StaffSession.expires_at) > now,
            )
            .order_by(col(StaffSession.created_at).desc())
        )
    )
