"""The engine's performer for kind "partner": record the version in the partner's pull feed and/or
POST it, signed, to the partner's endpoint.

Which version goes is decided here, from what the partner already holds (the `supply` row): the
first delivery sends version 1; a later, corrected revision goes as an update with ednote 更正;
the same revision again is not sent twice. A takedown sends the retraction notice (push) and turns
the pull feed's entry into a tombstone, in the same transaction that marks the takedown done.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple, ParamSpec, TypeVar

from sqlalchemy import Connection, Table, bindparam, func, insert, tuple_, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import object_session
from sqlmodel import Session

from publisher.channels.registry import Channel
from publisher.delivery.contract import DeliveryError, Permanent, Receipt, Transient
from publisher.delivery.push import PushLine
from publisher.delivery.states import DeliveryAction
from publisher.newsroom import Newsroom
from publisher.review.gate import embargo_holds, embargo_of
from publisher.site.media import Source
from publisher.store.tables import Delivery, Retraction, Revision, Supply
from publisher.supply import signing
from publisher.supply.ninjs import (
    CORRECTION_NOTE,
    KILL_NOTE,
    Packager,
    Version,
    dumps,
    load_sources,
    revision_meta,
)

USER_AGENT = "publisher-supply/1"
P = ParamSpec("P")
T = TypeVar("T")
# Rendered body fragments go to the shared render cache in groups: a commit per fragment cost as
# much as the push itself. Unwritten ones are only a cache's loss, rendered again when needed.
FRAGMENTS_FLUSHED_EVERY = 32
# A partner's releases due at one instant, at most this many per bundle, pushed at most
# PUSHES_AT_ONCE at a time (its kept-alive connections): a partner's server is not ours to flood.
BUNDLE = 16
PUSHES_AT_ONCE = 4


def retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


def partner_reason(body: bytes) -> str:
    """The partner's own words for a refusal, so staff can act on them."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(body)
    except ValueError:
        return text[:300]
    if isinstance(data, dict):
        for key in ("reason", "error", "message", "detail"):
            if data.get(key):
                return str(data[key])[:300]
    return text[:300]


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dataclass(frozen=True, slots=True)
class _Push:
    """A version decided and packaged for one delivery: all that is left is to send it."""

    delivery: Delivery
    revision: Revision
    version: Version
    package: dict[str, Any]
    now: datetime


