"""When an article may be live on a website, and which of its revisions: the one rule that both a
site build and the engine's website releases ask.

- Never before its scheduled release on that site, whatever the mode: while a release of the
  article to the site (or its feeds) is planned and not yet done, the site shows what it released
  before, or nothing. In `release = "scheduled"` mode only what a delivery released is shown; in
  `release = "approved"` mode an article with no release planned goes up at the next build after
  its approval.
- A correction never takes a page down: while a new revision is in review (or approved but not yet
  released), the site keeps the newest approved revision it released; the correction replaces it
  once it is approved and released.

`live_revision` is the rule as a pure function; `ReleasedGate` reads its facts (two queries per
site and gate) and applies it to a build (`shown`, which revision to ask about) and to each
decision (`__call__`). Feeds follow their site.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from publisher.channels.kinds import FeedSettings, WebsiteSettings
from publisher.channels.registry import Channel
from publisher.delivery.states import PLANNED, DeliveryAction, DeliveryState
from publisher.newsroom import Newsroom
from publisher.review.checks import load_secrecy
from publisher.review.gate import Gate, GateDecision, GateSubject, PublicationGate, for_many, keeping
from publisher.store.tables import Delivery, ReviewState, Revision
from publisher.timeutil import show

# A release of the article planned on the site and not performed yet: not shown before it.
PENDING = PLANNED


def newsroom_gate(room: Newsroom) -> PublicationGate:
    """The publication gate with this newsroom's own secrecy list (review/secrecy.toml) besides
    the built-in marks: the engine reads the list and hands it over, the gate reads no settings."""
    return PublicationGate(load_secrecy(room.root / room.settings.paths.review, room.root))


def site_of(room: Newsroom, channel: Channel) -> Channel | None:
    if isinstance(channel.settings, FeedSettings):
        return room.channels.channels.get(channel.settings.site)
    return channel if isinstance(channel.settings, WebsiteSettings) else None


def site_family(room: Newsroom, site: Channel) -> frozenset[str]:
    """The site and the feeds beside it: a release on any of them is a release on the site."""
    return frozenset(
        {site.name}
        | {
            c.name
            for c in room.channels.channels.values()
            if isinstance(c.settings, FeedSettings) and c.settings.site == site.name
        }
    )


@dataclass
class SiteFacts:
    """What the rule reads about one site, for every article at once."""

    scheduled: bool  # the site's `release = "scheduled"`
    released: dict[int, set[str]] = field(default_factory=dict)  # article -> revisions released here
    pending: dict[int, datetime] = field(default_factory=dict)  # article -> earliest planned release
    approved: dict[int, list[str]] = field(default_factory=dict)  # article -> approved, newest first

    @classmethod
    def gather(cls, session: Session, room: Newsroom, site: Channel) -> SiteFacts:
        settings = site.settings
        facts = cls(isinstance(settings, WebsiteSettings) and settings.release == "scheduled")
        released: dict[int, set[str]] = defaultdict(set)
        for article_id, revision_id, status, due in session.exec(
            select(
                Delivery.article_id, Delivery.revision_id, Delivery.status, Delivery.next_attempt_at
            ).where(
                col(Delivery.channel).in_(site_family(room, site)),
                Delivery.action == DeliveryAction.PUBLISH,  # a takedown releases nothing
                col(Delivery.status).in_((DeliveryState.DONE, *PENDING)),
            )
        ):
            if status == DeliveryState.DONE:
                if revision_id is not None:
                    released[article_id].add(revision_id)
            elif article_id not in facts.pending or due < facts.pending[article_id]:
                facts.pending[article_id] = due
        facts.released = dict(released)
        numbered: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for article_id, revision_id, number in session.exec(
            select(ReviewState.article_id, ReviewState.revision_id, Revision.number)
            .join(Revision, col(Revision.id) == col(ReviewState.revision_id))
            .where(ReviewState.status == "approved")
        ):
            numbered[article_id].append((number, revision_id))
        facts.approved = {a: [rid for _, rid in sorted(rows, reverse=True)] for a, rows in numbered.items()}
        return facts


def live_revision(facts: SiteFacts, article_id: int, current: str, releasing: bool) -> str | None:
    """The revision of an article the site shows, or None for none. The one being released by the
    delivery in progress shows its current revision (the gate checked it)."""
    if releasing:
        return current
    approved = facts.approved.get(article_id, [])
    # The current revision first when approved (a revert may make an older number current again).
    ranked = ([current] if current in approved else []) + [r for r in approved if r != current]
    if facts.scheduled or article_id in facts.pending:
        released = facts.released.get(article_id, set())
        return next((r for r in ranked if r in released), None)
    return ranked[0] if ranked else None


class ReleasedGate:
    """The publication gate, plus the site's release rule; `releasing` are article ids being
    released by the delivery in progress. Make one per build: it remembers what it read."""

    def __init__(
        self,
        room: Newsroom,
        releasing: Collection[int] = (),
        base: Gate | None = None,
        recent: Mapping[int, Collection[str]] | None = None,
    ) -> None:
        self.room = room
        self.releasing = releasing
        self.base = newsroom_gate(room) if base is None else base
        # Revisions this process released whose outcome may not be recorded yet (article -> ids).
        self.recent = recent or {}
        # One read per site for the gate's life (a build).
        self.facts: dict[str, SiteFacts] = {}
        # Older revisions `shown` chose to keep live: the publication gate lets them through.
        self.kept: set[str] = set()

    def _facts(self, session: Session, site: Channel) -> SiteFacts:
        facts = self.facts.get(site.name)
        if facts is None:
            facts = self.facts[site.name] = SiteFacts.gather(session, self.room, site)
            for article_id, revision_ids in self.recent.items():
                facts.released.setdefault(article_id, set()).update(revision_ids)
        return facts

    def many(self, session: Session, revisions: Sequence[GateSubject]) -> ReleasedGate:
        base = keeping(self.base, frozenset(self.kept))
        batched = ReleasedGate(self.room, self.releasing, for_many(base, session, revisions), self.recent)
        batched.facts, batched.kept = self.facts, self.kept
        return batched

    def shown(self, session: Session, channel: Channel, current: Mapping[int, str]) -> dict[int, str]:
        """For a build: article id -> the revision to show instead of its current one (only those
        that differ). An article with nothing to show keeps its current revision, which the gate
        then refuses with the reason."""
        site = site_of(self.room, channel)
        if site is None:
            return {}
        facts = self._facts(session, site)
        chosen = {}
        for article_id, rid in current.items():
            live = live_revision(facts, article_id, rid, article_id in self.releasing)
            if live is not None and live != rid:
                chosen[article_id] = live
        self.kept.update(chosen.values())
        return chosen

    def __call__(
        self, session: Session, revision: GateSubject, channel: Channel, at: datetime
    ) -> GateDecision:
        decision = keeping(self.base, frozenset(self.kept))(session, revision, channel, at)
        site = site_of(self.room, channel)
        if not decision.allowed or site is None or revision.article_id in self.releasing:
            return decision
        facts = self._facts(session, site)
        if not (facts.scheduled or revision.article_id in facts.pending):
            return decision
        if revision.id in facts.released.get(revision.article_id, set()):
            return decision
        due = facts.pending.get(revision.article_id)
        if due is not None:
            when = show(due, self.room.settings.tz)
            return GateDecision.deny(
                f"排期 {when} 发布，此前不上线 / scheduled for release at {when}: not shown before"
            )
        return GateDecision.deny(
            "尚未到发布时间（网站按排期发布） / not released yet: the site publishes on schedule"
        )


def released_gate(
    room: Newsroom,
    releasing: Collection[int] = (),
    base: Gate | None = None,
    recent: Mapping[int, Collection[str]] | None = None,
) -> ReleasedGate:
    return ReleasedGate(room, releasing, base, recent)
