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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from sqlalchemy import tuple_
from sqlmodel import Session, col, select

from publisher.channels.registry import Channel
from publisher.delivery.contract import Permanent, Receipt, Transient, Unknown
from publisher.delivery.states import DeliveryAction
from publisher.newsroom import Newsroom
from publisher.review.gate import embargo_holds, embargo_of
from publisher.site.media import Source
from publisher.store.tables import Delivery, Retraction, Revision, Supply
from publisher.supply import signing
from publisher.supply.ninjs import CORRECTION_NOTE, KILL_NOTE, Packager, Version, dumps, load_sources

USER_AGENT = "publisher-supply/1"


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


def partner_reason(response: httpx.Response) -> str:
    """The partner's own words for a refusal, so staff can act on them."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(data, dict):
        for key in ("reason", "error", "message", "detail"):
            if data.get(key):
                return str(data[key])[:300]
    return response.text[:300]


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class _SharedClients:
    """One httpx.Client (one connection pool, one TLS context) per timeout, shared by every partner
    performer of the process: building a client loads the CA bundle (~15 ms), and partners on the
    same host reuse kept-alive connections. Counted: the last performer to close closes it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[float, tuple[httpx.Client, int]] = {}
        self._pid = os.getpid()

    def acquire(self, timeout: float) -> httpx.Client:
        with self._lock:
            if self._pid != os.getpid():  # a forked child never shares its parent's sockets
                self._clients, self._pid = {}, os.getpid()
            client, users = self._clients.get(timeout, (None, 0))
            if client is None or client.is_closed:
                client, users = (
                    httpx.Client(timeout=httpx.Timeout(timeout), headers={"User-Agent": USER_AGENT}),
                    0,
                )
            self._clients[timeout] = (client, users + 1)
            return client

    def release(self, client: httpx.Client) -> None:
        with self._lock:
            for timeout, (held, users) in list(self._clients.items()):
                if held is client:
                    if users <= 1:
                        del self._clients[timeout]
                        client.close()
                    else:
                        self._clients[timeout] = (held, users - 1)
                    return
        client.close()  # not shared (never acquired here)


SHARED_CLIENTS = _SharedClients()


class PartnerPerformer:
    # Every push carries the delivery's Idempotency-Key, which partners dedupe on: re-sending after
    # an unknown outcome is how we reconcile.
    retry_safe = True

    def __init__(self, room: Newsroom, channel: Channel, client: httpx.Client | None = None) -> None:
        self.room = room
        self.channel = channel
        self.packager = Packager(room, channel)
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
        self._own_client = client is None
        self.client = client if client is not None else SHARED_CLIENTS.acquire(self.settings.timeout_seconds)

    # -- the engine's protocol --------------------------------------------------------------------
    def perform(self, delivery: Delivery, revision: Revision) -> Receipt:
        # The engine stamps updated_at with its own clock at the claim: the moment of this attempt.
        now = _aware(delivery.updated_at)
        with Session(self.room.engine) as session:
            row = session.exec(
                select(Supply).where(
                    Supply.partner == self.channel.name, Supply.article_id == delivery.article_id
                )
            ).first()
            if delivery.action == DeliveryAction.TAKE_DOWN:
                return self._kill(session, delivery, row)
            sources = _SOURCES.get(revision.id)
            if sources is None:
                sources = load_sources(session, revision.id)
                if len(_SOURCES) >= SOURCES_CACHED:
                    _SOURCES.clear()
                _SOURCES[revision.id] = sources
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
        meta = json.loads(revision.meta_json)
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
        package = self.packager.package(revision, sources, version)
        remote_id = self._post(package, delivery.idempotency_key, now) if self.push else None
        return Receipt(
            ledger=self._ledger(delivery, revision, version, remote_id, now),
            remote_id=remote_id or package["uri"],
            url=package["uri"],
            detail={
                "version": version.number,
                "pubstatus": "usable",
                "modes": list(self.settings.mode),
                **({"embargoed": package["embargoed"]} if early else {}),
                **({"ednote": version.ednote} if version.ednote else {}),
            },
        )

    def take_down(self, delivery: Delivery, revision: Revision) -> Receipt:
        with Session(self.room.engine) as session:
            row = session.exec(
                select(Supply).where(
                    Supply.partner == self.channel.name, Supply.article_id == delivery.article_id
                )
            ).first()
            return self._kill(session, delivery, row)

    def reconcile(self, delivery: Delivery) -> Receipt | None:
        return None  # retry_safe: sending again with the same key is the reconciliation

    def close(self) -> None:
        if self._own_client:
            SHARED_CLIENTS.release(self.client)
        else:
            self.client.close()

    # -- steps --------------------------------------------------------------------------------------
    def _kill(self, session: Session, delivery: Delivery, row: Supply | None) -> Receipt:
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
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": key,
            # Signed at each attempt: a retry is a fresh request, never a replay.
            **signing.sign(self.secret, body),
        }
        try:
            response = self.client.post(self.settings.endpoint, content=body, headers=headers)
        except httpx.ConnectTimeout as exc:
            raise Transient(f"连接超时 / connect timeout: {exc}") from None
        except httpx.TimeoutException as exc:
            # Sent, but no answer: the partner may have taken it. The key makes the retry safe.
            raise Unknown(f"超时 / timeout: {exc}") from None
        except httpx.TransportError as exc:
            raise Transient(f"网络错误 / transport: {exc}") from None
        status = response.status_code
        if status == 429:
            raise Transient(
                f"HTTP 429 限流 / rate limited: {partner_reason(response)}",
                retry_after(response.headers.get("Retry-After"), now),
            )
        if status >= 500:
            raise Transient(f"HTTP {status}: {partner_reason(response)}")
        if status >= 400:
            raise Permanent(f"HTTP {status} 合作媒体拒收 / refused: {partner_reason(response)}")
        try:
            data = response.json()
        except ValueError:
            data = {}
        remote = data.get("id") if isinstance(data, dict) else None
        return str(remote) if remote else key

    def _ledger(
        self, delivery: Delivery, revision: Revision, version: Version, remote_id: str | None, now: datetime
    ) -> Callable[[Session], None]:
        """What the partner now holds, written with the delivery's own finish (one transaction)."""
        return SupplyLedger(self.channel.name, delivery.article_id, revision.id, version, remote_id, now)


