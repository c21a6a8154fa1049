"""撤稿: taking an article down everywhere, as deliveries the engine performs.

Retracting records the `Retraction` (audited; from that moment the publication gate refuses the
article on every channel), cancels its releases not yet made, and enqueues one takedown delivery
per channel that holds the article. The engine performs takedowns like releases, with the same
leases, retries and reconciliation, so a channel that cannot be reached now (WeChat's API down)
is taken down by a later `publisher run`, and nothing is forgotten. What a takedown does is each
kind's own business behind the contract (`Performer.take_down`): the website and its feeds are
rebuilt with what was released, less this article (so a retraction never publishes anything
else); WeChat deletes the post's article; a partner gets the kill notice and a tombstone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from publisher import audit
from publisher.delivery.kinds import channel_kind
from publisher.delivery.states import DeliveryAction, DeliveryState, Step
from publisher.engine import scheduling
from publisher.errors import NotFound, PublisherError
from publisher.newsroom import Newsroom
from publisher.review.service import WITHDRAW_ROLES
from publisher.review.users import get_user, roles_of
from publisher.store.engine import read_session, write_session
from publisher.store.retractions import in_force
from publisher.store.tables import (
    Article,
    Delivery,
    Reinstatement,
    Retraction,
    ReviewAct,
    ReviewState,
    Revision,
    Supply,
)
from publisher.timeutil import to_utc, utc_now

log = logging.getLogger("publisher.retraction")

# A release in these states may have reached the channel (or is about to): the channel holds it.
MAY_HOLD = (DeliveryState.DONE, DeliveryState.CLAIMED, DeliveryState.UNKNOWN)


class RetractionError(PublisherError):
    pass


@dataclass(frozen=True, slots=True)
class ChannelProgress:
    """Where one channel's takedown stands."""

    channel: str
    state: str  # done | pending (the engine will try again) | failed (a person must act)
    delivery_id: int
    detail: str | None = None  # the last error, in both languages
    next_attempt_at: datetime | None = None


@dataclass
class RetractReport:
    slug: str
    reason: str
    already: bool  # retracted before: the takedowns were only checked (and failed ones re-armed)
    canceled: int  # releases not yet made, on any channel
    channels: list[ChannelProgress] = field(default_factory=list)

    @property
    def pending(self) -> list[ChannelProgress]:
        return [c for c in self.channels if c.state == "pending"]

    @property
    def failed(self) -> list[ChannelProgress]:
        return [c for c in self.channels if c.state == "failed"]

    @property
    def complete(self) -> bool:
        return all(c.state == "done" for c in self.channels)


def takedown_key(channel: str, slug: str, lifted: int = 0) -> str:
    """One takedown per channel and article: retracting again finds it instead of adding another.
    A retraction made after `lifted` earlier ones were lifted is a new one, with new takedowns."""
    tail = f"|{lifted}" if lifted else ""
    return "kill-" + hashlib.sha256(f"{channel}|{slug}{tail}".encode()).hexdigest()[:40]


def retract(
    room: Newsroom, slug: str, reason: str, actor: str, *, now: datetime | None = None
) -> RetractReport:
    """Record the retraction and enqueue the takedowns; the engine performs them (`take_down_now`
    does at once, `publisher run` otherwise)."""
    reason = reason.strip()
    if not reason:
        raise RetractionError("撤稿须说明理由 / a retraction needs a reason (--reason)")
    moment = to_utc(now) if now else utc_now()
    with write_session(room.engine) as session:
        article = session.exec(select(Article).where(Article.slug == slug)).first()
        if article is None or article.id is None or article.current_revision_id is None:
            raise NotFound(f"没有这篇稿件 / no article with slug {slug!r}")
        existing = session.get(Retraction, article.id)
        lifted = _lifted_count(session, article.id)
        if existing is None:
            session.add(
                Retraction(article_id=article.id, reason=reason, retracted_by=actor, retracted_at=moment)
            )
        elif in_force(session, article.id) is None:
            # Retracted again after a lift: the row holds the latest retraction (the lifted one is
            # kept, as it was, in its `Reinstatement`).
            existing.reason, existing.retracted_by, existing.retracted_at = reason, actor, moment
            session.add(existing)
            existing = None
        canceled = scheduling.cancel_pending(
            session, article, actor, why=f"撤稿 / retracted: {reason}", now=moment
        )
        holding = _holding(room, session, article.id)
        queued = [_enqueue(session, article, name, moment, actor, lifted) for name in holding]
        audit.append(
            session,
            actor=actor,
            action="article.retract",
            object_type="article",
            object_id=slug,
            revision_id=article.current_revision_id,
            details={
                "reason": reason,
                "canceled": len(canceled),
                "takedowns": sorted(holding),
                "again": existing is not None,
            },
        )
    report = RetractReport(slug, reason, existing is not None, len(canceled))
    report.channels = progress(room, slug) if queued else []
    return report


