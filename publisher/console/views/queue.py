"""发布 queue: per channel, its releases and takedowns with state, reason, attempts and next try,
and what went out (the receipt; for a WeChat post, the article's URL from the post's own record).

A fixed number of queries per page: the counts, the total, the page, the posts its receipts name.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from publisher.console.views.common import NEWSROOM_TZ, Page, page_request
from publisher.delivery.states import DeliveryState
from publisher.errors import PublisherError
from publisher.store.tables import Article, Delivery, Revision, WechatPost
from publisher.timeutil import show


@dataclass(frozen=True, slots=True)
class Sent:
    """What the channel answered when the delivery was done."""

    remote_id: str
    url: str | None
    post_state: str | None = None  # a WeChat post's state (published, deleted, ...)


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: int
    slug: str
    title: str
    channel: str
    action: str  # publish | kill (a takedown)
    state: str
    due_at: datetime
    due_local: str
    attempts: int
    next_try_local: str | None  # while it waits to be claimed again
    reason: str | None
    revision_number: int | None  # the revision sent
    sent: Sent | None


@dataclass(frozen=True, slots=True)
class ChannelQueue:
    channel: str | None  # None: every channel
    states: tuple[str, ...]  # the filter; empty: every state
    counts: dict[str, dict[str, int]]  # channel -> state -> deliveries (the whole store)
    rows: tuple[QueueRow, ...]
    page: Page


def _states(states: Collection[str]) -> tuple[str, ...]:
    known = {s.value for s in DeliveryState}
    unknown = sorted(set(states) - known)
    if unknown:
        raise PublisherError(
            f"没有这种发布状态：{'、'.join(unknown)} / unknown delivery state: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"
        )
    return tuple(sorted(states))


def _post_url(post: WechatPost, slug: str) -> str | None:
    entries: list[dict[str, Any]] = json.loads(post.articles_json)
    return next((e.get("url") for e in entries if e.get("slug") == slug and e.get("url")), None)


def channel_queue(
    session: Session,
    channel: str | None = None,
    states: Collection[str] = (),
    page: int = 1,
    size: int = 50,
    tz: ZoneInfo = NEWSROOM_TZ,
) -> ChannelQueue:
    """One page of a channel's deliveries (every channel's with None), newest due first."""
    page, size = page_request(page, size)
    wanted = _states(states)
    counts: dict[str, dict[str, int]] = {}
    for name, state, n in session.execute(
        sql_select(col(Delivery.channel), col(Delivery.status), func.count()).group_by(
            col(Delivery.channel), col(Delivery.status)
        )
    ):
        counts.setdefault(name, {})[state] = n
    where = []
    if channel is not None:
        where.append(col(Delivery.channel) == channel)
    if wanted:
        where.append(col(Delivery.status).in_(wanted))
    total = session.execute(sql_select(func.count()).select_from(Delivery).where(*where)).scalar_one()
    sent_revision = aliased(Revision, name="sent_revision")
    rows = session.execute(
        sql_select(Delivery, col(Article.slug), col(Revision.title), col(sent_revision.number))
        .join(Article, col(Article.id) == col(Delivery.article_id))
        .join(Revision, col(Revision.id) == col(Article.current_revision_id), isouter=True)
        .join(sent_revision, col(sent_revision.id) == col(Delivery.revision_id), isouter=True)
        .where(*where)
        .order_by(col(Delivery.due_at).desc(), col(Delivery.id).desc())
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    receipts: dict[int, dict[str, Any]] = {
        d.id: json.loads(d.receipt_json) for d, *_ in rows if d.id is not None and d.receipt_json
    }
    # A WeChat receipt names its post by key; the post's record holds each article's URL.
    keys = {str(r.get("detail", {}).get("post_key") or r.get("remote_id")) for r in receipts.values()}
    posts = (
        {
            p.key: p
            for p in session.execute(sql_select(WechatPost).where(col(WechatPost.key).in_(keys))).scalars()
        }
        if keys
        else {}
    )
    out: list[QueueRow] = []
    for d, slug, title, number in rows:
        assert d.id is not None
        receipt = receipts.get(d.id)
        sent = None
        if receipt is not None:
            post = posts.get(str(receipt.get("detail", {}).get("post_key") or receipt.get("remote_id")))
            url = receipt.get("url") or (_post_url(post, slug) if post else None)
            sent = Sent(str(receipt.get("remote_id")), url, post.state if post else None)
        waiting = d.status == DeliveryState.SCHEDULED and d.next_attempt_at != d.due_at
        out.append(
            QueueRow(
                d.id,
                slug,
                title or slug,
                d.channel,
                d.action,
                d.status,
                d.due_at,
                show(d.due_at, tz),
                d.attempts,
                show(d.next_attempt_at, tz) if waiting else None,
                d.last_error,
                number,
                sent,
            )
        )
    return ChannelQueue(channel, wanted, counts, tuple(out), Page(page, size, total))
