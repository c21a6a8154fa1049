"""留言办理: a consultation with valid comments (not hidden as spam) unanswered for longer than the
checklist allows is a single-veto finding, one per consultation. When a comment falls due is
`consultation.overdue`'s rule; this module only counts and reports."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from publisher.consultation.overdue import is_overdue, received_before_bound
from publisher.consultation.states import Moderation
from publisher.inspection.findings import Finding
from publisher.inspection.settings import InspectionSettings
from publisher.store.tables import ConsultationComment


def inspect_consultations(
    session: Session, settings: InspectionSettings, now: datetime, tz: ZoneInfo
) -> list[Finding]:
    months = settings.consultation.answer_months
    waiting = session.exec(
        select(ConsultationComment).where(
            col(ConsultationComment.answered_at).is_(None),
            ConsultationComment.moderation != Moderation.HIDDEN.value,
            ConsultationComment.received_at < received_before_bound(now, months),
        )
    ).all()
    overdue = Counter(c.slug for c in waiting if is_overdue(c, now, tz, months))
    # The location names the consultation and the evidence stays empty, so the finding keeps its
    # key from run to run while the count in the message changes (an accepted finding stays so).
    return [
        Finding(
            "consultation.overdue",
            f"consultation:{slug}",
            f"征求意见「{slug}」有 {count} 条有效意见超过 {months} 个月未答复 / {count} valid comments "
            f"unanswered for more than {months} months",
        )
        for slug, count in sorted(overdue.items())
    ]
