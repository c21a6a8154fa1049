"""What a notice is about, and the states of an outward message with the one table of steps.

(new) ─QUEUE─▶ pending ─SEND─▶ sent
                 │ ├─RETRY─▶ pending (a transient error: later, with backoff)
                 │ └─GIVE_UP─▶ failed (a permanent error, or the last attempt)
                 failed ─REQUEUE─▶ pending (a person sends it again: `publisher notify send --again`)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from typing import NamedTuple

EMAIL = "email"  # the outbox channel of e-mail; webhooks go by their own names


class NoticeKind(StrEnum):
    REVIEW_WAITING = "review_waiting"  # a piece reached a stage this person may sign
    REJECTED = "rejected"  # the author's piece was sent back, with the comment
    APPROVED = "approved"  # the author's piece passed the whole chain
    DELIVERY_FAILED = "delivery_failed"
    DELIVERY_HELD = "delivery_held"
    DELIVERY_MISSED = "delivery_missed"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class IllegalTransition(Exception):
    pass


class _Edge(NamedTuple):
    sources: frozenset[OutboxState]  # empty: the step creates the message
    target: OutboxState
    audit: str  # the audit action; "" when the step is bookkeeping, not an event


_S = OutboxState


class OutboxStep(Enum):
    QUEUE = _Edge(frozenset(), _S.PENDING, "")
    SEND = _Edge(frozenset({_S.PENDING}), _S.SENT, "notify.sent")
    RETRY = _Edge(frozenset({_S.PENDING}), _S.PENDING, "notify.retry")
    GIVE_UP = _Edge(frozenset({_S.PENDING}), _S.FAILED, "notify.failed")
    REQUEUE = _Edge(frozenset({_S.FAILED}), _S.PENDING, "notify.requeue")

    @property
    def sources(self) -> frozenset[OutboxState]:
        return self.value.sources

    @property
    def target(self) -> OutboxState:
        return self.value.target

    @property
    def audit(self) -> str:
        return self.value.audit

    def apply(self, state: str | None) -> OutboxState:
        """The state after this step from `state`, or IllegalTransition."""
        allowed = not self.sources if state is None else state in self.sources
        if not allowed:
            raise IllegalTransition(f"{self.name} cannot start from {state or '(new)'}")
        return self.target


@dataclass(frozen=True, slots=True)
class Announcement:
    """One event to tell some people about. `ref` names the event: told once per person."""

    kind: NoticeKind
    recipients: tuple[str, ...]  # usernames
    title: str
    body: str
    ref: str
    link: str | None = None


@dataclass(frozen=True, slots=True)
class NoticeView:
    """A notice as the console shows it; times in UTC (the page shows them in the newsroom's zone)."""

    id: int
    kind: NoticeKind
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None
