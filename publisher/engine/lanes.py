"""How a round's lane takes its claims: one channel's claims in one lane, or shared by several.

A lane performs its claims one at a time, in due order, each checked at its due time and sent right
after (`DeliveryWorker._lane`). A channel whose performer takes several sends at once
(`ParallelPerformer`: a webhook) has its claims shared by that many lanes, each with its own thread,
session and due checks. Nothing about one delivery changes: its due check is still read just before
its own send, on its lane, so a change committed before the check stops the send exactly as in a lane
of its own. What changes is that the next delivery does not wait for the last one's answer. One
article's deliveries never overlap: a claim is handed out only while no other lane holds a claim of
its article, and always the earliest of that article's, so they still go one at a time in due
order (a takedown never overtakes the release before it)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from publisher.engine.claims import Claim


class LaneClaims:
    """A lane's claims, all its own, in due order."""

    def __init__(self, claims: list[Claim]) -> None:
        self.channel = claims[0].delivery.channel
        self._claims = claims

    def __iter__(self) -> Iterator[Claim]:
        return iter(self._claims)

    def unfinished(self) -> list[Claim]:
        """The lane failed: the claims it may not have settled (the caller skips those it did)."""
        return self._claims


class SharedClaims:
    """One channel's claims of a round, shared by several lanes (`turns`, one per lane)."""

    def __init__(self, claims: list[Claim]) -> None:
        self.channel = claims[0].delivery.channel
        self._pending = list(claims)  # in due order, as claimed
        self._busy: set[int] = set()  # articles a lane holds a claim of
        self._changed = threading.Condition()

    def turns(self) -> Turns:
        return Turns(self)

    def take(self, done: Claim | None) -> Claim | None:
        """`done` is finished with: the next claim whose article no other lane holds (waiting while
        every pending one's article is held), or None when none is left."""
        with self._changed:
            if done is not None:
                self._busy.discard(done.delivery.article_id)
                self._changed.notify_all()
            while self._pending:
                for n, claim in enumerate(self._pending):
                    # The first pending claim of an article is its earliest: taking it keeps the
                    # article's own due order.
                    if claim.delivery.article_id not in self._busy:
                        del self._pending[n]
                        self._busy.add(claim.delivery.article_id)
                        return claim
                self._changed.wait()
            return None

    def abandon(self, held: Claim | None) -> list[Claim]:
        """A lane failed holding `held`: it and every claim not yet handed out, taken from the
        other lanes (they finish the one they hold and stop), for the failed lane to give back."""
        with self._changed:
            rest, self._pending = self._pending, []
            if held is not None:
                self._busy.discard(held.delivery.article_id)
            self._changed.notify_all()
        return ([held] if held is not None else []) + rest


class Turns:
    """One lane's view of `SharedClaims`: iterating takes the next claim, after freeing the last."""

    def __init__(self, shared: SharedClaims) -> None:
        self.channel = shared.channel
        self._shared = shared
        self._held: Claim | None = None

    def __iter__(self) -> Iterator[Claim]:
        while (claim := self._shared.take(self._held)) is not None:
            self._held = claim
            yield claim
        self._held = None

    def unfinished(self) -> list[Claim]:
        held, self._held = self._held, None
        return self._shared.abandon(held)
