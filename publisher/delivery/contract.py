"""What the engine needs from a channel at the due time, and what a channel may answer.

Every channel kind (website, feed, wechat, partner, sink, and any a third party registers) is
driven through these protocols and nothing else, so the engine never asks what kind it drives.

A performer answers with a `Receipt`, or raises one of these::

    DeliveryError            the attempt did not succeed; `reason` is for staff, both languages
     ├── Permanent           trying again will not help (a 4xx, a refusal): a person decides
     ├── Transient           worth trying again, after `retry_after` seconds if the other side said
     │    └── Deferred       not now and nothing went wrong (still publishing, a daily quota spent):
     │                       come back at `retry_after`; never counts as a failed attempt
     └── Unknown             the request left, the answer did not come back: it may have acted

What the engine does after `Unknown` depends on `retry_safe`: a performer whose requests carry an
idempotency key the other side honours may simply try again; any other is reconciled (asked what
became of the attempt), never blindly sent twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    # Types only: the factory's arguments (no import of a channel or the newsroom), and the store's
    # session and rows, so that importing the delivery states loads no ORM (store/listings.py).
    from datetime import datetime

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


Ledger = Callable[["Session"], None]


@runtime_checkable
class GroupLedger(Protocol):
    """A ledger write that is written with the others of its kind in the group the engine records
    together: `write_group` reads the rows they need in one query and writes them in one statement
    each kind of write, in order. Should it fail for a conflict with another worker (a row inserted
    meanwhile), the engine writes the group again one by one, each write on its own."""

    def __call__(self, session: Session) -> None: ...

    def write_group(self, session: Session, writes: list[Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the engine records of a delivery that was done (a release or a takedown)."""

    remote_id: str
    url: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    # What the channel's own books must say once this delivery is done (e.g. the version a partner
    # now holds): written in the same transaction that marks the delivery done, never apart from it.
    ledger: Ledger | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> str:
        return json.dumps(
            {"remote_id": self.remote_id, "url": self.url, "detail": self.detail}, ensure_ascii=False
        )


@runtime_checkable
class Performer(Protocol):
    """One channel account as the engine drives it. Every method may raise a `DeliveryError`."""

    retry_safe: bool

    def perform(self, delivery: Delivery, revision: Revision) -> Receipt:
        """Publish `revision` (the article's current one); idempotent under `delivery.idempotency_key`."""
        ...

    def take_down(self, delivery: Delivery, revision: Revision) -> Receipt:
        """Remove the article from the channel (撤稿); doing it twice does no more than once."""
        ...

    def reconcile(self, delivery: Delivery) -> Receipt | None:
        """After an unknown outcome: the receipt if the other side did act, None if it did not."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class BundlingPerformer(Performer, Protocol):
    """A performer that sends releases due together as one (a WeChat push carries up to 8)."""

    bundle: int  # the most deliveries one send carries

    def perform_bundle(self, items: list[tuple[Delivery, Revision]]) -> list[Receipt | DeliveryError]:
        """One result per item, in order: a receipt, or the error that item ended with."""
        ...


@runtime_checkable
class ParallelPerformer(Performer, Protocol):
    """A performer that takes several of its channel's sends at once, from as many threads (a
    webhook: each request stands alone). The worker then shares the channel's claims of a round
    among that many lanes (`engine/lanes.py`): each delivery is still checked at its due time and
    sent right after, and one article's deliveries still go one at a time in due order."""

    parallel: int  # the most sends in flight at once


@runtime_checkable
class TimedPerformer(Performer, Protocol):
    """A performer that judges the time itself (WeChat: the account's quiet hours, its daily quota).
    It must read the engine's clock, not the wall: under a compressed or fixed clock (the demo, the
    tests, a catch-up) the wall's hour says nothing about the release's."""

    def use_clock(self, now: Callable[[], datetime]) -> None:
        """From now on, ask `now` for the time."""
        ...


PerformerFactory = Callable[["Newsroom", "Channel"], Performer]
