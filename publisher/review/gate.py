"""The one publication gate every channel calls at the moment of delivery.

A revision may leave the building only when it is its article's current revision, fully approved
through the review chain, not withdrawn, not retracted (撤稿), not blocked by a secrecy marking (for
external channels), and past its embargo. One exception, wire practice: a partner outlet trusted
with embargoes receives the item early, marked with its embargo time (`embargo_waived`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from publisher.channels.registry import Channel
from publisher.review.checks import BUILTIN_MARKINGS, Subject, check_secrecy
from publisher.store.tables import Article, Retraction, ReviewState, Revision


@dataclass(frozen=True, slots=True)
class GateDecision:
    allowed: bool
    reasons: tuple[str, ...] = ()

    @classmethod
    def allow(cls) -> GateDecision:
        return cls(True)

    @classmethod
    def deny(cls, *reasons: str) -> GateDecision:
        return cls(False, reasons)


def embargo_waived(channel: Channel) -> bool:
    """A trusted partner gets embargoed items before the embargo lifts; every other channel waits."""
    return channel.kind == "partner" and bool(getattr(channel.settings, "trusted_for_embargo", False))


# Channels receive the gate as a parameter, so their tests can pass a fake one.
Gate = Callable[[Session, Revision, Channel, datetime], GateDecision]


def publication_gate(session: Session, revision: Revision, channel: Channel, at: datetime) -> GateDecision:
    """Decide, at the moment of delivery, whether this revision may go to this channel."""
    reasons: list[str] = []
    article = session.get(Article, revision.article_id)
    if article is None or article.current_revision_id != revision.id:
        reasons.append("不是稿件的当前版本（已被修改） / not the article's current revision")
    if session.get(Retraction, revision.article_id) is not None:
        reasons.append("已撤稿 / the article was retracted")
    state = session.get(ReviewState, revision.id)
    if state is None:
        reasons.append("尚未提交审核 / never submitted for review")
    elif state.status != "approved":
        reasons.append(f"审核未通过（{state.status}） / review is not complete: {state.status}")
    meta = json.loads(revision.meta_json)
    if channel.external:
        # A second lock behind review: the built-in classification marks, checked on every delivery.
        marks = check_secrecy(Subject(meta, revision.body), BUILTIN_MARKINGS)
        if marks or (state is not None and state.secrecy_blocked):
            reasons.append(
                "带有密级标志，禁止对外发布 / carries a secrecy marking: blocked from external channels"
            )
    embargo = meta.get("embargo")
    if (
        embargo
        and datetime.fromisoformat(embargo.replace("Z", "+00:00")) > at
        and not embargo_waived(channel)
    ):
        reasons.append(f"禁发至 {embargo} / embargoed until {embargo}")
    if not channel.enabled:
        reasons.append(f"渠道 {channel.name} 已停用 / the channel is disabled")
    return GateDecision.deny(*reasons) if reasons else GateDecision.allow()
