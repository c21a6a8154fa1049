"""What the handling staff read: each consultation's counts, a consultation's comments filtered and
paged, group sizes, and the statistics by clause, commenter type and day. Read-only."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, not_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from publisher.consultation.overdue import (
    ANSWER_MONTHS,
    falls_due,
    is_overdue,
    overdue_by_consultation,
    overdue_where,
    valid,
)
from publisher.errors import NotFound
from publisher.store.tables import Consultation, ConsultationComment, ConsultationContact
from publisher.timeutil import local, to_utc

PER_PAGE = 50


class Window(StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {Window.UPCOMING: "未开始", Window.OPEN: "征求中", Window.CLOSED: "已截止"}[self]


def window(consultation: Consultation, now: datetime) -> Window:
    if to_utc(now) < consultation.opens_at:
        return Window.UPCOMING
    return Window.OPEN if to_utc(now) < consultation.closes_at else Window.CLOSED


@dataclass(frozen=True, slots=True)
class Summary:
    consultation: Consultation
    window: Window
    comments: int
    hidden: int
    undisposed: int
    unanswered: int  # valid and not answered yet
    overdue: int


def summaries(session: Session, now: datetime, tz: ZoneInfo, months: int = ANSWER_MONTHS) -> list[Summary]:
    """Every consultation, newest first, with its counts: one grouped query for the counts, and the
    overdue rule asked only of valid unanswered comments old enough to be overdue."""
    consultations = session.exec(select(Consultation).order_by(col(Consultation.opens_at).desc())).all()
    unanswered = and_(valid(), col(ConsultationComment.answered_at).is_(None))
    # Five columns: SQLAlchemy's select (SQLModel's stops at four).
    grouped = session.execute(
        sa_select(
            col(ConsultationComment.slug),
            func.count(),
            func.count(case((not_(valid()), 1))),
            func.count(case((and_(valid(), col(ConsultationComment.disposition).is_(None)), 1))),
            func.count(case((unanswered, 1))),
        ).group_by(col(ConsultationComment.slug))
    ).all()
    tallies = {
        slug: (total, hidden, undisposed, waiting) for slug, total, hidden, undisposed, waiting in grouped
    }
    overdue = overdue_by_consultation(session, now, tz, months)
    return [
        Summary(k, window(k, now), *tallies.get(k.slug, (0, 0, 0, 0)), overdue.get(k.slug, 0))
        for k in consultations
    ]


def get_consultation(session: Session, slug: str) -> Consultation:
    found = session.get(Consultation, slug)
    if found is None:
        raise NotFound(f"找不到征求意见 / no consultation {slug!r}")
    return found


@dataclass(frozen=True, slots=True)
class Filter:
    """The console's filters; None means any. clause "" is the draft as a whole."""

    clause: str | None = None
    commenter_type: str | None = None
    moderation: str | None = None
    disposition: str | None = None  # a Disposition value, or "none" for not yet disposed
    overdue: bool = False
    group_id: int | None = None


@dataclass(frozen=True, slots=True)
class Row:
    comment: ConsultationComment
    group_size: int
    due_at: datetime
    overdue: bool


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Row]
    total: int
    page: int
    pages: int


def group_sizes(session: Session, slug: str) -> dict[int, int]:
    return {
        gid: n
        for gid, n in session.exec(
            select(ConsultationComment.group_id, func.count())
            .where(ConsultationComment.slug == slug, col(ConsultationComment.group_id).is_not(None))
            .group_by(col(ConsultationComment.group_id))
        )
        if gid is not None
    }


def comments(
    session: Session,
    slug: str,
    chosen: Filter,
    now: datetime,
    tz: ZoneInfo,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    months: int = ANSWER_MONTHS,
) -> Page:
    """One page of a consultation's comments, oldest first, narrowed in the database except for
    `overdue`, which is the overdue module's rule applied to the unanswered ones."""
    query = select(ConsultationComment).where(ConsultationComment.slug == slug)
    if chosen.clause is not None:
        query = query.where(
            col(ConsultationComment.clause).is_(None)
            if chosen.clause == ""
            else ConsultationComment.clause == chosen.clause
        )
    if chosen.commenter_type:
        query = query.where(ConsultationComment.commenter_type == chosen.commenter_type)
    if chosen.moderation:
        query = query.where(ConsultationComment.moderation == chosen.moderation)
    if chosen.disposition == "none":
        query = query.where(col(ConsultationComment.disposition).is_(None))
    elif chosen.disposition:
        query = query.where(ConsultationComment.disposition == chosen.disposition)
    if chosen.group_id is not None:
        query = query.where(ConsultationComment.group_id == chosen.group_id)
    query = query.order_by(col(ConsultationComment.received_at), col(ConsultationComment.id))
    sizes = group_sizes(session, slug)
    if chosen.overdue:
        query = query.where(overdue_where(session, now, tz, months, slug))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = max(1, min(page, max(1, -(-total // per_page))))
    chosen_rows = list(session.exec(query.offset((page - 1) * per_page).limit(per_page)))
    rows = [
        Row(
            c,
            sizes.get(c.group_id, 1) if c.group_id is not None else 1,
            falls_due(c.received_at, tz, months),
            is_overdue(c, now, tz, months),
        )
        for c in chosen_rows
    ]
    return Page(rows, total, page, max(1, -(-total // per_page)))


def contacts_of(session: Session, ids: Iterable[int]) -> dict[int, ConsultationContact]:
    """Contacts for the handling staff only: callers check Act.CONSULT before asking."""
    wanted = list(ids)
    if not wanted:
        return {}
    return {
        c.comment_id: c
        for c in session.exec(
            select(ConsultationContact).where(col(ConsultationContact.comment_id).in_(wanted))
        )
    }


@dataclass
class Stats:
    total: int = 0
    groups: int = 0  # distinct near-duplicate groups (a comment alone counts as its own)
    by_clause: Counter[str | None] = field(default_factory=Counter)
    by_type: Counter[str] = field(default_factory=Counter)
    by_day: Counter[date] = field(default_factory=Counter)
    by_disposition: Counter[str | None] = field(default_factory=Counter)
    by_clause_disposition: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)


def stats(session: Session, slug: str, tz: ZoneInfo) -> Stats:
    """Counts of the valid comments (hidden ones are not counted), the day on the local calendar.
    Plain columns, not rows as objects: a big consultation is read in a fraction of the time."""
    result = Stats()
    seen_groups: set[int] = set()
    for clause, commenter_type, received_at, disposition, group_id in session.execute(
        sa_select(
            col(ConsultationComment.clause),
            col(ConsultationComment.commenter_type),
            col(ConsultationComment.received_at),
            col(ConsultationComment.disposition),
            col(ConsultationComment.group_id),
        ).where(
            col(ConsultationComment.slug) == slug,
            valid(),
        )
    ):
        result.total += 1
        if group_id is None or group_id not in seen_groups:
            result.groups += 1
            if group_id is not None:
                seen_groups.add(group_id)
        result.by_clause[clause] += 1
        result.by_type[commenter_type] += 1
        result.by_day[local(received_at, tz).date()] += 1
        result.by_disposition[disposition] += 1
        result.by_clause_disposition[(clause, disposition)] += 1
    return result
