"""Finding a channel's performer, and the simplest one (a webhook sink).

The contract itself (Receipt, the errors, the Performer protocols) lives in `publisher.delivery`,
which neither the engine nor a channel owns; it is re-exported here for the engine's older callers.
"""

from __future__ import annotations

import json

from publisher.channels.kinds import SinkSettings
from publisher.channels.registry import Channel
from publisher.delivery.contract import (
    BundlingPerformer,
    Deferred,
    DeliveryError,
    ParallelPerformer,
    Performer,
    PerformerFactory,
    Permanent,
    Receipt,
    Transient,
    Unknown,
)
from publisher.delivery.kinds import channel_kind
from publisher.delivery.push import PushLine
from publisher.newsroom import Newsroom
from publisher.store.tables import Delivery, Revision

__all__ = [
    "BundlingPerformer",
    "Deferred",
    "DeliveryError",
    "ParallelPerformer",
    "Performer",
    "PerformerFactory",
    "Permanent",
    "Receipt",
    "SinkPerformer",
    "Transient",
    "Unknown",
    "performer_for",
    "sink_performer",
]


def performer_for(newsroom: Newsroom, channel: Channel) -> Performer:
    kind = channel_kind(channel.kind)
    if kind is None:
        raise Permanent(
            f"渠道类型 {channel.kind} 尚不能自动发布 / no performer for channel kind {channel.kind}"
        )
    return kind.performer_factory()(newsroom, channel)


class SinkPerformer:
    """POSTs a small JSON envelope to a URL with an Idempotency-Key: a loopback sink for tests,
    benchmarks and demos, and the simplest real webhook. A takedown is the same envelope with
    `"action": "kill"`: the receiver removes what it took under that article.

    Kept-alive connections (`delivery/push.py`): a POST through httpx cost about three times the
    CPU, and a sink needs none of its features (no redirects, no auth, no HTTP/2), while the engine
    may send a thousand of these a second. Each POST stands alone, so the worker may send `parallel`
    at once (`ParallelPerformer`), a connection kept alive for each: a delivery then does not wait
    for the last one's answer."""

    retry_safe = True
    parallel = 2

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self._line = PushLine(url, timeout, keep=self.parallel)

    def perform(self, delivery: Delivery, revision: Revision) -> Receipt:
        return self._post(delivery, revision)

    def take_down(self, delivery: Delivery, revision: Revision) -> Receipt:
        return self._post(delivery, revision)

    def _post(self, delivery: Delivery, revision: Revision) -> Receipt:
        body = {
            "delivery": delivery.id,
            "channel": delivery.channel,
            "action": delivery.action,
            "revision": revision.id,
            "title": revision.title,
            "due": delivery.due_at.isoformat(),
        }
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": delivery.idempotency_key}
        answer = self._line.post(payload, headers)
        if answer.status == 429 or answer.status >= 500:
            raise Transient(
                f"HTTP {answer.status}", float(answer.retry_after) if answer.retry_after else None
            )
        if answer.status >= 400:
            raise Permanent(f"HTTP {answer.status}: {answer.body.decode('utf-8', 'replace')[:200]}")
        data = json.loads(answer.body) if answer.body else {}
        return Receipt(
            remote_id=str(data.get("id", delivery.idempotency_key)), url=data.get("url"), detail=data
        )

    def reconcile(self, delivery: Delivery) -> Receipt | None:
        return None  # retry_safe: sending again with the same key is the reconciliation

    def close(self) -> None:
        self._line.close()


def sink_performer(newsroom: Newsroom, channel: Channel) -> Performer:
    if not isinstance(channel.settings, SinkSettings):
        raise Permanent(f"{channel.name} 不是 sink 渠道 / is not a sink channel")
    return SinkPerformer(channel.settings.url)