SUPPLY_ROWS = "publisher.supply.rows"  # session.info: the group's supply rows, read once by prefetch


@dataclass(frozen=True, slots=True)
class SupplyLedger:
    """The supply row's update after a delivery; `finish` calls `prefetch` once for its group."""

    partner: str
    article_id: int
    revision_id: str
    version: Version
    remote_id: str | None
    now: datetime

    @staticmethod
    def prefetch(session: Session, writes: list[Any]) -> None:
        """Read (and, on PostgreSQL, lock) every row the group will write, in one query."""
        keys = {(w.partner, w.article_id) for w in writes if isinstance(w, SupplyLedger)}
        if not keys:
            return
        rows = session.exec(
            select(Supply)
            .where(tuple_(col(Supply.partner), col(Supply.article_id)).in_(list(keys)))
            .order_by(col(Supply.id))
            .with_for_update()
        ).all()
        known: dict[tuple[str, int], Supply | None] = dict.fromkeys(keys)
        known.update({(r.partner, r.article_id): r for r in rows})
        session.info[SUPPLY_ROWS] = known

    def __call__(self, session: Session) -> None:
        key = (self.partner, self.article_id)
        known: dict[tuple[str, int], Supply | None] | None = session.info.get(SUPPLY_ROWS)
        if known is not None and key in known:
            row = known.pop(key)  # taken out: a write that fails reads the row afresh when retried
        else:
            row = session.exec(
                select(Supply)
                .where(Supply.partner == self.partner, Supply.article_id == self.article_id)
                .with_for_update()
            ).first()
        version = self.version
        if row is None:
            row = Supply(
                partner=self.partner,
                article_id=self.article_id,
                revision_id=self.revision_id,
                first_revision_id=self.revision_id,
                version=version.number,
                pubstatus="usable",
                first_supplied_at=self.now,
                updated_at=self.now,
            )
        elif row.version >= version.number:
            if known is not None:
                known[key] = row
            return  # a concurrent delivery recorded this or a newer version first
        row.revision_id, row.version, row.pubstatus = self.revision_id, version.number, version.pubstatus
        row.ednote, row.embargoed, row.updated_at = version.ednote, version.embargoed, self.now
        if self.remote_id:
            row.remote_id = self.remote_id
        session.add(row)
        session.flush()
        if known is not None:
            known[key] = row


# A revision's images never change (revisions are immutable), so every partner of a worker can share
# one lookup per revision.
SOURCES_CACHED = 4096
_SOURCES: dict[str, tuple[Source, ...]] = {}


def revision_slug(revision: Revision) -> str:
    slug: str = json.loads(revision.meta_json)["slug"]
    return slug


def make_partner_performer(room: Newsroom, channel: Channel) -> PartnerPerformer:
    return PartnerPerformer(room, channel)
