"""The 3-month rule (留言办理超过 3 个月未答复 is a single veto in the national checklist): when a
comment falls due, and whether it is overdue. The console's markers and the inspection's finding
both ask this module, so the rule cannot drift between them."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from publisher.consultation.states import Moderation
from publisher.store.tables import ConsultationComment
from publisher.timeutil import local, to_utc

ANSWER_MONTHS = 3


def falls_due(received_at: datetime, tz: ZoneInfo, months: int = ANSWER_MONTHS) -> datetime:
    """Calendar months on the newsroom's local calendar: received 30 November, due 28 (or 29)
    February at the same local time; a later moment without an answer is overdue."""
    here = local(received_at, tz)
    total = here.month - 1 + months
    year, month = here.year + total // 12, total % 12 + 1
    day = min(here.day, calendar.monthrange(year, month)[1])
    return to_utc(here.replace(year=year, month=month, day=day))


def received_before_bound(now: datetime, months: int = ANSWER_MONTHS) -> datetime:
    """Every overdue comment was received before this (no calendar month is shorter than 28
    days), so a query may narrow to these and ask `falls_due` of each: nothing is left out."""
    return to_utc(now) - timedelta(days=28 * months)


def surely_overdue_before(now: datetime, months: int = ANSWER_MONTHS) -> datetime:
    """A valid unanswered comment received before this is overdue whatever the calendar (no month
    is longer than 31 days): the database counts these alone, only the few days between the two
    bounds are asked of `falls_due` one by one."""
    return to_utc(now) - timedelta(days=31 * months)


def valid() -> ColumnElement[bool]:
    """`counts` as a condition for the database: not hidden as spam or abuse."""
    return col(ConsultationComment.moderation) != Moderation.HIDDEN.value


def _waiting(slug: str | None) -> ColumnElement[bool]:
    """Valid and unanswered, optionally of one consultation."""
    where = and_(col(ConsultationComment.answered_at).is_(None), valid())
    return where if slug is None else and_(where, col(ConsultationComment.slug) == slug)


def overdue_where(
    session: Session, now: datetime, tz: ZoneInfo, months: int = ANSWER_MONTHS, slug: str | None = None
) -> ColumnElement[bool]:
    """A condition selecting exactly the overdue comments: the surely overdue by date, and those
    between the bounds that `falls_due` says are overdue, by id."""
    surely, maybe = surely_overdue_before(now, months), received_before_bound(now, months)
    band = session.exec(
        select(ConsultationComment.id, ConsultationComment.received_at).where(
            _waiting(slug),
            col(ConsultationComment.received_at) >= surely,
            col(ConsultationComment.received_at) < maybe,
        )
    ).all()
    ids = [i for i, received in band if i is not None and to_utc(now) > falls_due(received, tz, months)]
    late = col(ConsultationComment.received_at) < surely
    return and_(_waiting(slug), or_(late, col(ConsultationComment.id).in_(ids)) if ids else late)


def overdue_by_consultation(
    session: Session, now: datetime, tz: ZoneInfo, months: int = ANSWER_MONTHS
) -> dict[str, int]:
    """How many comments of each consultation are overdue (consultations with none are absent)."""
    where = overdue_where(session, now, tz, months)
    return {
        slug: n
        for slug, n in session.exec(
            select(ConsultationComment.slug, func.count())
            .where(where)
            .group_by(col(ConsultationComment.slug))
        )
    }


def counts(comment: ConsultationComment) -> bool:
    """Only valid comments are owed an answer: one hidden as spam or abuse is not."""
    return comment.moderation != Moderation.HIDDEN.value


def is_overdue(
    comment: ConsultationComment, now: datetime, tz: ZoneInfo, months: int = ANSWER_MONTHS
) -> bool:
    """Valid, unanswered, and its due moment has passed."""
    return (
        comment.answered_at is None
        and counts(comment)
        and to_utc(now) > falls_due(comment.received_at, tz, months)
    )