class PartnerPerformer:
    # Every push carries the delivery's Idempotency-Key, which partners dedupe on: re-sending after
    # an unknown outcome is how we reconcile.
    retry_safe = True
    # A partner's releases due at one instant go as one bundle: what the partner holds of them read
    # in one query, then their pushes sent side by side, each still its own request (key, signature,
    # outcome). The engine bundles only publishes, never a takedown.
    bundle = BUNDLE

    def __init__(self, room: Newsroom, channel: Channel) -> None:
        self.room = room
        self.channel = channel
        self.packager = Packager(room, channel, flush_every=FRAGMENTS_FLUSHED_EVERY)
        self.settings = self.packager.settings
        self.push = "push" in self.settings.mode
        self.secret: str | None = None
        if self.push:
            assert self.settings.secret_env is not None
            self.secret = os.environ.get(self.settings.secret_env)
            if not self.secret:
                raise Permanent(
                    f"环境变量 {self.settings.secret_env} 未设置，无法签名 / the signing secret is not set"
                )
        # Kept-alive connections to the partner, as many as pushes may run at once (see push.py).
        self.line = PushLine(
            self.settings.endpoint or "/", self.settings.timeout_seconds, keep=PUSHES_AT_ONCE
        )
        self._senders: ThreadPoolExecutor | None = None
        self._senders_lock = threading.Lock()

    # -- the engine's protocol --------------------------------------------------------------------
    def perform(self, delivery: Delivery, revision: Revision) -> Receipt:
        if delivery.action == DeliveryAction.TAKE_DOWN:
            return self.take_down(delivery, revision)
        with _reading(revision, self.room) as session:
            row = self._supply_row(session, delivery)
            sources = _sources(session, revision.id)
        step = self._decide(delivery, revision, row, sources)
        return step if isinstance(step, Receipt) else self._send(step)

    def perform_bundle(self, items: list[tuple[Delivery, Revision]]) -> list[Receipt | DeliveryError]:
        """One result per item, in order. Each push is decided and packaged here, on the engine's
        thread (the session and the render cache are not shared across threads); only the sends
        run side by side, at most `PUSHES_AT_ONCE` at a time."""
        articles = [d.article_id for d, _ in items]
        if len(set(articles)) < len(articles) or any(d.action != DeliveryAction.PUBLISH for d, _ in items):
            # Two versions of one article must go in order; a takedown goes on its own.
            return [_caught(self.perform, d, r) for d, r in items]
        with _reading(items[0][1], self.room) as session:
            held = self._held_rows(session, articles)
            sources = {r.id: _sources(session, r.id) for _, r in items}
        results: list[Receipt | DeliveryError | None] = [None] * len(items)
        pushes: list[tuple[int, _Push]] = []
        for i, (d, r) in enumerate(items):
            step = _caught(self._decide, d, r, held.get(d.article_id), sources[r.id])
            if isinstance(step, _Push):
                pushes.append((i, step))
            else:
                results[i] = step
        if len(pushes) == 1:
            [(i, push)] = pushes
            results[i] = _caught(self._send, push)
        elif pushes:
            sent = self._sender_pool().map(lambda p: _caught(self._send, p), [p for _, p in pushes])
            for (i, _), result in zip(pushes, sent, strict=True):
                results[i] = result
        return [r for r in results if r is not None]

    def take_down(self, delivery: Delivery, revision: Revision) -> Receipt:
        with _reading(revision, self.room) as session:
            return self._kill(session, delivery, self._supply_row(session, delivery))

    def reconcile(self, delivery: Delivery) -> Receipt | None:
        return None  # retry_safe: sending again with the same key is the reconciliation

    def close(self) -> None:
        self.packager.flush()
        if self._senders is not None:
            self._senders.shutdown()
        self.line.close()

    def _sender_pool(self) -> ThreadPoolExecutor:
        with self._senders_lock:
            if self._senders is None:
                self._senders = ThreadPoolExecutor(
                    PUSHES_AT_ONCE, thread_name_prefix=f"push-{self.channel.name}"
                )
            return self._senders

    def _decide(
        self, delivery: Delivery, revision: Revision, row: Held | None, sources: tuple[Source, ...]
    ) -> Receipt | _Push:
        """Which version goes, from what the partner holds: a receipt when nothing is to be sent,
        the package to send otherwise; a refusal or an embargo raises."""
        # The engine stamps updated_at with its own clock at the claim: the moment of this attempt.
        now = _aware(delivery.updated_at)
        refusal = self.packager.refusal(revision)
        if refusal:
            raise Permanent(refusal)
        if row is not None and row.pubstatus == "canceled":
            raise Permanent("已撤稿，不再供稿 / the article was retracted")
        if row is not None and row.revision_id == revision.id:
            # The partner holds this very version already: nothing is sent, nothing counted twice.
            return Receipt(
                remote_id=row.remote_id or self.packager.uri(revision_slug(revision)),
                detail={"version": row.version, "already_supplied": True},
            )
        meta = revision_meta(revision)
        held = embargo_holds(meta, self.channel, now)
        if held is not None:  # the gate already refused; belt and braces
            raise Transient("禁发中 / embargoed", (held.until - now).total_seconds())
        # Not held yet not lifted: a partner trusted with embargoes gets it early, marked with the time.
        embargo = embargo_of(meta)
        early = embargo.until if embargo is not None and embargo.until > now else None
        version = Version(
            number=row.version + 1 if row is not None else 1,
            pubstatus="usable",
            versioncreated=_aware(revision.created_at),
            ednote=CORRECTION_NOTE if row is not None else None,
            embargoed=early,
        )
        return _Push(delivery, revision, version, self.packager.package(revision, sources, version), now)

    def _send(self, push: _Push) -> Receipt:
        delivery, version, package = push.delivery, push.version, push.package
        remote_id = self._post(package, delivery.idempotency_key, push.now) if self.push else None
        return Receipt(
            ledger=self._ledger(delivery, push.revision, version, remote_id, push.now),
            remote_id=remote_id or package["uri"],
            url=package["uri"],
            detail={
                "version": version.number,
                "pubstatus": "usable",
                "modes": list(self.settings.mode),
                **({"embargoed": package["embargoed"]} if version.embargoed else {}),
                **({"ednote": version.ednote} if version.ednote else {}),
            },
        )

    # -- steps --------------------------------------------------------------------------------------
    def _supply_row(self, session: Session, delivery: Delivery) -> Held | None:
        """What the partner holds of this article now. Read fresh at every attempt (another worker
        may have supplied a version since), never cached; a plain row, no ORM object to build."""
        bind = session.get_bind()
        if isinstance(bind, Connection):
            # The engine's lane session, on a connection of its own: read on the driver's cursor.
            return held_row(bind, self.channel.name, delivery.article_id)
        row = (
            session.connection()
            .execute(_HELD, {"partner": self.channel.name, "article_id": delivery.article_id})
            .first()
        )
        return None if row is None else Held(*row)

    def _held_rows(self, session: Session, articles: list[int]) -> dict[int, Held]:
        """What the partner holds of each of these articles, in one query (fresh, as above)."""
        rows = session.connection().execute(_HELD_MANY, {"partner": self.channel.name, "articles": articles})
        return {article_id: Held(*rest) for article_id, *rest in rows}

    def _kill(self, session: Session, delivery: Delivery, row: Held | None) -> Receipt:
        """The retraction notice: the version the partner holds, one up, pubstatus canceled. Sent
        again (a retry) it is the same version with the same key: the partner counts it once."""
        if row is None:
            return Receipt(remote_id="not-supplied", detail={"skipped": "从未供稿 / never supplied"})
        held = session.get(Revision, row.revision_id)
        retraction = session.get(Retraction, delivery.article_id)
        assert held is not None
        when = _aware(retraction.retracted_at) if retraction else _aware(delivery.updated_at)
        if row.pubstatus == "canceled":
            version = Version(row.version, "canceled", when, row.ednote)
        else:
            why = f"（{retraction.reason}）" if retraction else ""
            version = Version(row.version + 1, "canceled", when, f"{KILL_NOTE}{why}")
        package = self.packager.package(held, (), version)
        remote_id = (
            self._post(package, delivery.idempotency_key, _aware(delivery.updated_at)) if self.push else None
        )
        return Receipt(
            ledger=SupplyLedger(
                self.channel.name, delivery.article_id, row.revision_id, version, remote_id, when
            ),
            remote_id=remote_id or package["uri"],
            url=package["uri"],
            detail={"version": version.number, "pubstatus": "canceled"},
        )

    def _post(self, package: dict[str, Any], key: str, now: datetime) -> str:
        assert self.settings.endpoint is not None and self.secret is not None
        body = dumps(package)
        headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": key,
            # Signed at each attempt: a retry is a fresh request, never a replay.
            **signing.sign(self.secret, body),
        }
        answer = self.line.post(body, headers)
        status = answer.status
        if status == 429:
            raise Transient(
                f"HTTP 429 限流 / rate limited: {partner_reason(answer.body)}",
                retry_after(answer.retry_after, now),
            )
        if status >= 500:
            raise Transient(f"HTTP {status}: {partner_reason(answer.body)}")
        if status >= 400:
            raise Permanent(f"HTTP {status} 合作媒体拒收 / refused: {partner_reason(answer.body)}")
        try:
            data = json.loads(answer.body)
        except ValueError:
            data = {}
        remote = data.get("id") if isinstance(data, dict) else None
        return str(remote) if remote else key

    def _ledger(
        self, delivery: Delivery, revision: Revision, version: Version, remote_id: str | None, now: datetime
    ) -> Callable[[Session], None]:
        """What the partner now holds, written with the delivery's own finish (one transaction)."""
        return SupplyLedger(self.channel.name, delivery.article_id, revision.id, version, remote_id, now)


