"""The one publication gate every channel calls at the moment of delivery.

A revision may leave the building only when it is its article's current revision (or the older
one a site keeps live while a correction is in review: `keeping`), fully approved through the
review chain (proven from the signed acts by `publisher.review.proof`, never read from the status
row alone), not withdrawn, not retracted (撤稿), not blocked by a secrecy marking (for external
channels), past its embargo, and on a channel its `channels:` field allows. One exception, wire
practice: a partner outlet trusted with embargoes receives the item early, marked with its
embargo time (`embargo_waived`). The embargo rule itself (`embargo_of`, `embargo_holds`) lives
here too, so the worker, site selection and the supply performer ask the same functions.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol, runtime_checkable

from sqlalchemy import ColumnElement, Select, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from publisher.channels.kinds import PartnerSettings
from publisher.channels.registry import Channel
from publisher.content.model import channel_refusal
from publisher.review.checks import BUILTIN_MARKINGS, SecrecyList, Subject, check_secrecy
from publisher.review.plan import plan_from_json
from publisher.review.proof import Proof, SignedAct, StatusRow, approval_proven
from publisher.store.batch import in_chunks, revision_bodies
from publisher.store.retractions import in_force, in_force_ids, retracted_among
from publisher.store.tables import Article, ReviewAct, ReviewState, StaffUser


@dataclass(frozen=True, slots=True)
class GateDecision:
    allowed: bool
    reasons: tuple[str, ...] = ()

    @classmethod
    def allow(cls) -> GateDecision:
        # One shared (frozen) value: a site build asks the gate for every article on every build.
        return _ALLOWED

    @classmethod
    def deny(cls, *reasons: str) -> GateDecision:
        return cls(False, reasons)


_ALLOWED = GateDecision(True)


def embargo_waived(channel: Channel) -> bool:
    """A trusted partner gets embargoed items before the embargo lifts; every other channel waits."""
    return isinstance(channel.settings, PartnerSettings) and channel.settings.trusted_for_embargo


# The embargo rule lives here and only here: the gate, the worker's decision, site selection and
# the supply performer ask `embargo_of` / `embargo_holds` (tests/test_decision.py keeps a second
# reader of `meta["embargo"]` from coming back).
@dataclass(frozen=True, slots=True)
class Embargo:
    """A revision's embargo: not to be published, on any channel, before `until`."""

    until: datetime  # aware UTC
    written: str  # as the front matter says it, for messages

    @property
    def reason(self) -> str:
        return f"禁发至 {self.written} / embargoed until {self.written}"


def embargo_of(meta: Mapping[str, Any]) -> Embargo | None:
    """A revision's embargo from its front matter, or None when it has none."""
    written = meta.get("embargo")
    if not written:
        return None
    return Embargo(datetime.fromisoformat(str(written).replace("Z", "+00:00")).astimezone(UTC), str(written))


def embargo_holds(meta: Mapping[str, Any], channel: Channel, at: datetime) -> Embargo | None:
    """The embargo that keeps this revision off this channel at `at`, or None: no embargo, lifted
    already, or a trusted partner that receives the item early (`embargo_waived`)."""
    embargo = embargo_of(meta)
    if embargo is None or embargo.until <= at or embargo_waived(channel):
        return None
    return embargo


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


class ActRow(NamedTuple):
    """The columns of a review act the proof reads, as a plain row: a site build proves every
    article's review on every build, and an ORM object per act cost a third of a rebuild."""

    id: int | None
    revision_id: str
    cycle: int
    act: str
    stage_key: str | None
    username: str
    details_json: str


_ACT_COLUMNS = tuple(col(getattr(ReviewAct, name)) for name in ActRow._fields)


class StateRow(NamedTuple):
    """The columns of a status row the gate reads (a plain row, for the same reason)."""

    revision_id: str
    status: str
    cycle: int
    stage_index: int
    plan_json: str
    secrecy_blocked: bool


_STATE_COLUMNS = tuple(col(getattr(ReviewState, name)) for name in StateRow._fields)


