"""Where each article stands, as staff ask it (`publisher articles`, the console): draft, in
review at a stage, approved, scheduled, live with revision N, correction pending, retracted.

A read model over the review chain and the engine's deliveries, so it sits with the faces: the
foundation's `articles` module only reads articles and revisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from publisher.articles import ArticleView
from publisher.delivery.states import DeliveryAction, DeliveryState
from publisher.engine.release import PENDING as _PLANNED
from publisher.review.workflow import plan_from_json
from publisher.store.batch import in_chunks
from publisher.store.retractions import retracted_among
from publisher.store.tables import Delivery, ReviewState, Revision


class ArticleState(StrEnum):
    """Where an article stands, as staff ask it: one of these, from the store alone."""

    DRAFT = "draft"  # its current revision was never submitted (or was rejected or withdrawn)
    IN_REVIEW = "in_review"
    APPROVED = "approved"  # approved, no release planned or made
    SCHEDULED = "scheduled"  # approved, a release planned
    LIVE = "live"  # a channel released its current revision
    CORRECTION_PENDING = "correction_pending"  # released revision N is live, a newer one is not yet
    RETRACTED = "retracted"


_LABELS = {
    ArticleState.DRAFT: ("草稿", "draft"),
    ArticleState.IN_REVIEW: ("审核中", "in review"),
    ArticleState.APPROVED: ("已通过", "approved"),
    ArticleState.SCHEDULED: ("已排期", "scheduled"),
    ArticleState.LIVE: ("已发布", "live"),
    ArticleState.CORRECTION_PENDING: ("更正待发", "correction pending"),
    ArticleState.RETRACTED: ("已撤稿", "retracted"),
}
_REVIEW = {"approved": ("已通过待发布", "approved, not released yet"), "rejected": ("被退回", "rejected")}


@dataclass(frozen=True, slots=True)
class Standing:
    state: ArticleState
    current_number: int
    review: str | None = None  # the current revision's review status (None: never submitted)
    stage: str | None = None  # the stage its review waits at
    live_number: int | None = None  # the newest revision a channel released

    def label(self) -> str:
        """One line for a table, in both languages."""
        zh, en = _LABELS[self.state]
        if self.state is ArticleState.IN_REVIEW and self.stage:
            zh, en = f"{zh}（{self.stage}）", f"{en} at stage {self.stage}"
        elif self.state is ArticleState.LIVE:
            zh, en = f"{zh}：第 {self.current_number} 版", f"{en} with revision {self.current_number}"
        elif self.state is ArticleState.CORRECTION_PENDING:
            if self.stage:
                where_zh, where_en = f"在「{self.stage}」审核中", f"in review at {self.stage}"
            else:
                where_zh, where_en = _REVIEW.get(self.review or "", ("未送审", "not submitted"))
            zh = f"{zh}：第 {self.live_number} 版在线，第 {self.current_number} 版{where_zh}"
            en = f"{en}: live {self.live_number}, {self.current_number} {where_en}"
        return f"{zh} / {en}"


def standings(session: Session, views: Sequence[ArticleView]) -> dict[int, Standing]:
    """The state of each article (by article id), in three queries whatever their number."""
    ids = {v.article.id for v in views if v.article.id is not None}
    states: dict[str, ReviewState] = {}
    retracted = retracted_among(session, ids)
    released: dict[int, int] = {}  # article -> newest revision number a channel released
    sent: set[str] = set()  # revision ids a channel released
    planned: set[int] = set()
    for chunk in in_chunks(ids):
        for row in session.exec(select(ReviewState).where(col(ReviewState.article_id).in_(chunk))):
            states[row.revision_id] = row
        for article_id, status, revision_id, number in session.exec(
            select(Delivery.article_id, Delivery.status, Delivery.revision_id, Revision.number)
            .join(Revision, col(Revision.id) == col(Delivery.revision_id), isouter=True)
            .where(col(Delivery.article_id).in_(chunk), Delivery.action == DeliveryAction.PUBLISH)
        ):
            if status == DeliveryState.DONE and revision_id is not None and number is not None:
                released[article_id] = max(number, released.get(article_id, 0))
                sent.add(revision_id)
            elif status in _PLANNED:
                planned.add(article_id)
    out: dict[int, Standing] = {}
    for v in views:
        assert v.article.id is not None
        article_id, number = v.article.id, v.revision.number
        review_state = states.get(v.revision.id)
        review = review_state.status if review_state is not None else None
        stage = None
        if review_state is not None and review_state.status == "in_review":
            stage = plan_from_json(review_state.plan_json)[review_state.stage_index].name
        live = released.get(article_id)
        if article_id in retracted:
            kind = ArticleState.RETRACTED
        elif live is not None:
            kind = ArticleState.LIVE if v.revision.id in sent else ArticleState.CORRECTION_PENDING
        elif review == "approved":
            kind = ArticleState.SCHEDULED if article_id in planned else ArticleState.APPROVED
        elif review == "in_review":
            kind = ArticleState.IN_REVIEW
        else:
            kind = ArticleState.DRAFT
        out[article_id] = Standing(kind, number, review, stage, live)
    return out