SUPPLY: Table = Supply.__table__  # type: ignore[attr-defined]
S = SUPPLY.c


class Held(NamedTuple):
    """What a partner holds of one article: the columns a push decides on."""

    revision_id: str
    version: int
    pubstatus: str
    ednote: str | None
    remote_id: str | None


# Built once: a statement built per delivery cost more CPU (construction and cache key) than its
# round trip to the database.
_HELD = sa_select(S.revision_id, S.version, S.pubstatus, S.ednote, S.remote_id).where(
    S.partner == bindparam("partner"), S.article_id == bindparam("article_id")
)


class _DriverHeld(NamedTuple):
    """`_HELD` in the driver's own SQL, and how it takes its two parameters."""

    sql: str
    order: tuple[str, ...] | None  # the parameters' names in order, for a driver that numbers them


_driver_held: dict[tuple[str, str], _DriverHeld] = {}  # by dialect and driver


def held_row(connection: Connection, partner: str, article_id: int) -> Held | None:
    """`_HELD` executed on the driver's cursor of `connection`, compiled once per dialect: the
    SQLAlchemy work per execution (and, outside a transaction, the BEGIN the session's layer emits
    and the ROLLBACK that ends it) cost more CPU than the indexed query, once per delivery. Inside
    the connection's transaction it reads what a statement through SQLAlchemy would; outside one,
    SQLite's driver runs in autocommit (store/engine.py) and reads what is committed now, as
    PostgreSQL does at every statement. The columns are strings and integers: no result processing
    is skipped."""
    dialect = connection.dialect
    key = (dialect.name, dialect.driver)
    known = _driver_held.get(key)
    if known is None:
        state = _HELD.compile(dialect=dialect).construct_expanded_state({"partner": "", "article_id": 0})
        known = _driver_held[key] = _DriverHeld(
            state.statement, None if state.positiontup is None else tuple(state.positiontup)
        )
    values = {"partner": partner, "article_id": article_id}
    parameters = values if known.order is None else tuple(values[name] for name in known.order)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(known.sql, parameters)
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None else Held(*row)


