"""What the calendar and the queue share about a release: its state as staff read it, and the
release named in a form, found with its article's slug (one query)."""

from __future__ import annotations

from sqlmodel import col, select

from publisher.errors import NotFound
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import Article, Delivery

STATE_LABELS = {
    "scheduled": "待发",
    "claimed": "发送中",
    "done": "已发",
    "failed": "失败",
    "held": "暂缓",
    "missed": "错过",
    "canceled": "已取消",
    "unknown": "待核对",
}


def release_of(room: Newsroom, delivery_id: int) -> tuple[Delivery, str]:
    with read_session(room.engine) as session:
        found = session.exec(
            select(Delivery, Article.slug)
            .join(Article, col(Article.id) == col(Delivery.article_id))
            .where(Delivery.id == delivery_id)
        ).first()
    if found is None:
        raise NotFound(f"没有这项发布 / no release #{delivery_id}")
    return found[0], found[1]
