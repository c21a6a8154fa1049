"""An article's page: every revision with its chain of signatures, the review state of the current
one, its releases per channel, and its audit history. A fixed number of queries per article."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from publisher import articles
from publisher.console.views.common import NEWSROOM_TZ, Person, people, person
from publisher.review import queries
from publisher.review.checks import Finding
from publisher.standing import Standing, standings_in
from publisher.store.tables import AuditEvent, Delivery
from publisher.timeutil import show

AUDIT_ROWS = 100  # the newest events of the article; the audit page has the rest


@dataclass(frozen=True, slots=True)
class ActView:
    act: str  # submit | approve | reject | withdraw
    by: Person
    role: str | None
    stage: str | None
    cycle: int
    at: datetime  # UTC
    at_local: str  # in the newsroom's time
    comment: str | None


@dataclass(frozen=True, slots=True)
class RevisionView:
    number: int
    revision_id: str
    title: str
    created_at: datetime
    created_by: str
    current: bool
    chain: tuple[ActView, ...]  # every act made on this revision, oldest first


@dataclass(frozen=True, slots=True)
class StageProgress:
    name: str
    role: str
    signed_by: Person | None
    signed_at_local: str | None
    comment: str | None
    waiting: bool  # the stage the review waits at now


@dataclass(frozen=True, slots=True)
class ReviewView:
    status: str  # draft | in_review | rejected | withdrawn | approved
    stages: tuple[StageProgress, ...]
    warnings: tuple[Finding, ...]
    acknowledged: tuple[tuple[str, Person], ...]  # (warning code, who acknowledged it)


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: int
    channel: str
    action: str  # publish | kill (a takedown)
    state: str
    due_at: datetime
    due_local: str
    attempts: int
    reason: str | None
    revision_number: int | None  # the revision sent, once sent
    done_local: str | None


@dataclass(frozen=True, slots=True)
class AuditLine:
    seq: int
    at_local: str
    actor: Person
    action: str
    details: str  # the event's details as stored (canonical JSON)


@dataclass(frozen=True, slots=True)
class ArticleDetail:
    slug: str
    title: str
    standing: Standing
    revisions: tuple[RevisionView, ...]  # newest first
    review: ReviewView
    deliveries: dict[str, tuple[DeliveryView, ...]]  # channel -> its releases, newest due first
    history: tuple[AuditLine, ...]  # newest first


def article_detail(session: Session, slug: str, tz: ZoneInfo = NEWSROOM_TZ) -> ArticleDetail:
    """Raises `NotFound` (bilingual) for an unknown slug."""
    article, revisions = articles.history(session, slug)
    assert article.id is not None
    status = queries.status(session, slug)
    known = people(session)
    standing = standings_in(session, [article.id])[article.id]
    numbers = {r.id: r.number for r in revisions}

    chains: dict[str, list[ActView]] = defaultdict(list)
    for revision, act in status.acts:
        chains[revision.id].append(
            ActView(
                act.act,
                person(known, act.username),
                act.role,
                act.stage_name,
                act.cycle,
                act.at,
                show(act.at, tz),
                act.comment,
            )
        )
    current = status.current.key if status.current else None
    review = ReviewView(
        status.status,
        tuple(
            StageProgress(
                s.stage.name,
                s.stage.role,
                person(known, s.done_by) if s.done_by else None,
                show(s.done_at, tz) if s.done_at else None,
                s.comment,
                s.stage.key == current,
            )
            for s in status.stages
        ),
        tuple(status.warnings),
        tuple((code, person(known, who)) for code, who in status.acknowledged.items()),
    )
    by_channel: dict[str, list[DeliveryView]] = defaultdict(list)
    for d in session.exec(
        select(Delivery).where(Delivery.article_id == article.id).order_by(col(Delivery.due_at).desc())
    ):
        assert d.id is not None
        by_channel[d.channel].append(
            DeliveryView(
                d.id,
                d.channel,
                d.action,
                d.status,
                d.due_at,
                show(d.due_at, tz),
                d.attempts,
                d.last_error,
                numbers.get(d.revision_id) if d.revision_id else None,
                show(d.done_at, tz) if d.done_at else None,
            )
        )
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.object_type == "article", AuditEvent.object_id == slug)
        .order_by(col(AuditEvent.seq).desc())
        .limit(AUDIT_ROWS)
    )
    history = tuple(
        AuditLine(e.seq, show(e.at, tz), person(known, e.actor), e.action, e.details_json) for e in events
    )
    return ArticleDetail(
        slug,
        status.revision.title,
        standing,
        tuple(
            RevisionView(
                r.number,
                r.id,
                r.title,
                r.created_at,
                r.created_by,
                r.id == article.current_revision_id,
                tuple(chains.get(r.id, ())),
            )
            for r in reversed(revisions)
        ),
        review,
        {channel: tuple(rows) for channel, rows in sorted(by_channel.items())},
        history,
    )


def details_of(line: AuditLine) -> dict[str, object]:
    """An audit line's details as data, for a template that lists them."""
    data: dict[str, object] = json.loads(line.details)
    return data
