"""Who hears of a review act: the people who may sign the stage that now waits (`queries.eligible`,
which asks `refusal_to_act`, the one rule), and the authors when their piece is sent back or
approved. Called inside the act's transaction, after the act is recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from publisher.config import NotifySettings
from publisher.notify import Announcement, NoticeKind, announce
from publisher.review.queries import eligible
from publisher.review.users import bylines_of, resolve_bylines
from publisher.review.workflow import PlannedStage
from publisher.store.tables import Revision, StaffUser


def _staff(session: Session) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).where(col(StaffUser.active).is_(True))))


def _link(slug: str) -> str:
    return f"/articles/{slug}"


def _authors(session: Session, meta: dict[str, Any], fallback: str) -> tuple[str, ...]:
    """The authors' usernames; the submitter when no byline names a known person, so someone hears."""
    found = resolve_bylines(bylines_of(meta), _staff(session)).usernames
    return tuple(sorted(found)) or (fallback,)


def stage_waiting(
    session: Session,
    settings: NotifySettings,
    slug: str,
    revision: Revision,
    stage: PlannedStage,
    cycle: int,
    now: datetime,
) -> None:
    session.flush()  # the act just recorded counts: its signer may not sign the next stage too
    signers = tuple(u.username for u in eligible(session, slug))
    announce(
        session,
        settings,
        Announcement(
            kind=NoticeKind.REVIEW_WAITING,
            recipients=signers,
            title=f"待审：《{revision.title}》等待{stage.name}",
            body=f"稿件《{revision.title}》（第 {revision.number} 版）已到「{stage.name}」环节，请审核。",
            ref=f"review:{revision.id}:{cycle}:{stage.key}",
            link=_link(slug),
        ),
        now,
    )


def rejected(
    session: Session,
    settings: NotifySettings,
    slug: str,
    revision: Revision,
    meta: dict[str, Any],
    cycle: int,
    stage: PlannedStage,
    by: StaffUser,
    comment: str,
    submitted_by: str,
    now: datetime,
) -> None:
    announce(
        session,
        settings,
        Announcement(
            kind=NoticeKind.REJECTED,
            recipients=_authors(session, meta, submitted_by),
            title=f"退回：《{revision.title}》在{stage.name}被退回",
            body=f"{by.display_name}在「{stage.name}」环节退回了《{revision.title}》（第 {revision.number} 版）。\n"
            f"意见：{comment}",
            ref=f"rejected:{revision.id}:{cycle}",
            link=_link(slug),
        ),
        now,
    )


def approved(
    session: Session,
    settings: NotifySettings,
    slug: str,
    revision: Revision,
    meta: dict[str, Any],
    cycle: int,
    submitted_by: str,
    now: datetime,
) -> None:
    announce(
        session,
        settings,
        Announcement(
            kind=NoticeKind.APPROVED,
            recipients=_authors(session, meta, submitted_by),
            title=f"通过：《{revision.title}》审核通过",
            body=f"《{revision.title}》（第 {revision.number} 版）已通过全部审核环节，可以安排发布。",
            ref=f"approved:{revision.id}:{cycle}",
            link=_link(slug),
        ),
        now,
    )
