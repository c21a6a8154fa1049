"""Finding a channel's performer, and the simplest one (a webhook sink).

The contract itself (Receipt, the errors, the Performer protocols) lives in `publisher.delivery`,
which neither the engine nor a channel owns; it is re-exported here for the engine's older callers.
"""

from __future__ import annotations

import json
from http.client import HTTPConnection, HTTPException, HTTPSConnection, RemoteDisconnected
from urllib.parse import urlsplit

from publisher.channels.kinds import SinkSettings
from publisher.channels.registry import Channel
from publisher.delivery.contract import (
    BundlingPerformer,
    Deferred,
    DeliveryError,
    Performer,
    PerformerFactory,
    Permanent,
    Receipt,
    Transient,
    Unknown,
)
from publisher.delivery.kinds import channel_kind
from publisher.newsroom import Newsroom
from publisher.store.tables import Delivery, Revision

__all__ = [
    "BundlingPerformer",
    "Deferred",
    "DeliveryError",
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

    One kept-alive connection from the standard library's `http.client`: a POST through httpx cost
    about three times the CPU, and a sink needs none of its features (no redirects, no auth, no
    HTTP/2), while the engine may send a thousand of these a second."""

    retry_safe = True

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        parts = urlsplit(url)
        self._secure = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._timeout = timeout
        self._connection: HTTPConnection | None = None

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
        try:
            status, retry_after, content = self._exchange(payload, delivery.idempotency_key)
        except TimeoutError as exc:
            raise Unknown(f"timeout: {exc}") from None
        except (OSError, HTTPException) as exc:
            raise Transient(f"transport: {type(exc).__name__}: {exc}") from None
        if status == 429 or status >= 500:
            raise Transient(f"HTTP {status}", float(retry_after) if retry_after else None)
        if status >= 400:
            raise Permanent(f"HTTP {status}: {content.decode('utf-8', 'replace')[:200]}")
        data = json.loads(content) if content else {}
        return Receipt(
            remote_id=str(data.get("id", delivery.idempotency_key)), url=data.get("url"), detail=data
        )

    def _exchange(self, payload: bytes, key: str) -> tuple[int, str | None, bytes]:
        """One request and its whole response. A kept-alive connection the other side closed while
        idle fails on first use: that request is made once more on a new connection (with the same
        key, so a receiver that did see it counts it once)."""
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        while True:
            reused = self._connection is not None
            connection = self._connect()
            try:
                connection.request("POST", self._path, body=payload, headers=headers)
                response = connection.getresponse()
                content = response.read()
            except (RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused:
                    continue
                raise
            except BaseException:
                self.close()
                raise
            if response.will_close:
                self.close()
            return response.status, response.getheader("Retry-After"), content

    def _connect(self) -> HTTPConnection:
        if self._connection is None:
            kind = HTTPSConnection if self._secure else HTTPConnection
            self._connection = kind(self._host, self._port, timeout=self._timeout)
        return self._connection

    def reconcile(self, delivery: Delivery) -> Receipt | None:
        return None  # retry_safe: sending again with the same key is the reconciliation

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def sink_performer(newsroom: Newsroom, channel: Channel) -> Performer:
    if not isinstance(channel.settings, SinkSettings):
        raise Permanent(f"{channel.name} 不是 sink 渠道 / is not a sink channel")
    return SinkPerformer(channel.settings.url)
