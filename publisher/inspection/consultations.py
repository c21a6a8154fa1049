"""留言办理: a consultation with valid comments (not hidden as spam) unanswered for longer than the
checklist allows is a single-veto finding, one per consultation. When a comment falls due is
`consultation.overdue`'s rule; this module only counts and reports."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from publisher.consultation.overdue import overdue_by_consultation
from publisher.inspection.findings import Finding
from publisher.inspection.settings import InspectionSettings


def inspect_consultations(
    session: Session, settings: InspectionSettings, now: datetime, tz: ZoneInfo
) -> list[Finding]:
    months = settings.consultation.answer_months
    overdue = overdue_by_consultation(session, now, tz, months)
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
