"""The adapter protocol the site-building channels (website, feed) implement beneath their performer.

The engine drives every kind through `publisher.delivery.contract` (perform, take_down,
reconcile); this finer protocol is how the website and its feeds are built, in four steps:

- `check(revision)`: the channel's own limits, as Problems (nothing is sent);
- `render(revision)`: pure and deterministic; the same revision with the same settings gives the
  same bytes, so renditions can be cached, hashed and archived;
- `deliver(renditions)`: the side effect, idempotent under retry, batch-aware where the channel
  bundles (a site or a feed is rebuilt once for many articles);
- `retract(receipt)`: take a retracted piece down (a rebuild the gate leaves it out of).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from publisher.channels.registry import Channel
from publisher.delivery.contract import Permanent
from publisher.errors import Problem
from publisher.store.tables import Revision


@dataclass(frozen=True, slots=True)
class Rendition:
    """What one revision becomes on one channel: bytes plus what the bytes depend on."""

    channel: str
    revision_id: str
    slug: str
    media_type: str
    body: bytes
    # Images (or other files) the body refers to, by the name the channel serves them under.
    attachments: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def idempotency_key(self) -> str:
        """One delivery of this rendition on this channel: a retry carries the same key."""
        return hashlib.sha256(f"{self.channel}\0{self.revision_id}\0{self.sha256}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof of one delivery: where it went and what exactly was delivered."""

    channel: str
    revision_id: str
    slug: str
    idempotency_key: str
    remote_id: str
    url: str | None
    delivered_at: datetime
    details: dict[str, str] = field(default_factory=dict)


# A delivery an adapter refuses is the contract's Permanent failure; the old name stays for callers.
DeliveryError = Permanent


@runtime_checkable
class ChannelAdapter(Protocol):
    channel: Channel

    def check(self, revision: Revision) -> list[Problem]: ...

    def render(self, revision: Revision) -> Rendition: ...

    def deliver(self, renditions: Sequence[Rendition]) -> list[Receipt]: ...

    def retract(self, receipt: Receipt) -> None: ...