@dataclass
class SignedActs:
    """The review a gate proves: each revision's plan and status row, its acts and their signers."""

    rows: dict[str, StatusRow]  # revision id -> its status row (the plan fixed at submission in it)
    acts: dict[str, list[SignedAct]]  # revision id -> every act on it
    users: dict[str, StaffUser]  # username -> the user, for everyone who acted
    # Stands for the signers' rows as read (`_users_token`); None: proofs are not remembered.
    users_token: int | None = None
    # revision id -> its refusals: the acts above are a snapshot, so each is proven once per snapshot
    _refused: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def gather(cls, session: Session, rows: dict[str, StatusRow]) -> SignedActs:
        """Every act on these revisions, and their signers: a query per chunk of ids, then one for
        the (few) signers."""
        acts: dict[str, list[SignedAct]] = {}
        # Core rows on the session's connection: no ORM loading step for thousands of plain rows.
        connection = session.connection()
        for ids in in_chunks(set(rows)):
            for row in connection.execute(
                sa_select(*_ACT_COLUMNS)
                .where(col(ReviewAct.revision_id).in_(ids))
                .order_by(col(ReviewAct.id))
            ):
                act = ActRow._make(row)
                acts.setdefault(act.revision_id, []).append(act)
        names = {act.username for listed in acts.values() for act in listed}
        users: dict[str, StaffUser] = {}
        for chunk in in_chunks(names):
            for user in session.exec(select(StaffUser).where(col(StaffUser.username).in_(chunk))):
                users[user.username] = user
        # Remembered proofs are for a batch's plain status rows; a single decision reads ORM rows.
        plain = any(isinstance(row, StateRow) for row in rows.values())
        return cls(rows, acts, users, _users_token(users) if plain else None)

    def proof(self, revision_id: str, meta: dict[str, Any]) -> Proof:
        plan = plan_from_json(self.rows[revision_id].plan_json)
        return approval_proven(plan, self.acts.get(revision_id, []), self.users, meta)

    def refusals(self, revision_id: str, meta: dict[str, Any]) -> list[str]:
        """Why the review of a submitted revision does not let it out: not proven approved, or a
        status row that disagrees with its acts (someone wrote to the database behind the chain)."""
        known = self._refused.get(revision_id)
        if known is None:
            known = self._refused[revision_id] = self._remembered(revision_id, meta)
        return list(known)

    def _remembered(self, revision_id: str, meta: dict[str, Any]) -> tuple[str, ...]:
        """The refusals, from the process's memory when every input of the proof is the same as
        when it was made: the revision (its front matter with it: a revision id is its text's
        hash), its status row, each of its acts and the signers' rows, compared as read (not by
        id or count, so a row changed behind the chain is proven again)."""
        row = self.rows[revision_id]
        if self.users_token is None or not isinstance(row, StateRow):
            return tuple(self._refusals(revision_id, meta))
        key = (revision_id, row, tuple(self.acts.get(revision_id, ())), self.users_token)
        known = _proven.get(key)
        if known is None:
            if len(_proven) >= _REMEMBER:
                _proven.clear()
            known = _proven[key] = tuple(self._refusals(revision_id, meta))
        return known

    def _refusals(self, revision_id: str, meta: dict[str, Any]) -> list[str]:
        proof = self.proof(revision_id, meta)
        reasons: list[str] = []
        if not proof.approved:
            reasons.append(
                f"审核未通过（{proof.standing.value}） / review is not complete: {proof.standing.value}"
            )
        disagreement = proof.disagreement(self.rows[revision_id])
        if disagreement is not None:
            reasons.append(
                f"审核状态与签署记录不符，疑被篡改（{disagreement}） / the review status disagrees with the "
                "signed acts: tampering suspected"
            )
        reasons.extend(f"签署记录无效 / a review act proves nothing: {problem}" for problem in proof.problems)
        return reasons


class FrontMatters(dict[str, dict[str, Any]]):
    """Revision id -> its front matter, parsed once per process: a revision is immutable. The dicts
    are shared: only read them."""

    def of(self, revision: GateSubject) -> dict[str, Any]:
        known = self.get(revision.id)
        if known is None:
            known = _front_matters.get(revision.id)
            if known is None:
                if len(_front_matters) >= _REMEMBER:
                    _front_matters.clear()
                known = _front_matters[revision.id] = json.loads(revision.meta_json)
            self[revision.id] = known
        return known


