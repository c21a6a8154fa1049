"""What the console reads: a person's notices, how many are unread, and marking them read.

Every function takes the username of the person asking and touches only that person's notices:
an id of someone else's notice is refused as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from publisher.errors import NotFound
from publisher.notify.model import NoticeKind, NoticeView
from publisher.store.tables import Notice
from publisher.timeutil import utc_now


def _view(notice: Notice) -> NoticeView:
    assert notice.id is not None
    return NoticeView(
        id=notice.id,
        kind=NoticeKind(notice.kind),
        title=notice.title,
        body=notice.body,
        link=notice.link,
        created_at=notice.created_at,
        read_at=notice.read_at,
    )


def notices_for(
    session: Session, username: str, *, unread_only: bool = False, limit: int = 50
) -> list[NoticeView]:
    """The person's notices, newest first."""
    query = select(Notice).where(Notice.username == username)
    if unread_only:
        query = query.where(col(Notice.read_at).is_(None))
    query = query.order_by(col(Notice.created_at).desc(), col(Notice.id).desc()).limit(limit)
    return [_view(n) for n in session.exec(query)]


def unread_count(session: Session, username: str) -> int:
    count = session.exec(
        select(func.count())
        .select_from(Notice)
        .where(Notice.username == username, col(Notice.read_at).is_(None))
    ).one()
    return int(count)


def mark_read(
    session: Session, username: str, ids: Collection[int] | None, now: datetime | None = None
) -> int:
    """Mark the person's notices `ids` read (None: all of them); returns how many were unread.
    An id that is not one of this person's notices refuses the whole call, changing nothing."""
    query = update(Notice).where(col(Notice.username) == username, col(Notice.read_at).is_(None))
    if ids is not None:
        wanted = set(ids)
        own = set(
            session.exec(select(Notice.id).where(col(Notice.id).in_(wanted), Notice.username == username))
        )
        if wanted - own:
            raise NotFound(f"没有这些通知 / no such notices for {username}: {sorted(wanted - own)}")
        query = query.where(col(Notice.id).in_(wanted))
    result = session.execute(query.values(read_at=now or utc_now()))
    return int(result.rowcount)  # type: ignore[attr-defined]
