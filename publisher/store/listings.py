"""The quick listings staff run from a fresh process (`publisher queue`, `publisher articles`),
read through SQLAlchemy Core alone.

Importing SQLModel and defining the 33 table classes of `tables.py` costs a fresh `publisher ...`
more than everything else it does, and an ORM query first configures every mapper. The listings
need neither: they read a few columns of a few tables as plain rows. So this module names those
columns as light clauses (`sqlalchemy.table()`, `column()`: no metadata, no mapper), each with the
type its table declares, and owns the queries over them. `tests/test_store_listings.py` holds every
clause to the column of the same name in `tables.py`, so a renamed or retyped column fails there.
A statement built from these clauses also runs in an ORM session, for the readers that have one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

from sqlalchemy import Connection, Integer, String, Text, column, select, table

from publisher.delivery.states import DeliveryState
from publisher.store.types import UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# What the listings read through: a Core connection, or the ORM session a reader already has.
Reader: TypeAlias = "Connection | Session"

article = table(
    "article",
    column("id", Integer),
    column("slug", String),
    column("source", String),
    column("current_revision_id", String),
    column("revision_count", Integer),
)
revision = table(
    "revision",
    column("id", String),
    column("article_id", Integer),
    column("number", Integer),
    column("title", String),
    column("column", String),
    column("kind", String),
    column("dated_at", UTCDateTime()),
    column("body", Text),
)
review_state = table(
    "review_state",
    column("revision_id", String),
    column("status", String),
    column("stage_index", Integer),
    column("plan_json", Text),
)
delivery = table(
    "delivery",
    column("id", Integer),
    column("article_id", Integer),
    column("revision_id", String),
    column("channel", String),
    column("due_at", UTCDateTime()),
    column("next_attempt_at", UTCDateTime()),
    column("status", String),
    column("action", String),
    column("attempts", Integer),
    column("last_error", Text),
    column("campaign", String),
    column("slot_number", Integer),
)

retraction = table(
    "retraction",
    column("article_id", Integer),
    column("retracted_at", UTCDateTime()),
)
reinstatement = table(
    "reinstatement",
    column("article_id", Integer),
    column("reinstated_at", UTCDateTime()),
)

S = DeliveryState
# What the queue shows: every release not finished, and those that failed or were missed.
QUEUED = (S.SCHEDULED, S.CLAIMED, S.HELD, S.UNKNOWN, S.FAILED, S.MISSED)


class QueuedDelivery(NamedTuple):
    """The delivery columns the queue shows."""

    id: int
    channel: str
    due_at: datetime
    status: str
    action: str
    attempts: int
    last_error: str | None
    campaign: str | None
    slot_number: int | None


@dataclass(frozen=True, slots=True)
class QueueRow:
    delivery: QueuedDelivery
    slug: str
    title: str
    approved: bool


def due_queue(conn: Connection, include_done: bool = False) -> list[QueueRow]:
    """Releases not yet finished (or all), by channel and time; only the shown columns are read
    (a revision row carries its body)."""
    statuses = [*QUEUED, S.DONE] if include_done else list(QUEUED)
    rows = conn.execute(
        select(
            *(delivery.c[name] for name in QueuedDelivery._fields),
            article.c.slug,
            revision.c.title,
            review_state.c.status.label("review_status"),
        )
        .join(article, article.c.id == delivery.c.article_id)
        .join(revision, revision.c.id == article.c.current_revision_id)
        .join(review_state, review_state.c.revision_id == revision.c.id, isouter=True)
        .where(delivery.c.status.in_(statuses))
        .order_by(delivery.c.channel, delivery.c.next_attempt_at)
    ).all()
    width = len(QueuedDelivery._fields)
    return [
        QueueRow(QueuedDelivery(*row[:width]), row.slug, row.title, row.review_status == "approved")
        for row in rows
    ]


class ListedArticle(NamedTuple):
    """An article with the columns of its current revision that `publisher articles` shows."""

    id: int
    slug: str
    source: str
    revision_count: int
    revision_id: str
    number: int
    title: str
    column: str
    kind: str
    dated_at: datetime


def current_articles(conn: Reader, column_key: str | None = None) -> list[ListedArticle]:
    """Every article with its current revision, newest first (one column's, when given)."""
    a, r = article.c, revision.c
    query = (
        select(
            a.id, a.slug, a.source, a.revision_count, r.id, r.number, r.title, r.column, r.kind, r.dated_at
        )
        .join(revision, r.id == a.current_revision_id)
        .order_by(r.dated_at.desc(), a.slug)
    )
    if column_key is not None:
        query = query.where(r.column == column_key)
    return [ListedArticle._make(row) for row in conn.execute(query)]
