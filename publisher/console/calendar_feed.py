"""A person's calendar subscription: an iCalendar URL that works without a session (a calendar
app cannot sign in), so the token in the URL is the credential. It is stored as its sha256, shown
once, revocable from the calendar page, and only ever reads the plan."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from publisher import audit
from publisher.auth.sessions import digest
from publisher.errors import NotFound
from publisher.newsroom import Newsroom
from publisher.schedule import load_schedules
from publisher.schedule.plan import plan_states, to_ics
from publisher.store.engine import read_session, write_session
from publisher.store.tables import CalendarFeed, StaffUser
from publisher.timeutil import utc_now

PREFIX = "cal_"
# What a subscription shows: the recent past (what went out) and the months being planned.
BEFORE = timedelta(days=14)
AHEAD = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class FeedView:
    id: int
    prefix: str
    created_at: datetime


def issue_feed(engine: Engine, username: str, now: datetime | None = None) -> str:
    """A new subscription token for `username`; the raw token is returned once."""
    now = now or utc_now()
    raw = PREFIX + secrets.token_urlsafe(24)
    with write_session(engine) as session:
        row = CalendarFeed(
            username=username, token_hash=digest(raw), prefix=raw[: len(PREFIX) + 6], created_at=now
        )
        session.add(row)
        session.flush()
        audit.append(
            session,
            actor=username,
            action="calendar.feed_issue",
            object_type="calendar_feed",
            object_id=str(row.id),
            details={"prefix": row.prefix},
        )
    return raw


def revoke_feed(engine: Engine, username: str, feed_id: int, now: datetime | None = None) -> None:
    """Revoke one of `username`'s own subscriptions (another person's is not found)."""
    now = now or utc_now()
    with write_session(engine) as session:
        row = session.get(CalendarFeed, feed_id)
        if row is None or row.username != username or row.revoked_at is not None:
            raise NotFound(f"没有这个日历订阅 / no live calendar subscription #{feed_id}")
        row.revoked_at = now
        session.add(row)
        audit.append(
            session,
            actor=username,
            action="calendar.feed_revoke",
            object_type="calendar_feed",
            object_id=str(feed_id),
        )


def feeds_of(engine: Engine, username: str) -> list[FeedView]:
    with read_session(engine) as session:
        rows = session.exec(
            select(CalendarFeed)
            .where(CalendarFeed.username == username, col(CalendarFeed.revoked_at).is_(None))
            .order_by(col(CalendarFeed.id))
        ).all()
    return [FeedView(r.id, r.prefix, r.created_at) for r in rows if r.id is not None]


def feed_owner(engine: Engine, raw: str) -> str | None:
    """The active person a live token belongs to, or None (unknown, revoked, or the person disabled)."""
    if not raw.startswith(PREFIX):
        return None
    with read_session(engine) as session:
        found = session.exec(
            select(CalendarFeed.username)
            .join(StaffUser, col(StaffUser.username) == col(CalendarFeed.username))
            .where(
                CalendarFeed.token_hash == digest(raw),
                col(CalendarFeed.revoked_at).is_(None),
                col(StaffUser.active).is_(True),
            )
        ).first()
    return found


def feed_ics(room: Newsroom, now: datetime | None = None) -> bytes:
    """The newsroom's plan around now, as the `plan --ics` export writes it."""
    now = now or utc_now()
    schedules = load_schedules(room)
    slots = [
        s for key in sorted(schedules.campaigns) for s in schedules.slots(key, now - BEFORE, now + AHEAD)
    ]
    name = room.settings.newsroom.full_name or room.settings.newsroom.name
    return to_ics(plan_states(room, slots), schedules, name, now)