_HELD_MANY = sa_select(S.article_id, S.revision_id, S.version, S.pubstatus, S.ednote, S.remote_id).where(
    S.partner == bindparam("partner"), S.article_id.in_(bindparam("articles", expanding=True))
)
# The version each (partner, article) of a group holds, its row locked on PostgreSQL.
_HELD_VERSIONS = (
    sa_select(S.partner, S.article_id, S.version)
    .where(tuple_(S.partner, S.article_id).in_(bindparam("keys", expanding=True)))
    .order_by(S.id)
    .with_for_update()
)
_INSERT = insert(SUPPLY)
# One statement for every update of a group, so that executed together they keep their order: a
# write without a remote id (a pull-only partner) leaves the one recorded before.
_UPDATE = (
    update(SUPPLY)
    .where(S.partner == bindparam("k_partner"), S.article_id == bindparam("k_article"))
    .values(
        {
            **{c: bindparam(c) for c in ("revision_id", "version", "pubstatus", "ednote", "embargoed")},
            "updated_at": bindparam("updated_at"),
            "remote_id": func.coalesce(bindparam("remote_id", type_=S.remote_id.type), S.remote_id),
        }
    )
)


@dataclass(frozen=True, slots=True)
class SupplyLedger:
    """The supply row's update after a delivery. `finish` hands over its whole group at once
    (`write_group`): the rows read (and locked) in one query, then one INSERT for the articles the
    partner never held and one UPDATE for the others, each executed for all its rows."""

    partner: str
    article_id: int
    revision_id: str
    version: Version
    remote_id: str | None
    now: datetime

    def __call__(self, session: Session) -> None:
        """This write alone: its row read afresh (the engine's path after a conflict)."""
        self.write_group(session, [self])

    def write_group(self, session: Session, writes: list[Any]) -> None:
        """Every write of the group, in order; a write whose version the partner already holds
        (or a newer one: a concurrent delivery recorded it first) writes nothing."""
        group: list[SupplyLedger] = [w for w in writes if isinstance(w, SupplyLedger)]
        keys = list({(w.partner, w.article_id) for w in group})
        known: dict[tuple[str, int], int] = {
            (r.partner, r.article_id): r.version for r in session.execute(_HELD_VERSIONS, {"keys": keys})
        }
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for w in group:
            key = (w.partner, w.article_id)
            held = known.get(key)
            if held is not None and held >= w.version.number:
                continue
            # An article's first write is its only INSERT: every later one of the group is an
            # UPDATE, and all the INSERTs go before the UPDATEs.
            (inserts if held is None else updates).append(w._values(insert=held is None))
            known[key] = w.version.number
        connection = session.connection()
        if inserts:
            connection.execute(_INSERT, inserts)
        if updates:
            connection.execute(_UPDATE, updates)

    def _values(self, *, insert: bool) -> dict[str, Any]:
        version = self.version
        values: dict[str, Any] = {
            "revision_id": self.revision_id,
            "version": version.number,
            "pubstatus": version.pubstatus,
            "ednote": version.ednote,
            "embargoed": version.embargoed,
            "updated_at": self.now,
            "remote_id": self.remote_id or None,
        }
        if insert:
            values.update(
                partner=self.partner,
                article_id=self.article_id,
                first_revision_id=self.revision_id,
                first_supplied_at=self.now,
            )
        else:
            values.update(k_partner=self.partner, k_article=self.article_id)
        return values


# A revision's images never change (revisions are immutable), so every partner of a worker can share
# one lookup per revision.
SOURCES_CACHED = 4096
_SOURCES: dict[str, tuple[Source, ...]] = {}


def _sources(session: Session, revision_id: str) -> tuple[Source, ...]:
    sources = _SOURCES.get(revision_id)
    if sources is None:
        sources = load_sources(session, revision_id)
        if len(_SOURCES) >= SOURCES_CACHED:
            _SOURCES.clear()
        _SOURCES[revision_id] = sources
    return sources


def _caught(step: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | DeliveryError:
    """One item's step, its DeliveryError as its result: a bundle's items end each on their own."""
    try:
        return step(*args, **kwargs)
    except DeliveryError as exc:
        return exc


def revision_slug(revision: Revision) -> str:
    slug: str = revision_meta(revision)["slug"]
    return slug


@contextmanager
def _reading(revision: Revision, room: Newsroom) -> Iterator[Session]:
    """The session the engine loaded the revision in (its lane's, on this very thread), or a short
    one of our own when the revision came from elsewhere. A second session per delivery meant a
    second pooled connection per lane: with many partner lanes at once the pool ran dry and lanes
    waited for each other's connections until they timed out."""
    session = object_session(revision)
    if isinstance(session, Session):
        yield session
        return
    with Session(room.engine) as own:
        yield own


def make_partner_performer(room: Newsroom, channel: Channel) -> PartnerPerformer:
    return PartnerPerformer(room, channel)
