"""What the engine needs from a channel at the due time: perform one delivery, say if a retry is safe.

Each channel kind registers a factory. A performer raises `Transient` for failures worth retrying
(5xx, timeouts before anything was accepted, rate limits), `Deferred` (a `Transient` that is no
failure: still in progress on the other side, or a quota spent until a known time), `Permanent` for ones that are not (4xx:
the partner's reason is kept), and `Unknown` when it cannot tell whether the other side acted
(a timeout after the request was sent). What happens next depends on `retry_safe`: a performer whose
deliveries carry an idempotency key the other side honours may simply try again; any other is
reconciled, never blindly re-sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from sqlmodel import Session

from publisher.channels.registry import Channel
from publisher.newsroom import Newsroom
from publisher.store.tables import Delivery, Revision


class DeliveryError(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Transient(DeliveryError):
    pass


class Deferred(Transient):
    """Not now, and nothing went wrong: come back at `retry_after` (the other side is still
    working on it, a daily quota is spent). Never counts as a failed attempt."""


class Permanent(DeliveryError):
    pass


class Unknown(DeliveryError):
    pass


@dataclass(frozen=True, slots=True)
class Receipt:
    remote_id: str
    url: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    # What the channel's own books must say once this delivery is done (e.g. the version a partner
    # now holds): written in the same transaction that marks the delivery done, never apart from it.
    ledger: Callable[[Session], None] | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> str:
        return json.dumps(
            {"remote_id": self.remote_id, "url": self.url, "detail": self.detail}, ensure_ascii=False
        )


class Performer(Protocol):
    retry_safe: bool

    def perform(self, delivery: Delivery, revision: Revision) -> Receipt: ...

    def reconcile(self, delivery: Delivery) -> Receipt | None:
        """After an unknown outcome: the receipt if the other side did act, None if it did not."""
        ...

    def close(self) -> None: ...


PerformerFactory = Callable[[Newsroom, Channel], Performer]
PERFORMERS: dict[str, PerformerFactory] = {}


def performer_for(newsroom: Newsroom, channel: Channel) -> Performer:
    factory = PERFORMERS.get(channel.kind)
    if factory is None:
        raise Permanent(
            f"渠道类型 {channel.kind} 尚不能自动发布 / no performer for channel kind {channel.kind}"
        )
    return factory(newsroom, channel)


class SinkPerformer:
    """POSTs a small JSON envelope to a URL with an Idempotency-Key: a loopback sink for tests,
    benchmarks and demos, and the simplest real webhook."""

    retry_safe = True

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.client = httpx.Client(timeout=timeout)

    def perform(self, delivery: Delivery, revision: Revision) -> Receipt:
        body = {
            "delivery": delivery.id,
            "channel": delivery.channel,
            "revision": revision.id,
            "title": revision.title,
            "due": delivery.due_at.isoformat(),
        }
        try:
            response = self.client.post(
                self.url, json=body, headers={"Idempotency-Key": delivery.idempotency_key}
            )
        except httpx.TimeoutException as exc:
            raise Unknown(f"timeout: {exc}") from None
        except httpx.TransportError as exc:
            raise Transient(f"transport: {exc}") from None
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = response.headers.get("Retry-After")
            raise Transient(f"HTTP {response.status_code}", float(retry_after) if retry_after else None)
        if response.status_code >= 400:
            raise Permanent(f"HTTP {response.status_code}: {response.text[:200]}")
        data = response.json() if response.content else {}
        return Receipt(
            remote_id=str(data.get("id", delivery.idempotency_key)), url=data.get("url"), detail=data
        )

    def reconcile(self, delivery: Delivery) -> Receipt | None:
        return None  # retry_safe: sending again with the same key is the reconciliation

    def close(self) -> None:
        self.client.close()


def _sink(newsroom: Newsroom, channel: Channel) -> Performer:
    url = getattr(channel.settings, "url", None)
    if not isinstance(url, str):
        raise Permanent("sink channel without url")
    return SinkPerformer(url)


PERFORMERS["sink"] = _sink


def _partner(newsroom: Newsroom, channel: Channel) -> Performer:
    # Imported here: the supply package builds on this module's errors and Receipt.
    from publisher.supply.performer import PartnerPerformer

    return PartnerPerformer(newsroom, channel)


PERFORMERS["partner"] = _partner
