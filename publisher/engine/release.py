"""When an article may be live on the website: approved, and (in "scheduled" mode) released.

A website in `release = "scheduled"` mode shows an article only once a delivery of it to that site
has been performed (or is being performed right now): a build run in between, by hand or for
another article, never puts a scheduled piece up before its time. Feeds follow their site.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlmodel import Session, col, select

from publisher.channels.kinds import FeedSettings, WebsiteSettings
from publisher.channels.registry import Channel
from publisher.newsroom import Newsroom
from publisher.review.gate import Gate, GateDecision, publication_gate
from publisher.store.tables import Delivery, Revision


def site_of(room: Newsroom, channel: Channel) -> Channel | None:
    if isinstance(channel.settings, FeedSettings):
        return room.channels.channels.get(channel.settings.site)
    return channel if isinstance(channel.settings, WebsiteSettings) else None


def released_gate(room: Newsroom, releasing: Collection[int] = (), base: Gate = publication_gate) -> Gate:
    """The publication gate, plus the site's release rule; `releasing` are article ids being
    released by the delivery in progress. Make one per build: it remembers what was released."""

    released: dict[frozenset[str], set[int]] = {}  # one query per channel set for the gate's life (a build)

    def gate(session: Session, revision: Revision, channel: Channel, at: datetime) -> GateDecision:
        decision = base(session, revision, channel, at)
        site = site_of(room, channel)
        if not decision.allowed or site is None:
            return decision
        settings = site.settings
        if not isinstance(settings, WebsiteSettings) or settings.release != "scheduled":
            return decision
        if revision.article_id in releasing:
            return decision
        names = frozenset({site.name, channel.name})
        if names not in released:
            released[names] = set(
                session.exec(
                    select(Delivery.article_id).where(
                        col(Delivery.channel).in_(names), Delivery.status == "done"
                    )
                )
            )
        if revision.article_id not in released[names]:
            return GateDecision.deny(
                "尚未到发布时间（网站按排期发布） / not released yet: the site publishes on schedule"
            )
        return decision

    return gate
