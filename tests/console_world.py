"""A small newsroom in every state the console shows, made through the real services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from publisher.engine.scheduling import schedule
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.service import ReviewService
from tests.factory import base_meta, write_article
from tests.review_helpers import approve, seed_users, sign_through

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Wednesday


@dataclass(frozen=True)
class World:
    scheduled: str  # approved, a website release planned
    in_review: str  # two stages signed
    draft: str
    rejected: str  # by 李静, sent back at the first stage
    finance: str  # another column and department, a draft


def build(room: Newsroom, now: datetime = NOW) -> World:
    write_article(
        room.content_dir,
        "rejected.md",
        base_meta("rejected-piece", title="退回的稿件", authors=["李静"]),
    )
    write_article(
        room.content_dir,
        "finance.md",
        base_meta(
            "finance-piece", title="预算审查监督", column="监督在线·实效追踪", department="预算工作委员会"
        ),
    )
    assert ingest(room).ok
    seed_users(room)
    service = ReviewService(room)
    approve(room, "article-1")
    schedule(room, "article-1", ["website"], now + timedelta(days=2), "zhouwb", now=now)
    service.submit("article-2", "zhouwb")
    sign_through(room, service, "article-2", stages=2)
    service.submit("rejected-piece", "lijing")
    service.reject("rejected-piece", "zhouwb", comment="导语太长，请压缩")
    return World("article-1", "article-2", "article-3", "rejected-piece", "finance-piece")
