"""Shareable preview links: a read-only capability to see the previews of one exact revision,
for a person without an account (a leader's secretary, the partner's editor). The raw token is in
the link and shown once; the store keeps its sha256. A link expires, its maker or an admin can
revoke it, and making or revoking one is an audit event."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from publisher import audit
from publisher.auth.identity import Identity
from publisher.auth.sessions import digest
from publisher.auth.signin import AuthError
from publisher.errors import NotFound, PublisherError
from publisher.store.engine import read_session, write_session
from publisher.store.tables import Article, PreviewShare, Revision
from publisher.timeutil import utc_now

MAX_HOURS = 24 * 7  # a week: long enough to show a draft around, short enough to be forgotten safely
DEFAULT_HOURS = 24


@dataclass(frozen=True, slots=True)
class ShareView:
    id: int
    slug: str
    revision_id: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


def _view(row: PreviewShare) -> ShareView:
    assert row.id is not None
    return ShareView(
        row.id, row.slug, row.revision_id, row.created_by, row.created_at, row.expires_at, row.revoked_at
    )


def share_preview(
    engine: Engine, actor: Identity, slug: str, revision_id: str, hours: int, now: datetime | None = None
) -> str:
    """A new link to `revision_id` of `slug` for `hours`; returns the raw token (shown once)."""
    if not 1 <= hours <= MAX_HOURS:
        raise PublisherError(
            f"有效期须在 1 到 {MAX_HOURS} 小时之间 / hours: a link lasts 1 to {MAX_HOURS} hours, not {hours}"
        )
    now = now or utc_now()
    raw = secrets.token_urlsafe(32)
    with write_session(engine) as session:
        revision = _revision_of(session, slug, revision_id)
        row = PreviewShare(
            token_hash=digest(raw),
            slug=slug,
            revision_id=revision.id,
            created_by=actor.username,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
        session.add(row)
        session.flush()
        audit.append(
            session,
            actor=actor.username,
            action="preview.share",
            object_type="article",
            object_id=slug,
            revision_id=revision.id,
            details={"share": row.id, "expires_at": row.expires_at.isoformat()},
        )
    return raw


def _revision_of(session: Session, slug: str, revision_id: str) -> Revision:
    revision = session.exec(
        select(Revision)
        .join(Article, col(Article.id) == col(Revision.article_id))
        .where(Article.slug == slug, Revision.id == revision_id)
    ).first()
    if revision is None:
        raise NotFound(f"稿件 {slug} 没有版本 {revision_id[:12]} / no such revision of {slug}")
    return revision


def shared(engine: Engine, raw: str, now: datetime | None = None) -> ShareView:
    """The share a link's token names, while it is live; otherwise NotFound saying why not."""
    now = now or utc_now()
    with read_session(engine) as session:
        row = session.exec(select(PreviewShare).where(PreviewShare.token_hash == digest(raw))).first()
    if row is None:
        raise NotFound("预览链接无效 / this preview link is not valid")
    if row.revoked_at is not None:
        raise NotFound("预览链接已被撤销 / this preview link was revoked")
    if now >= row.expires_at:
        raise NotFound("预览链接已过期 / this preview link has expired")
    return _view(row)


def shares_of(session: Session, slug: str) -> list[ShareView]:
    """The article's links, newest first."""
    rows = session.exec(
        select(PreviewShare).where(PreviewShare.slug == slug).order_by(col(PreviewShare.id).desc())
    )
    return [_view(r) for r in rows]


def revoke_share(engine: Engine, actor: Identity, share_id: int, now: datetime | None = None) -> ShareView:
    """Its maker or an admin ends a link at once."""
    now = now or utc_now()
    with write_session(engine) as session:
        row = session.get(PreviewShare, share_id, with_for_update=True)
        if row is None:
            raise NotFound(f"没有这个预览链接 / no preview link {share_id}")
        if row.created_by != actor.username and not actor.has_any("admin"):
            raise AuthError(
                f"只有创建者或管理员可以撤销预览链接 / only its maker or an admin may revoke link {share_id}"
            )
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by = now, actor.username
            session.add(row)
            audit.append(
                session,
                actor=actor.username,
                action="preview.revoke",
                object_type="article",
                object_id=row.slug,
                revision_id=row.revision_id,
                details={"share": share_id},
            )
        return _view(row)
