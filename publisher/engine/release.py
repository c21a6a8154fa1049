"""When an article may be live on the website: approved, and (in "scheduled" mode) released.

A website in `release = "scheduled"` mode shows an article only once a delivery of it to that site
has been performed (or is being performed right now): a build run in between, by hand or for
another article, never puts a scheduled piece up before its time. Feeds follow their site.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from publisher.channels.kinds import FeedSettings, WebsiteSettings
from publisher.channels.registry import Channel
from publisher.newsroom import Newsroom
from publisher.review.checks import load_secrecy
from publisher.review.gate import Gate, GateDecision, GateSubject, PublicationGate, for_many
from publisher.store.tables import Delivery


def newsroom_gate(room: Newsroom) -> PublicationGate:
    """The publication gate with this newsroom's own secrecy list (review/secrecy.toml) besides
    the built-in marks: the engine reads the list and hands it over, the gate reads no settings."""
    return PublicationGate(load_secrecy(room.root / room.settings.paths.review, room.root))


def site_of(room: Newsroom, channel: Channel) -> Channel | None:
    if isinstance(channel.settings, FeedSettings):
        return room.channels.channels.get(channel.settings.site)
    return channel if isinstance(channel.settings, WebsiteSettings) else None


class ReleasedGate:
    """The publication gate, plus the site's release rule; `releasing` are article ids being
    released by the delivery in progress. Make one per build: it remembers what was released."""

    def __init__(self, room: Newsroom, releasing: Collection[int] = (), base: Gate | None = None) -> None:
        self.room = room
        self.releasing = releasing
        self.base = newsroom_gate(room) if base is None else base
        # One query per channel set for the gate's life (a build).
        self.released: dict[frozenset[str], set[int]] = {}

    def many(self, session: Session, revisions: Sequence[GateSubject]) -> ReleasedGate:
        batched = ReleasedGate(self.room, self.releasing, for_many(self.base, session, revisions))
        batched.released = self.released
        return batched

    def __call__(
        self, session: Session, revision: GateSubject, channel: Channel, at: datetime
    ) -> GateDecision:
        decision = self.base(session, revision, channel, at)
        site = site_of(self.room, channel)
        if not decision.allowed or site is None:
            return decision
        settings = site.settings
        if not isinstance(settings, WebsiteSettings) or settings.release != "scheduled":
            return decision
        if revision.article_id in self.releasing:
            return decision
        names = frozenset({site.name, channel.name})
        if names not in self.released:
            self.released[names] = set(
                session.exec(
                    select(Delivery.article_id).where(
                        col(Delivery.channel).in_(names), Delivery.status == "done"
                    )
                )
            )
        if revision.article_id not in self.released[names]:
            return GateDecision.deny(
                "尚未到发布时间（网站按排期发布） / not released yet: the site publishes on schedule"
            )
        return decision


def released_gate(room: Newsroom, releasing: Collection[int] = (), base: Gate | None = None) -> ReleasedGate:
    return ReleasedGate(room, releasing, base)