# What the gate remembers for the process, bounded: front matters by revision id, refusals by the
# whole of their inputs (`SignedActs._remembered`), and a token per distinct state of the signers.
_REMEMBER = 1 << 15
_front_matters: dict[str, dict[str, Any]] = {}
_proven: dict[tuple[str, StateRow, tuple[SignedAct, ...], int], tuple[str, ...]] = {}
_user_states: dict[tuple[tuple[str, tuple[tuple[str, Any], ...]], ...], int] = {}
_tokens = itertools.count()


def _users_token(users: Mapping[str, StaffUser]) -> int:
    """One number for these users' rows as read, every column: equal numbers, equal rows."""
    state = tuple(sorted((name, tuple(sorted(user.model_dump().items()))) for name, user in users.items()))
    token = _user_states.get(state)
    if token is None:
        if len(_user_states) >= 1 << 10:
            _user_states.clear()  # tokens are never handed out twice: what was proven stays true
        token = _user_states[state] = next(_tokens)
    return token


@dataclass
class GateFacts:
    """What the gate reads about a set of revisions, read in a few queries."""

    current: dict[int, str | None]  # article id -> its current revision id
    retracted: set[int]  # article ids
    states: dict[str, tuple[str, bool]]  # revision id -> (review status, secrecy_blocked)
    # A revision's body, read when a check first needs it, through the session of the one who asks:
    # the session that gathered the facts may be closed by then (a worker round's facts outlive it).
    bodies: Callable[[Session, GateSubject], str]
    members: frozenset[str] = frozenset()  # the revision ids the facts were gathered for
    marked: dict[str, bool] = field(default_factory=dict)  # revision id -> carries a marking
    # A round's facts decide for each of its deliveries: parsing the front matter again each time
    # was a fifth of the gate's CPU.
    metas: FrontMatters = field(default_factory=FrontMatters)
    markings: SecrecyList = BUILTIN_MARKINGS  # checked besides the built-in marks
    # Older revisions a site keeps live while a correction is in review (`keeping`).
    standing: frozenset[str] = frozenset()
    signed: SignedActs = field(default_factory=lambda: SignedActs({}, {}, {}))  # the review, proven

    @classmethod
    def gather(
        cls, session: Session, revisions: Sequence[GateSubject], markings: SecrecyList = BUILTIN_MARKINGS
    ) -> GateFacts:
        article_ids = {r.article_id for r in revisions}
        revision_ids = {r.id for r in revisions}
        current: dict[int, str | None] = {}
        states: dict[str, tuple[str, bool]] = {}
        rows: dict[str, StatusRow] = {}
        for chunk in in_chunks(article_ids):
            current.update(
                session.exec(
                    select(Article.id, Article.current_revision_id).where(col(Article.id).in_(chunk))
                ).all()  # type: ignore[arg-type]
            )
        for ids in in_chunks(revision_ids):
            for found in session.connection().execute(
                sa_select(*_STATE_COLUMNS).where(col(ReviewState.revision_id).in_(ids))
            ):
                state = StateRow._make(found)
                states[state.revision_id] = (state.status, bool(state.secrecy_blocked))
                rows[state.revision_id] = state
        retracted = retracted_among(session, article_ids)
        signed = SignedActs.gather(session, rows)
        loaded: dict[str, str] = {}

        def bodies(asking: Session, revision: GateSubject) -> str:
            # Bodies are the bulk of a revision: read in one pass once one is needed, and only those
            # of revisions whose marking check the process has not made already (a site rebuild
            # after one edit reads one body, not a thousand).
            if revision.id not in loaded:
                key = _markings_key(markings)
                unscreened = {rid for rid in revision_ids if (rid, key) not in _marked} | {revision.id}
                loaded.update(revision_bodies(asking, unscreened - loaded.keys()))
            return loaded.get(revision.id) or revision.body

        return cls(
            current, retracted, states, bodies, frozenset(revision_ids), markings=markings, signed=signed
        )

    def carries_mark(self, session: Session, revision: GateSubject, meta: dict[str, Any]) -> bool:
        known = self.marked.get(revision.id)
        if known is None:
            known = self.marked[revision.id] = _carries_mark(
                revision.id, lambda: Subject(meta, self.bodies(session, revision)), self.markings
            )
        return known

    def decide(self, session: Session, revision: GateSubject, channel: Channel, at: datetime) -> GateDecision:
        reasons: list[str] = []
        if (
            revision.article_id not in self.current or self.current[revision.article_id] != revision.id
        ) and revision.id not in self.standing:
            reasons.append("不是稿件的当前版本（已被修改） / not the article's current revision")
        if revision.article_id in self.retracted:
            reasons.append("已撤稿 / the article was retracted")
        state = self.states.get(revision.id)
        meta = self.metas.of(revision)
        if state is None:
            reasons.append("尚未提交审核 / never submitted for review")
        else:
            reasons.extend(self.signed.refusals(revision.id, meta))
        # A second lock behind review, on every delivery: the built-in marks and the newsroom's
        # list, in every shown field and the rendered body (a list changed after approval counts).
        if channel.external and (
            (state is not None and state[1]) or self.carries_mark(session, revision, meta)
        ):
            reasons.append(
                "带有密级标志，禁止对外发布 / carries a secrecy marking: blocked from external channels"
            )
        embargo = embargo_holds(meta, channel, at)
        if embargo is not None:
            reasons.append(embargo.reason)
        if not channel.enabled:
            reasons.append(f"渠道 {channel.name} 已停用 / the channel is disabled")
        excluded = channel_refusal(meta, channel.name)
        if excluded:
            reasons.append(excluded)
        return GateDecision.deny(*reasons) if reasons else GateDecision.allow()


