"""Who hears of a review act: the people who may sign the stage that now waits (`queries.eligible`,
which asks `refusal_to_act`, the one rule), and the authors when their piece is sent back or
approved. Called inside the act's transaction, after the act is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from publisher.config import NotifySettings
from publisher.notify import Announcement, NoticeKind, announce
from publisher.review.plan import PlannedStage
from publisher.review.queries import eligible
from publisher.review.users import bylines_of, resolve_bylines
from publisher.store.tables import Revision, StaffUser


@dataclass(frozen=True, slots=True)
class Acted:
    """The revision an act was made on, in the cycle it belongs to."""

    slug: str
    revision: Revision
    meta: dict[str, Any]
    cycle: int
    submitted_by: str

    @property
    def link(self) -> str:
        return f"/articles/{self.slug}"

    @property
    def label(self) -> str:
        return f"《{self.revision.title}》（第 {self.revision.number} 版）"

    def ref(self, event: str, *more: str) -> str:
        return ":".join([event, self.revision.id, str(self.cycle), *more])


def _authors(session: Session, acted: Acted) -> tuple[str, ...]:
    """The authors' usernames; the submitter when no byline names a known person, so someone hears."""
    staff = session.exec(select(StaffUser).where(col(StaffUser.active).is_(True)))
    found = resolve_bylines(bylines_of(acted.meta), staff).usernames
    return tuple(sorted(found)) or (acted.submitted_by,)


def stage_waiting(
    session: Session, settings: NotifySettings, acted: Acted, stage: PlannedStage, now: datetime
) -> list[StaffUser]:
    """Tell who may sign `stage` that it waits for them; returns them, in username order."""
    session.flush()  # the act just recorded counts: its signer may not sign the next stage too
    people = eligible(session, acted.slug)
    news = Announcement(
        kind=NoticeKind.REVIEW_WAITING,
        recipients=tuple(u.username for u in people),
        title=f"待审：《{acted.revision.title}》等待{stage.name}",
        body=f"稿件{acted.label}已到「{stage.name}」环节，请审核。",
        ref=acted.ref("review", stage.key),
        link=acted.link,
    )
    announce(session, settings, news, now)
    return people


def rejected(
    session: Session,
    settings: NotifySettings,
    acted: Acted,
    stage: PlannedStage,
    by: StaffUser,
    comment: str,
    now: datetime,
) -> None:
    news = Announcement(
        kind=NoticeKind.REJECTED,
        recipients=_authors(session, acted),
        title=f"退回：《{acted.revision.title}》在{stage.name}被退回",
        body=f"{by.display_name}在「{stage.name}」环节退回了{acted.label}。\n意见：{comment}",
        ref=acted.ref("rejected"),
        link=acted.link,
    )
    announce(session, settings, news, now)


def approved(session: Session, settings: NotifySettings, acted: Acted, now: datetime) -> None:
    news = Announcement(
        kind=NoticeKind.APPROVED,
        recipients=_authors(session, acted),
        title=f"通过：《{acted.revision.title}》审核通过",
        body=f"{acted.label}已通过全部审核环节，可以安排发布。",
        ref=acted.ref("approved"),
        link=acted.link,
    )
    announce(session, settings, news, now)
