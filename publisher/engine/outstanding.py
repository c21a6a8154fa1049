"""Channels still showing an older revision of a corrected article (the "note" and "republish"
policies of corrections.py, and "replace" until the engine performs it).

A read over the Core clauses of store/listings.py, apart from corrections.py (which writes), so
that `publisher articles` lists them without the ORM.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from publisher.delivery.states import DeliveryAction, DeliveryState
from publisher.store.listings import Reader, article, delivery, review_state, revision
from publisher.store.retractions import in_force_ids

if TYPE_CHECKING:
    from publisher.newsroom import Newsroom


@dataclass(frozen=True, slots=True)
class Outstanding:
    """A channel still showing an older revision of an article whose correction is approved."""

    channel: str
    article_id: int
    slug: str
    policy: str
    live_number: int  # the revision the channel released last
    corrected_number: int  # the approved current revision
    corrected_id: str


def corrections_outstanding(room: Newsroom, reader: Reader, slug: str | None = None) -> list[Outstanding]:
    """Every (channel, article) whose last release there is older than the article's approved,
    current revision, for channels with a correction policy; retracted articles are left out.
    Two queries, whatever the number of articles."""
    policies = {
        name: policy
        for name, channel in room.channels.channels.items()
        if channel.enabled and (policy := channel.settings.correction_policy()) is not None
    }
    if not policies:
        return []
    d, a, r = delivery.c, article.c, revision.c
    query = (
        select(d.channel, a.id, a.slug, a.current_revision_id, r.number, r.id)
        .join(article, a.id == d.article_id)
        .join(revision, r.id == d.revision_id)
        .join(review_state, review_state.c.revision_id == a.current_revision_id)
        .where(
            d.channel.in_(policies),
            d.status == DeliveryState.DONE,
            d.action == DeliveryAction.PUBLISH,
            review_state.c.status == "approved",
            a.id.not_in(in_force_ids()),
        )
    )
    if slug is not None:
        query = query.where(a.slug == slug)
    released: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
    articles: dict[int, tuple[str, str | None]] = {}  # id -> (slug, current revision)
    for channel, article_id, article_slug, current, number, revision_id in reader.execute(query).all():
        articles[article_id] = (article_slug, current)
        released[(channel, article_id)][revision_id] = number
    if not articles:
        return []
    numbers: dict[str, int] = {
        id_: number
        for id_, number in reader.execute(
            select(r.id, r.number).where(r.id.in_({current for _, current in articles.values()}))
        )
    }
    found = []
    for (channel, article_id), revisions in sorted(released.items()):
        article_slug, current = articles[article_id]
        if current is None or current in revisions:
            continue
        found.append(
            Outstanding(
                channel,
                article_id,
                article_slug,
                policies[channel],
                max(revisions.values()),
                numbers[current],
                current,
            )
        )
    return found