class GateStamp(NamedTuple):
    """What may change about an article while a round waits for its due instants, as far as the gate
    reads it: the current revision, that revision's status row, its review acts, a retraction in
    force. Two equal stamps mean facts the gate gathered in between still hold (a revision itself
    never changes: its id is the hash of its text). A round gathers the facts once; each delivery
    reads a fresh stamp at its due time (one indexed query) and asks the gate afresh when it differs."""

    current: str | None
    status: str | None
    cycle: int | None
    stage_index: int | None
    secrecy_blocked: bool | None
    plan_json: str | None
    acts: int
    last_act: int | None
    retracted: bool
    # What the proof reads of each signer now (name, roles, committees, departments, kind): an
    # account edited in between changes it. Aggregated in no fixed order, so an equal stamp may
    # read as different (the gate is then asked afresh), never the other way round.
    signers: str | None


def stamp_query(which: ColumnElement[bool], *extra: Any) -> Select[Any]:
    """The stamps of the articles `which` selects: the article id, then the `GateStamp` columns,
    then `extra` (a caller's own cheap columns, read in the same query)."""
    current = col(Article.current_revision_id)
    acts = sa_select(func.count(), func.max(col(ReviewAct.id))).where(col(ReviewAct.revision_id) == current)
    return (
        sa_select(
            col(Article.id),
            current,
            col(ReviewState.status),
            col(ReviewState.cycle),
            col(ReviewState.stage_index),
            col(ReviewState.secrecy_blocked),
            col(ReviewState.plan_json),
            acts.with_only_columns(func.count()).scalar_subquery(),
            acts.with_only_columns(func.max(col(ReviewAct.id))).scalar_subquery(),
            col(Article.id).in_(in_force_ids()),
            _signers(current),
            *extra,
        )
        .select_from(Article)
        .outerjoin(ReviewState, col(ReviewState.revision_id) == current)
        .where(which)
    )


def _signers(current: Any) -> Any:
    """Every signer of the current revision's acts as the proof reads them, in one string."""
    sep = "\x1f"
    fields = [col(StaffUser.display_name), col(StaffUser.roles_json), col(StaffUser.committees_json)]
    fields += [col(StaffUser.departments_json), col(StaffUser.kind)]
    joined: Any = fields[0]
    for one in fields[1:]:
        joined = joined.op("||")(sep).op("||")(one)
    signer = col(ReviewAct.username).op("||")(sep).op("||")(func.coalesce(joined, "(gone)"))
    return (
        sa_select(func.aggregate_strings(signer, "\x1e"))
        .select_from(ReviewAct)
        .outerjoin(StaffUser, col(StaffUser.username) == col(ReviewAct.username))
        .where(col(ReviewAct.revision_id) == current)
        .scalar_subquery()
    )


