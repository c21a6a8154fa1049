"""Ingest's write side: a batch of loaded articles stored in one transaction with Core statements.

One ORM flush per article cost more than reading and parsing the article. Here a batch pays a
fixed handful of round trips whatever its size: read the batch's articles (locked) and the
revisions it names, insert the new articles (RETURNING their ids), the new revisions and their
images, update the articles, replace the source stamps and append the batch's audit events to the
chain in one go. The caller's transaction makes the batch all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlmodel import Session

from publisher import audit
from publisher.content.record import ArticleRecord, RevisionColumns
from publisher.store.bulk import insert_rows, update_rows
from publisher.store.tables import Article, Revision, RevisionAsset, SourceStamp

ARTICLE: Table = Article.__table__  # type: ignore[attr-defined]
REVISION: Table = Revision.__table__  # type: ignore[attr-defined]
REVISION_ASSET: Table = RevisionAsset.__table__  # type: ignore[attr-defined]
SOURCE_STAMP: Table = SourceStamp.__table__  # type: ignore[attr-defined]

# Rows go to the driver as tuples in these orders (store/bulk.py).
REVISION_COLUMNS = (
    "id",
    "article_id",
    "number",
    "parent_id",
    *RevisionColumns._fields,  # a record's `columns`, spread into the row as they stand
    "dated_at",
    "meta_json",
    "body",
    "source",
    "source_sha256",
    "created_at",
    "created_by",
)
ASSET_COLUMNS = (
    "revision_id",
    "position",
    "role",
    "ref",
    "path",
    "sha256",
    "size",
    "width",
    "height",
    "format",
)
STAMP_COLUMNS = (
    "source",
    "sha256",
    "size",
    "mtime_ns",
    "context",
    "slug",
    "revision_id",
    "assets_json",
    "checked_at",
)
ARTICLE_UPDATE = ("source", "current_revision_id", "revision_count", "updated_at")


class Outcome(StrEnum):
    CREATED = "created"  # a new article
    REVISED = "revised"  # a new revision of a known article
    REVERTED = "reverted"  # back to a revision the article already had
    UNCHANGED = "unchanged"  # the stored revision is already this text (only the stamp moves)


@dataclass(frozen=True, slots=True)
class Change:
    slug: str
    revision_id: str
    number: int
    source: str


@dataclass(frozen=True, slots=True)
class Stored:
    outcome: Outcome
    change: Change | None


@dataclass(slots=True)
class _ArticleState:
    """An article row as this batch sees it, changed in memory and written once."""

    id: int
    source: str
    current_revision_id: str | None
    revision_count: int
    dirty: bool = False


def _articles(session: Session, items: Sequence[ArticleRecord], now: datetime) -> dict[str, _ArticleState]:
    """Every article of the batch by slug: the stored ones read and locked, the new ones inserted."""
    slugs = [item.slug for item in items]
    rows = session.execute(
        select(
            ARTICLE.c.id,
            ARTICLE.c.slug,
            ARTICLE.c.source,
            ARTICLE.c.current_revision_id,
            ARTICLE.c.revision_count,
        )
        .where(ARTICLE.c.slug.in_(slugs))
        .order_by(ARTICLE.c.id)  # one lock order for every ingest: no deadlock between two
        .with_for_update()
    )
    states = {r.slug: _ArticleState(r.id, r.source, r.current_revision_id, r.revision_count) for r in rows}
    new = {item.slug: item for item in items if item.slug not in states}
    if new:
        inserted = session.execute(
            insert(ARTICLE).returning(ARTICLE.c.id, ARTICLE.c.slug),
            [
                {
                    "slug": item.slug,
                    "source": item.source,
                    "current_revision_id": None,
                    "revision_count": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for item in new.values()
            ],
        )
        for row in inserted:
            states[row.slug] = _ArticleState(row.id, new[row.slug].source, None, 0)
    return states


def write_batch(
    session: Session, items: Sequence[ArticleRecord], context: str, actor: str, now: datetime
) -> list[Stored]:
    """Store every item's new state inside the caller's transaction; one result per item, in order."""
    if not items:
        return []
    states = _articles(session, items, now)
    ids = [item.revision_id for item in items]
    known: dict[str, int] = {
        r.id: r.number
        for r in session.execute(select(REVISION.c.id, REVISION.c.number).where(REVISION.c.id.in_(ids)))
    }
    results: list[Stored] = []
    revisions: list[tuple[Any, ...]] = []
    assets: list[tuple[Any, ...]] = []
    events: list[audit.Entry] = []
    stamps: list[tuple[Any, ...]] = []
    for item, revision_id in zip(items, ids, strict=True):
        state = states[item.slug]
        result = Stored(Outcome.UNCHANGED, None)
        if state.current_revision_id != revision_id:
            number = known.get(revision_id)
            if number is not None:
                # The file went back to a text this article already had: the history keeps both.
                result = Stored(Outcome.REVERTED, Change(item.slug, revision_id, number, item.source))
                details: dict[str, Any] = {
                    "number": number,
                    "from": state.current_revision_id,
                    "source": item.source,
                }
                events.append(
                    audit.Entry(actor, "article.revert", "article", item.slug, revision_id, details)
                )
            else:
                number = state.revision_count + 1
                revisions.append(
                    (
                        revision_id,
                        state.id,
                        number,
                        state.current_revision_id,
                        *item.columns,
                        datetime.fromisoformat(item.dated_at),
                        item.meta_json,
                        item.body,
                        item.source,
                        item.source_sha256,
                        now,
                        actor,
                    )
                )
                assets.extend(
                    (
                        revision_id,
                        position,
                        use.role,
                        use.ref,
                        use.asset.path,
                        use.asset.sha256,
                        use.asset.size,
                        use.asset.width,
                        use.asset.height,
                        use.asset.format,
                    )
                    for position, use in enumerate(item.assets)
                )
                known[revision_id] = number
                state.revision_count = number
                outcome = Outcome.CREATED if number == 1 else Outcome.REVISED
                result = Stored(outcome, Change(item.slug, revision_id, number, item.source))
                details = {
                    "number": number,
                    "parent": state.current_revision_id,
                    "source": item.source,
                    "title": item.columns.title,
                }
                events.append(
                    audit.Entry(actor, "revision.create", "article", item.slug, revision_id, details)
                )
            state.current_revision_id = revision_id
            state.dirty = True
        if state.source != item.source:
            state.source = item.source
            state.dirty = True
        stamps.append(
            (
                item.source,
                item.source_sha256,
                item.source_stat[0],
                item.source_stat[1],
                context,
                item.slug,
                revision_id,
                item.assets_json,
                now,
            )
        )
        results.append(result)

    connection = session.connection()
    insert_rows(connection, REVISION, REVISION_COLUMNS, revisions)
    insert_rows(connection, REVISION_ASSET, ASSET_COLUMNS, assets)
    update_rows(
        connection,
        ARTICLE,
        ARTICLE_UPDATE,
        ("id",),
        [(s.source, s.current_revision_id, s.revision_count, now, s.id) for s in states.values() if s.dirty],
    )
    # A stamp is replaced whole: delete and insert is the same on every backend.
    session.execute(delete(SOURCE_STAMP).where(SOURCE_STAMP.c.source.in_([s[0] for s in stamps])))
    insert_rows(connection, SOURCE_STAMP, STAMP_COLUMNS, stamps)
    audit.append_batch(session, events)
    return results
