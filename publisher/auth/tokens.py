"""Personal command-line tokens (`publisher login`, like `gh auth login`): issued after a password
sign-in, stored as a sha256, shown once, revocable by their owner or an admin, expiring."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from publisher import audit
from publisher.auth.identity import Identity, UserKind, Via
from publisher.auth.sessions import digest
from publisher.auth.signin import AuthError
from publisher.config import AuthSettings
from publisher.errors import NotFound
from publisher.store.engine import read_session, write_session
from publisher.store.tables import StaffToken, StaffUser
from publisher.timeutil import utc_now

PREFIX = "pub_"
_TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class TokenView:
    id: int
    username: str
    label: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def issue_token(
    engine: Engine, auth: AuthSettings, identity: Identity, label: str = "", now: datetime | None = None
) -> str:
    """A new token for a person who has just signed in; the raw token is returned once."""
    now = now or utc_now()
    raw = PREFIX + secrets.token_urlsafe(32)
    with write_session(engine) as session:
        row = StaffToken(
            username=identity.username,
            label=label[:120],
            prefix=raw[: len(PREFIX) + 6],
            token_hash=digest(raw),
            created_at=now,
            expires_at=now + timedelta(days=auth.token_days),
        )
        session.add(row)
        session.flush()
        audit.append(
            session,
            actor=identity.username,
            action="auth.token_issue",
            object_type="token",
            object_id=str(row.id),
            details={"label": row.label, "prefix": row.prefix, "expires_at": row.expires_at.isoformat()},
        )
    return raw


def token_identity(engine: Engine, raw: str, now: datetime | None = None) -> Identity:
    """The person a token stands for, or AuthError saying why it no longer does."""
    now = now or utc_now()
    with read_session(engine) as session:
        found = session.exec(
            select(StaffToken, StaffUser)
            .join(StaffUser, col(StaffUser.username) == col(StaffToken.username))
            .where(StaffToken.token_hash == digest(raw.strip()))
        ).first()
    if found is None:
        raise AuthError("令牌无效 / the token is not known here: 请重新登录 / run `publisher login` again")
    token, user = found
    if token.revoked_at is not None:
        raise AuthError("令牌已撤销 / the token was revoked: 请重新登录 / run `publisher login` again")
    if token.expires_at <= now:
        raise AuthError("令牌已过期 / the token has expired: 请重新登录 / run `publisher login` again")
    if not user.active or user.kind != UserKind.PERSON:
        raise AuthError(f"用户 {user.username} 已停用 / the account is disabled")
    if token.last_used_at is None or now - token.last_used_at >= _TOUCH_EVERY:
        with write_session(engine) as session:
            session.execute(update(StaffToken).where(col(StaffToken.id) == token.id).values(last_used_at=now))
    return Identity.of(user, Via.TOKEN)


def revoke_token(engine: Engine, actor: Identity, token_id: int, now: datetime | None = None) -> TokenView:
    """Revoke one token: its owner may, and so may an admin for anyone's."""
    now = now or utc_now()
    with write_session(engine) as session:
        token = session.get(StaffToken, token_id)
        if token is None or (token.username != actor.username and not actor.has_any("admin")):
            raise NotFound(f"没有这个令牌 / no token {token_id}")
        if token.revoked_at is None:
            token.revoked_at = now
            session.add(token)
            audit.append(
                session,
                actor=actor.username,
                action="auth.token_revoke",
                object_type="token",
                object_id=str(token_id),
                details={"owner": token.username, "prefix": token.prefix},
            )
        return _view(token)


def revoke_raw(engine: Engine, raw: str, now: datetime | None = None) -> None:
    """`publisher logout`: the token revokes itself (its holder proves ownership by holding it)."""
    now = now or utc_now()
    with write_session(engine) as session:
        token = session.exec(select(StaffToken).where(StaffToken.token_hash == digest(raw.strip()))).first()
        if token is None or token.revoked_at is not None:
            return
        token.revoked_at = now
        session.add(token)
        audit.append(
            session,
            actor=token.username,
            action="auth.token_revoke",
            object_type="token",
            object_id=str(token.id),
            details={"owner": token.username, "prefix": token.prefix},
        )


def revoke_user_tokens(session: Session, username: str, *, actor: str, now: datetime | None = None) -> int:
    now = now or utc_now()
    result = session.execute(
        update(StaffToken)
        .where(col(StaffToken.username) == username, col(StaffToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    ended = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if ended:
        audit.append(
            session,
            actor=actor,
            action="auth.tokens_revoked",
            object_type="user",
            object_id=username,
            details={"tokens": ended},
        )
    return int(ended)


def list_tokens(session: Session, username: str | None = None) -> list[TokenView]:
    query = select(StaffToken).order_by(col(StaffToken.created_at).desc())
    if username is not None:
        query = query.where(StaffToken.username == username)
    return [_view(t) for t in session.exec(query)]


def _view(token: StaffToken) -> TokenView:
    assert token.id is not None
    return TokenView(
        token.id,
        token.username,
        token.label,
        token.prefix,
        token.created_at,
        token.expires_at,
        token.last_used_at,
        token.revoked_at,
    )
