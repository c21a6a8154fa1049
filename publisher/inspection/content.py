"""Everything live, read again with today's lists: secrecy markings, terminology (a term added today
flags an article published last year), leaders' names (review/leaders.toml), personal data, and a
date shown earlier than the article was first approved (伪造发稿日期).

The checks are review's own (`review/checks.py`, `leaders.py`, `personal.py`, all reading text
through `review/normalize.py`); this module only decides what is live and names where.

Back-dating is judged against the moment the article was first made public: its first release on
any channel the engine recorded (a correction or a later channel, such as a partner taking up an
older piece, keeps the article's date honestly). Without a release on record (a site built through
another gate) the first approval stands in, and without that the first ingestion: publication can
come no earlier than either.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from publisher.delivery.states import DeliveryAction, DeliveryState
from publisher.inspection.findings import Finding
from publisher.inspection.settings import InspectionSettings
from publisher.review.checks import Finding as CheckFinding
from publisher.review.checks import SecrecyList, Subject, TermList, check_secrecy, check_terms
from publisher.review.leaders import LeaderList, check_leaders
from publisher.review.personal import check_personal
from publisher.store.batch import in_chunks
from publisher.store.retractions import in_force_ids
from publisher.store.tables import Article, Delivery, ReviewState, Revision

RULE_OF = {
    "secrecy": "content.secrecy",
    "terminology": "content.terminology",
    "leaders": "content.leader-name",
    "personal": "content.personal-data",
}


@dataclass(frozen=True, slots=True)
class Lists:
    secrecy: SecrecyList
    terms: TermList
    leaders: LeaderList


@dataclass(frozen=True, slots=True)
class Live:
    """One revision live somewhere: on a website page or delivered to another channel."""

    channel: str
    slug: str
    revision_id: str
    location: str


def delivered(session: Session) -> list[Live]:
    """The last revision each channel received of each unretracted article (not the websites,
    whose pages are read from their releases)."""
    rows = session.exec(
        select(Delivery.channel, Article.slug, Delivery.revision_id, Delivery.done_at)
        .join(Article, col(Article.id) == col(Delivery.article_id))
        .where(
            Delivery.status == DeliveryState.DONE.value,
            Delivery.action == DeliveryAction.PUBLISH.value,
            col(Delivery.revision_id).is_not(None),
            col(Delivery.article_id).not_in(in_force_ids()),
        )
        .order_by(col(Delivery.done_at))
    ).all()
    last: dict[tuple[str, str], str] = {}
    for channel, slug, revision_id, _ in rows:
        last[(channel, slug)] = str(revision_id)
    return [Live(ch, slug, rid, f"{ch}:{slug}") for (ch, slug), rid in sorted(last.items())]


def _first_approvals(session: Session, article_ids: set[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for chunk in in_chunks(article_ids):
        for article_id, at in session.exec(
            select(ReviewState.article_id, func.min(ReviewState.updated_at))
            .where(col(ReviewState.article_id).in_(chunk), ReviewState.status == "approved")
            .group_by(col(ReviewState.article_id))
        ):
            found[article_id] = at
    return found


def _first_releases(session: Session, article_ids: set[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for chunk in in_chunks(article_ids):
        for article_id, at in session.exec(
            select(Delivery.article_id, func.min(Delivery.done_at))
            .where(
                col(Delivery.article_id).in_(chunk),
                Delivery.status == DeliveryState.DONE.value,
                Delivery.action == DeliveryAction.PUBLISH.value,
                col(Delivery.done_at).is_not(None),
            )
            .group_by(col(Delivery.article_id))
        ):
            if at is not None:
                found[article_id] = at
    return found


def recheck(session: Session, live: list[Live], lists: Lists, settings: InspectionSettings) -> list[Finding]:
    """Each live revision checked once, its findings reported at every place it is live."""
    by_revision: dict[str, list[Live]] = defaultdict(list)
    for item in live:
        by_revision[item.revision_id].append(item)
    revisions: dict[str, Revision] = {}
    for chunk in in_chunks(by_revision):
        for revision in session.exec(select(Revision).where(col(Revision.id).in_(chunk))):
            revisions[revision.id] = revision
    articles = {r.article_id for r in revisions.values()}
    released = _first_releases(session, articles)
    approved = _first_approvals(session, articles)
    created: dict[int, datetime] = {}
    for ids in in_chunks(articles):
        for article_id, at in session.exec(
            select(Article.id, Article.created_at).where(col(Article.id).in_(ids))
        ):
            if article_id is not None:
                created[article_id] = at
    grace = timedelta(hours=settings.backdate.grace_hours)
    findings: list[Finding] = []
    for revision_id, places in sorted(by_revision.items()):
        found_revision = revisions.get(revision_id)
        if found_revision is None:
            continue
        revision = found_revision
        subject = Subject(json.loads(revision.meta_json), revision.body)
        checked: list[CheckFinding] = [
            *check_secrecy(subject, lists.secrecy),
            *check_terms(subject, lists.terms),
            *check_leaders(subject, lists.leaders),
            *check_personal(subject),
        ]
        first = (
            released.get(revision.article_id)
            or approved.get(revision.article_id)
            or created.get(revision.article_id)
        )
        for place in places:
            for found in checked:
                findings.append(
                    Finding(
                        RULE_OF[found.check],
                        place.location,
                        found.message,
                        f"{place.slug} rev {revision_id[:12]}"
                        + (f" 正文第 {found.line} 行 / body line {found.line}" if found.line else ""),
                        found.line,
                        place.channel,
                    )
                )
            if first is not None and revision.dated_at < first - grace:
                findings.append(
                    Finding(
                        "content.backdated",
                        place.location,
                        "发稿日期早于稿件首次发布时间（倒签日期） / the date shown is earlier than the "
                        "article was first published (back-dated)",
                        f"{place.slug}: {revision.dated_at.isoformat()} < {first.isoformat()}",
                        channel=place.channel,
                    )
                )
    return findings