def channels_holding(room: Newsroom, slug: str) -> list[str]:
    """Where a retraction of the article would send takedowns now (what a person confirms first)."""
    with read_session(room.engine) as session:
        article = session.exec(select(Article).where(Article.slug == slug)).first()
        if article is None or article.id is None:
            raise NotFound(f"没有这篇稿件 / no article with slug {slug!r}")
        return _holding(room, session, article.id)


def _holding(room: Newsroom, session: Session, article_id: int) -> list[str]:
    """The enabled channels that hold (or may hold) the article: every channel of a kind that shows
    what the gate allows without a delivery (a website, its feeds), every channel a release went
    to, and every partner with a supply record."""
    released = set(
        session.exec(
            select(Delivery.channel).where(
                Delivery.article_id == article_id,
                Delivery.action == DeliveryAction.PUBLISH,
                col(Delivery.status).in_(MAY_HOLD),
            )
        )
    )
    supplied = set(session.exec(select(Supply.partner).where(Supply.article_id == article_id)))
    holding = []
    for name, channel in sorted(room.channels.channels.items()):
        kind = channel_kind(channel.kind)
        if not channel.enabled or kind is None:
            continue
        if kind.shows_undelivered or name in released or name in supplied:
            holding.append(name)
    return holding


def _lifted_count(session: Session, article_id: int) -> int:
    return len(session.exec(select(Reinstatement.id).where(Reinstatement.article_id == article_id)).all())


def _enqueue(
    session: Session, article: Article, channel: str, moment: datetime, actor: str, lifted: int
) -> int:
    """The channel's takedown, new or found; one that failed (or was held) is armed again."""
    key = takedown_key(channel, article.slug, lifted)
    existing = session.exec(select(Delivery).where(Delivery.idempotency_key == key)).first()
    if existing is None:
        delivery = scheduling.add_delivery(
            session, article, channel, moment, key, actor, action=DeliveryAction.TAKE_DOWN, why="retraction"
        )
    else:
        delivery = existing
        if existing.status == DeliveryState.SCHEDULED:
            existing.next_attempt_at = moment  # retracting again: try now, not after the backoff
            session.add(existing)
        elif Step.RESCHEDULE.starts_from(existing.status):
            existing.status = Step.RESCHEDULE.apply(existing.status)
            existing.next_attempt_at, existing.attempts = moment, 0
            existing.last_error, existing.updated_at = None, moment
            session.add(existing)
            session.flush()
            scheduling.record_schedule(session, existing, article.slug, actor, why="retraction")
    assert delivery.id is not None
    return delivery.id


def take_down_now(room: Newsroom, report: RetractReport) -> RetractReport:
    """Run the engine once for this retraction's takedowns (and nothing else that is due), then
    read where each channel stands. A channel that could not be reached stays pending for the
    next `publisher run`; nothing here raises for a channel's failure."""
    from publisher.engine.worker import DeliveryWorker  # the worker loads only when asked to run

    ids = [c.delivery_id for c in report.channels if c.state == "pending"]
    if ids:
        try:
            DeliveryWorker(room).run_once(only=ids)
        except Exception as exc:  # the takedowns stay queued: `publisher run` performs them
            log.warning("performing the takedowns of %s stopped: %s", report.slug, exc)
    report.channels = progress(room, report.slug)
    return report


def progress(room: Newsroom, slug: str) -> list[ChannelProgress]:
    """Each channel's takedown of the article, as it stands now."""
    with read_session(room.engine) as session:
        rows = session.exec(
            select(Delivery)
            .join(Article, col(Article.id) == col(Delivery.article_id))
            .where(Article.slug == slug, Delivery.action == DeliveryAction.TAKE_DOWN)
            .order_by(col(Delivery.channel))
        ).all()
        lifted = _lifted_count(session, rows[0].article_id) if rows else 0
    out = []
    # The takedowns of the latest retraction: those of a lifted one are history.
    for d in (d for d in rows if d.idempotency_key == takedown_key(d.channel, slug, lifted)):
        assert d.id is not None
        if d.status == DeliveryState.DONE:
            out.append(ChannelProgress(d.channel, "done", d.id))
        elif d.status in (DeliveryState.FAILED, DeliveryState.HELD, DeliveryState.CANCELED):
            out.append(ChannelProgress(d.channel, "failed", d.id, d.last_error))
        else:
            out.append(ChannelProgress(d.channel, "pending", d.id, d.last_error, d.next_attempt_at))
    return out