def stamp_of(row: Sequence[Any]) -> GateStamp:
    """A row of `stamp_query` as its stamp (the article id and any extra columns left out)."""
    return GateStamp(
        row[1],
        row[2],
        row[3],
        row[4],
        None if row[5] is None else bool(row[5]),
        row[6],
        int(row[7]),
        row[8],
        bool(row[9]),
        row[10],
    )


def gate_stamps(session: Session, article_ids: Collection[int]) -> dict[int, GateStamp]:
    """Article id -> its stamp now."""
    rows = session.execute(stamp_query(col(Article.id).in_(list(article_ids))))
    return {row[0]: stamp_of(row) for row in rows}


@runtime_checkable
class KeepingGate(Protocol):
    """A gate that can be told which older revisions stay live (`keeping`)."""

    def keeping(self, revision_ids: frozenset[str]) -> Gate: ...


def keeping(gate: Gate, revision_ids: frozenset[str]) -> Gate:
    """The gate that also lets these superseded revisions through (every other rule still applies):
    the ones a site's release rule keeps live while a correction is in review (engine/release.py)."""
    return gate.keeping(revision_ids) if revision_ids and isinstance(gate, KeepingGate) else gate


_MARKED_CACHE_SIZE = 4096
_marked: dict[tuple[str, tuple[tuple[str, str, str], ...]], bool] = {}


def _markings_key(markings: SecrecyList) -> tuple[tuple[str, str, str], ...]:
    """A list's markings as plain values (name, pattern, scope): comparing the models themselves
    on every look-up cost more than the look-up."""
    return tuple((m.name, m.pattern, m.scope) for m in markings.marking)


# Held while an answer is worked out: the engine's lanes ask about the same revision at the same
# moment (a release to fifty partners), and each that found no answer yet rendered and screened the
# body again. The screening is CPU-bound, so lanes waiting here lose no time they could have used.
_marking = threading.Lock()


def _carries_mark(revision_id: str, subject: Callable[[], Subject], markings: SecrecyList) -> bool:
    """Whether a revision shows a marking of this list. A revision id is the hash of its text, so
    the answer is kept for the process: a site build asks about every article, each time."""
    key = (revision_id, _markings_key(markings))
    known = _marked.get(key)
    if known is None:
        with _marking:
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

    def __init__(
        self, markings: SecrecyList = BUILTIN_MARKINGS, standing: frozenset[str] = frozenset()
    ) -> None:
        self.markings = markings
        self.standing = standing

    def keeping(self, revision_ids: frozenset[str]) -> PublicationGate:
        return PublicationGate(self.markings, self.standing | revision_ids)

    def __call__(
        self, session: Session, revision: GateSubject, channel: Channel, at: datetime
    ) -> GateDecision:
        # One revision (a delivery, at its due time): by primary key, so rows the caller already
        # loaded into the session (the engine preloads a round's) cost no query, and the rest
        # (a retraction, the signed acts) is read at this moment.
        article = session.get(Article, revision.article_id)
        state = session.get(ReviewState, revision.id)
        rows: dict[str, StatusRow] = {} if state is None else {revision.id: state}
        facts = GateFacts(
            current={} if article is None else {revision.article_id: article.current_revision_id},
            retracted=set() if in_force(session, revision.article_id) is None else {revision.article_id},
            states={} if state is None else {revision.id: (state.status, bool(state.secrecy_blocked))},
            bodies=lambda _session, subject: subject.body,
            members=frozenset({revision.id}),
            markings=self.markings,
            standing=self.standing,
            signed=SignedActs.gather(session, rows),  # the acts: one query, at this moment
        )
        return facts.decide(session, revision, channel, at)

    def many(self, session: Session, revisions: Sequence[GateSubject]) -> Gate:
        facts = GateFacts.gather(session, revisions, self.markings)
        facts.standing = self.standing

        def gate(session: Session, revision: GateSubject, channel: Channel, at: datetime) -> GateDecision:
            if revision.id not in facts.members:
                return self(session, revision, channel, at)  # not one of the batch: ask directly
            return facts.decide(session, revision, channel, at)

        return gate


publication_gate = PublicationGate()
