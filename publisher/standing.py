"""Where each article stands, as staff ask it (`publisher articles`, the console): draft, in
review at a stage, approved, scheduled, live with revision N, correction pending, retracted.

A read model over the review chain and the engine's deliveries, so it sits with the faces: the
foundation's `articles` module only reads articles and revisions.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeAlias

from sqlalchemy import ColumnElement, bindparam, case, exists, func
from sqlalchemy import select as sql_select

from publisher.delivery.states import PLANNED, DeliveryAction, DeliveryState
from publisher.review.plan import plan_from_json
from publisher.store.batch import in_chunks
from publisher.store.listings import Reader, article, delivery, retraction, review_state, revision
from publisher.store.retractions import in_force_ids

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlmodel.sql.expression import SelectOfScalar


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


Scope: TypeAlias = "SelectOfScalar[int] | Select[int | None]"  # a subquery of article ids


def standings(reader: Reader, article_ids: Collection[int]) -> dict[int, Standing]:
    """The state of each article (by article id), in three queries per 500 articles."""
    out: dict[int, Standing] = {}
    for chunk in in_chunks(article_ids):
        out.update(standings_in(reader, chunk))
    return out


def _among(column: ColumnElement[int], scope: Collection[int] | Scope) -> ColumnElement[bool]:
    """`column IN scope`; ids are written into the statement (integers, safe to inline), so a long
    list meets no limit on bound parameters and the database reads them as constants."""
    if isinstance(scope, Collection):
        return column.in_(bindparam("scope_ids", sorted(scope), expanding=True, literal_execute=True))
    return column.in_(scope)


def standings_in(reader: Reader, scope: Collection[int] | Scope) -> dict[int, Standing]:
    """The state of every article in `scope` (ids, or a subquery of ids such as a filtered list's):
    three queries whatever their number; the deliveries are aggregated by the database.

    Read through the Core clauses of store/listings.py, so `publisher articles` asks it on a plain
    connection without the ORM; a subquery scope is whole in itself, so one over the real tables
    (the console's filtered list) is used all the same."""
    # First per (article, revision) over the deliveries alone, then the few pairs joined to their
    # revisions: a revision row (with its body) is read once per pair, not once per delivery.
    d, a, r, rs = delivery.c, article.c, revision.c, review_state.c
    done = case((d.status == DeliveryState.DONE, 1), else_=0)
    planned = case((d.status.in_(PLANNED), 1), else_=0)
    pairs = (
        sql_select(
            d.article_id.label("article_id"),
            d.revision_id.label("revision_id"),
            func.max(done).label("done"),
            func.max(planned).label("planned"),
        )
        .where(_among(d.article_id, scope), d.action == DeliveryAction.PUBLISH)
        .group_by(d.article_id, d.revision_id)
        .subquery()
    )
    sent_done = pairs.c.done == 1
    shipped: dict[int, tuple[int | None, bool, bool]] = {
        article_id: (live, bool(sent), bool(plan))
        for article_id, live, sent, plan in reader.execute(
            sql_select(
                pairs.c.article_id,
                func.max(case((sent_done, r.number))),
                func.max(case((sent_done & (pairs.c.revision_id == a.current_revision_id), 1), else_=0)),
                func.max(pairs.c.planned),
            )
            .join(article, a.id == pairs.c.article_id)
            .join(revision, r.id == pairs.c.revision_id, isouter=True)
            .group_by(pairs.c.article_id)
        )
    }
    in_force = in_force_ids()
    if isinstance(scope, Collection):
        in_force = in_force.where(_among(retraction.c.article_id, scope))
    # For a subquery scope every retraction in force is read (a newsroom has few): cheaper than
    # having the database work out the scope once more; only the scope's ids are looked up below.
    retracted = set(reader.execute(in_force).scalars())
    out: dict[int, Standing] = {}
    plans: dict[str, list[str]] = {}  # plan_json -> stage names: most articles share a few plans
    for article_id, number, review, stage_index, plan_json in reader.execute(
        sql_select(a.id, r.number, rs.status, rs.stage_index, rs.plan_json)
        .join(revision, r.id == a.current_revision_id)
        .join(review_state, rs.revision_id == a.current_revision_id, isouter=True)
        .where(_among(a.id, scope))
    ):
        stage = None
        if review == "in_review":
            if plan_json not in plans:
                plans[plan_json] = [s.name for s in plan_from_json(plan_json)]
            stage = plans[plan_json][stage_index]
        live, sent, plan = shipped.get(article_id, (None, False, False))
        out[article_id] = classify(number, review, stage, live, sent, plan, article_id in retracted)
    return out


def could_be(state: ArticleState, dialect: str) -> ColumnElement[bool]:
    """A condition on `Article` that every article `classify` puts in `state` meets, for a database
    to narrow a list before the standings are computed; `classify` still decides (the condition may
    let through articles of a neighbouring state, as SCHEDULED for APPROVED). `dialect` (the
    session's) picks the shape each planner does well with; the condition is the same."""
    # The real tables, not the listings' clauses: the condition joins the caller's ORM query.
    from sqlmodel import col

    from publisher.store.tables import Article, Delivery, ReviewState

    retracted = col(Article.id).in_(in_force_ids())
    # A release made of a revision: what gives an article a live number (`live` in `classify`).
    done = (
        col(Delivery.action) == DeliveryAction.PUBLISH,
        col(Delivery.status) == DeliveryState.DONE,
        col(Delivery.revision_id).is_not(None),
    )
    released: ColumnElement[bool]
    if dialect == "postgresql":
        # An IN: negated it stays a hashed list, where a NOT EXISTS became an anti-join that,
        # without statistics, rescanned the releases once per article.
        released = col(Article.id).in_(sql_select(col(Delivery.article_id)).where(*done))
    else:
        # SQLite looks each article up in the (article, action, revision, state) index.
        released = exists().where(col(Delivery.article_id) == col(Article.id), *done)

    def review_exists(*statuses: str) -> ColumnElement[bool]:
        return exists().where(
            col(ReviewState.revision_id) == col(Article.current_revision_id),
            col(ReviewState.status).in_(statuses),
        )

    def review_is(*statuses: str) -> ColumnElement[bool]:
        # The IN walks the review states by their status index (a few thousand open ones), the
        # EXISTS keeps the current revision's: without the first, every article is looked up.
        return col(Article.id).in_(
            sql_select(col(ReviewState.article_id)).where(col(ReviewState.status).in_(statuses))
        ) & review_exists(*statuses)

    match state:
        case ArticleState.RETRACTED:
            return retracted
        case ArticleState.LIVE | ArticleState.CORRECTION_PENDING:
            return ~retracted & released
        case ArticleState.APPROVED | ArticleState.SCHEDULED:
            # Most approved articles went out since: without ~released, all of them are classified.
            return review_is("approved") & ~released & ~retracted
        case ArticleState.IN_REVIEW:
            # Open reviews narrow enough; the few of released articles (corrections) go to classify.
            return review_is("in_review") & ~retracted
        case ArticleState.DRAFT:
            # NOT EXISTS alone: a planner turns it into an anti-join (a negated IN it may not)
            return ~retracted & ~released & ~review_exists("in_review", "approved")


def classify(
    number: int,
    review: str | None,
    stage: str | None,
    live: int | None,
    current_sent: bool,
    planned: bool,
    retracted: bool,
) -> Standing:
    """Where an article stands, from the facts: its current revision's number, review status and
    waiting stage, the newest revision a channel released, whether the current one was released,
    whether a release is planned, whether a retraction is in force."""
    if retracted:
        kind = ArticleState.RETRACTED
    elif live is not None:
        kind = ArticleState.LIVE if current_sent else ArticleState.CORRECTION_PENDING
    elif review == "approved":
        kind = ArticleState.SCHEDULED if planned else ArticleState.APPROVED
    elif review == "in_review":
        kind = ArticleState.IN_REVIEW
    else:
        kind = ArticleState.DRAFT
    return Standing(kind, number, review, stage, live)
