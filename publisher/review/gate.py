"""The one publication gate every channel calls at the moment of delivery.

A revision may leave the building only when it is its article's current revision, fully approved
through the review chain, not withdrawn, not retracted (撤稿), not blocked by a secrecy marking (for
external channels), and past its embargo. One exception, wire practice: a partner outlet trusted
with embargoes receives the item early, marked with its embargo time (`embargo_waived`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlmodel import Session, col, select

from publisher.channels.registry import Channel
from publisher.review.checks import BUILTIN_MARKINGS, Marking, SecrecyList, Subject, check_secrecy
from publisher.store.batch import in_chunks, revision_bodies
from publisher.store.tables import Article, Retraction, ReviewState


@dataclass(frozen=True, slots=True)
class GateDecision:
    allowed: bool
    reasons: tuple[str, ...] = ()

    @classmethod
    def allow(cls) -> GateDecision:
        return cls(True)

    @classmethod
    def deny(cls, *reasons: str) -> GateDecision:
        return cls(False, reasons)


def embargo_waived(channel: Channel) -> bool:
    """A trusted partner gets embargoed items before the embargo lifts; every other channel waits."""
    return channel.kind == "partner" and bool(getattr(channel.settings, "trusted_for_embargo", False))


class GateSubject(Protocol):
    """What the gate reads of a revision: an ORM `Revision` is one, and so is the lighter row a
    site build loads for every article (`publisher.site.select.RevisionRow`)."""

    @property
    def id(self) -> str: ...

    @property
    def article_id(self) -> int: ...

    @property
    def meta_json(self) -> str: ...

    @property
    def body(self) -> str: ...


# Channels receive the gate as a parameter, so their tests can pass a fake one.
Gate = Callable[[Session, GateSubject, Channel, datetime], GateDecision]


@runtime_checkable
class ManyGate(Protocol):
    """A gate that can look up what it needs for many revisions at once (a site build asks about
    every article): `many` returns a gate for those revisions that reads no more from the database."""

    def __call__(
        self, session: Session, revision: GateSubject, channel: Channel, at: datetime
    ) -> GateDecision: ...

    def many(self, session: Session, revisions: Sequence[GateSubject]) -> Gate: ...


def for_many(gate: Gate, session: Session, revisions: Sequence[GateSubject]) -> Gate:
    """The gate to ask about these revisions: batched when the gate can batch, else itself."""
    return gate.many(session, revisions) if isinstance(gate, ManyGate) else gate


@dataclass
class GateFacts:
    """What the gate reads about a set of revisions, read in a few queries."""

    current: dict[int, str | None]  # article id -> its current revision id
    retracted: set[int]  # article ids
    states: dict[str, tuple[str, bool]]  # revision id -> (review status, secrecy_blocked)
    bodies: Callable[[GateSubject], str]  # a revision's body (read once, when a check needs it)
    members: frozenset[str] = frozenset()  # the revision ids the facts were gathered for
    marked: dict[str, bool] = field(default_factory=dict)  # revision id -> carries a marking
    markings: SecrecyList = BUILTIN_MARKINGS  # checked besides the built-in marks

    @classmethod
    def gather(
        cls, session: Session, revisions: Sequence[GateSubject], markings: SecrecyList = BUILTIN_MARKINGS
    ) -> GateFacts:
        article_ids = {r.article_id for r in revisions}
        revision_ids = {r.id for r in revisions}
        current: dict[int, str | None] = {}
        retracted: set[int] = set()
        states: dict[str, tuple[str, bool]] = {}
        for chunk in in_chunks(article_ids):
            current.update(
                session.exec(
                    select(Article.id, Article.current_revision_id).where(col(Article.id).in_(chunk))
                ).all()  # type: ignore[arg-type]
            )
            retracted.update(
                session.exec(select(Retraction.article_id).where(col(Retraction.article_id).in_(chunk)))
            )
        for ids in in_chunks(revision_ids):
            for rid, status, blocked in session.exec(
                select(ReviewState.revision_id, ReviewState.status, ReviewState.secrecy_blocked).where(
                    col(ReviewState.revision_id).in_(ids)
                )
            ):
                states[rid] = (status, bool(blocked))
        loaded: dict[str, str] = {}

        def bodies(revision: GateSubject) -> str:
            # Bodies are the bulk of a revision: all of them in one pass, only once one is needed.
            if not loaded:
                loaded.update(revision_bodies(session, revision_ids))
            return loaded.get(revision.id) or revision.body

        return cls(current, retracted, states, bodies, frozenset(revision_ids), markings=markings)

    def carries_mark(self, revision: GateSubject, meta: dict[str, Any]) -> bool:
        known = self.marked.get(revision.id)
        if known is None:
            known = self.marked[revision.id] = _carries_mark(
                revision.id, lambda: Subject(meta, self.bodies(revision)), self.markings
            )
        return known

    def decide(self, revision: GateSubject, channel: Channel, at: datetime) -> GateDecision:
        reasons: list[str] = []
        if revision.article_id not in self.current or self.current[revision.article_id] != revision.id:
            reasons.append("不是稿件的当前版本（已被修改） / not the article's current revision")
        if revision.article_id in self.retracted:
            reasons.append("已撤稿 / the article was retracted")
        state = self.states.get(revision.id)
        if state is None:
            reasons.append("尚未提交审核 / never submitted for review")
        elif state[0] != "approved":
            reasons.append(f"审核未通过（{state[0]}） / review is not complete: {state[0]}")
        meta = json.loads(revision.meta_json)
        # A second lock behind review, on every delivery: the built-in marks and the newsroom's
        # list, in every shown field and the rendered body (a list changed after approval counts).
        if channel.external and ((state is not None and state[1]) or self.carries_mark(revision, meta)):
            reasons.append(
                "带有密级标志，禁止对外发布 / carries a secrecy marking: blocked from external channels"
            )
        embargo = meta.get("embargo")
        if (
            embargo
            and datetime.fromisoformat(embargo.replace("Z", "+00:00")) > at
            and not embargo_waived(channel)
        ):
            reasons.append(f"禁发至 {embargo} / embargoed until {embargo}")
        if not channel.enabled:
            reasons.append(f"渠道 {channel.name} 已停用 / the channel is disabled")
        return GateDecision.deny(*reasons) if reasons else GateDecision.allow()


_MARKED_CACHE_SIZE = 4096
_marked: dict[tuple[str, tuple[Marking, ...]], bool] = {}


def _carries_mark(revision_id: str, subject: Callable[[], Subject], markings: SecrecyList) -> bool:
    """Whether a revision shows a marking of this list. A revision id is the hash of its text, so
    the answer is kept for the process: a site build asks about every article, each time."""
    key = (revision_id, tuple(markings.marking))
    known = _marked.get(key)
    if known is None:
        if len(_marked) >= _MARKED_CACHE_SIZE:
            _marked.clear()
        known = _marked[key] = bool(check_secrecy(subject(), markings))
    return known


class PublicationGate:
    """Decide, at the moment of delivery, whether a revision may go to a channel.

    `markings`: the newsroom's own secrecy list, handed over by whoever opens the newsroom (the
    engine, a site build) so the gate reads no settings; the built-in marks are always checked."""

    def __init__(self, markings: SecrecyList = BUILTIN_MARKINGS) -> None:
        self.markings = markings

    def __call__(
        self, session: Session, revision: GateSubject, channel: Channel, at: datetime
    ) -> GateDecision:
        # One revision (a delivery, at its due time): by primary key, so rows the caller already
        # loaded into the session (the engine preloads a round's) cost no query, and the rest
        # (a retraction) is read at this moment.
        article = session.get(Article, revision.article_id)
        state = session.get(ReviewState, revision.id)
        facts = GateFacts(
            current={} if article is None else {revision.article_id: article.current_revision_id},
            retracted=set()
            if session.get(Retraction, revision.article_id) is None
            else {revision.article_id},
            states={} if state is None else {revision.id: (state.status, bool(state.secrecy_blocked))},
            bodies=lambda subject: subject.body,
            members=frozenset({revision.id}),
            markings=self.markings,
        )
        return facts.decide(revision, channel, at)

    def many(self, session: Session, revisions: Sequence[GateSubject]) -> Gate:
        facts = GateFacts.gather(session, revisions, self.markings)

        def gate(session: Session, revision: GateSubject, channel: Channel, at: datetime) -> GateDecision:
            if revision.id not in facts.members:
                return self(session, revision, channel, at)  # not one of the batch: ask directly
            return facts.decide(revision, channel, at)

        return gate


publication_gate = PublicationGate()