@dataclass(frozen=True, slots=True)
class Reinstated:
    slug: str
    retracted_at: datetime  # the retraction lifted
    reason: str
    voided: list[int]  # review cycles ended by the lift (by revision number)


def reinstate(
    room: Newsroom, slug: str, reason: str, actor: str, *, now: datetime | None = None
) -> Reinstated:
    """Lift the article's retraction (撤稿解除), audited as `article.reinstate`. Nothing is published:
    every review of the article open or complete at this moment is ended (as a withdrawal, so the
    signed acts prove it), and its current revision must be submitted and approved again before
    the gate lets it out. An approval given before the lift, when the article was retracted or
    before that, never counts for what is published after it."""
    reason = reason.strip()
    if not reason:
        raise RetractionError("撤稿解除须说明理由 / lifting a retraction needs a reason (--reason)")
    moment = to_utc(now) if now else utc_now()
    with write_session(room.engine) as session:
        person = get_user(session, actor)
        # Lifting ends the article's reviews: whoever may withdraw any article from review may.
        if not person.active or not set(roles_of(person)) & WITHDRAW_ROLES:
            raise RetractionError(
                f"{actor} 无权解除撤稿（须为编辑、管理员或领导） / {actor} may not lift a retraction: "
                "an active editor, admin or leader may"
            )
        article = session.exec(select(Article).where(Article.slug == slug)).first()
        if article is None or article.id is None or article.current_revision_id is None:
            raise NotFound(f"没有这篇稿件 / no article with slug {slug!r}")
        retraction = in_force(session, article.id)
        if retraction is None:
            raise RetractionError(
                f"{slug} 未被撤稿（或撤稿已解除），无需恢复 / {slug} is not retracted (or its retraction "
                "was lifted already): nothing to restore"
            )
        session.add(
            Reinstatement(
                article_id=article.id,
                retracted_at=retraction.retracted_at,
                retracted_by=retraction.retracted_by,
                retraction_reason=retraction.reason,
                reason=reason,
                reinstated_by=actor,
                reinstated_at=max(moment, to_utc(retraction.retracted_at)),
            )
        )
        voided = _void_reviews(session, article, actor, moment)
        audit.append(
            session,
            actor=actor,
            action="article.reinstate",
            object_type="article",
            object_id=slug,
            revision_id=article.current_revision_id,
            details={
                "reason": reason,
                "retracted_at": to_utc(retraction.retracted_at).isoformat(),
                "retraction_reason": retraction.reason,
                "reviews_ended": voided,
            },
        )
        return Reinstated(slug, to_utc(retraction.retracted_at), reason, voided)


def _void_reviews(session: Session, article: Article, actor: str, moment: datetime) -> list[int]:
    """End every review of the article that is open or complete, as a withdrawal by the person who
    lifts the retraction: the proof reads the withdrawal from the acts, so the status row and the
    signed acts keep agreeing, and a resubmission starts a new cycle."""
    ended: list[int] = []
    rows = session.exec(
        select(ReviewState, Revision.number)
        .join(Revision, col(Revision.id) == col(ReviewState.revision_id))
        .where(
            ReviewState.article_id == article.id,
            col(ReviewState.status).in_(("in_review", "approved")),
        )
        .order_by(col(Revision.number))
    ).all()
    for state, number in rows:
        state.status, state.updated_at = "withdrawn", moment
        session.add(state)
        session.add(
            ReviewAct(
                revision_id=state.revision_id,
                article_id=state.article_id,
                cycle=state.cycle,
                act="withdraw",
                username=actor,
                comment="撤稿解除，须重新送审 / retraction lifted: submit again",
                details_json=json.dumps({"reinstate": True}),
                at=moment,
            )
        )
        audit.append(
            session,
            actor=actor,
            action="review.withdraw",
            object_type="article",
            object_id=article.slug,
            revision_id=state.revision_id,
            details={"cycle": state.cycle, "why": "reinstate"},
        )
        ended.append(number)
    return ended
