"""The 3-month rule (留言办理超过 3 个月未答复 is a single veto in the national checklist): when a
comment falls due, and whether it is overdue. The console's markers and the inspection's finding
both ask this module, so the rule cannot drift between them."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

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
    """A bound for the database: every overdue comment was received before it (no run of `months`
    calendar months is shorter than 28 days each), so a query may narrow to these and then ask
    `is_overdue` of each; it never leaves an overdue comment out."""
    return to_utc(now) - timedelta(days=28 * months)


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
