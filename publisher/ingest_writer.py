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

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlmodel import Session

from publisher import audit
from publisher.content.record import ArticleRecord
from publisher.store.tables import Article, Revision, RevisionAsset, SourceStamp

ARTICLE: Table = Article.__table__  # type: ignore[attr-defined]
REVISION: Table = Revision.__table__  # type: ignore[attr-defined]
REVISION_ASSET: Table = RevisionAsset.__table__  # type: ignore[attr-defined]
SOURCE_STAMP: Table = SourceStamp.__table__  # type: ignore[attr-defined]


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
    revisions: list[dict[str, Any]] = []
    assets: list[dict[str, Any]] = []
    events: list[audit.Entry] = []
    stamps: list[dict[str, Any]] = []
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
                meta = item.meta
                revisions.append(
                    {
                        "id": revision_id,
                        "article_id": state.id,
                        "number": number,
                        "parent_id": state.current_revision_id,
                        "title": meta["title"],
                        "column": meta["column"],
                        "kind": meta["kind"],
                        "department": meta["department"],
                        "committee": meta.get("committee"),
                        "sensitive": bool(meta.get("sensitive", False)),
                        "dated_at": item.dated_at,
                        "meta_json": item.meta_json,
                        "body": item.body,
                        "source": item.source,
                        "source_sha256": item.source_sha256,
                        "created_at": now,
                        "created_by": actor,
                    }
                )
                assets.extend(
                    {
                        "revision_id": revision_id,
                        "position": position,
                        "role": asset.role,
                        "ref": asset.ref,
                        "path": asset.path,
                        "sha256": asset.sha256,
                        "size": asset.size,
                        "width": asset.width,
                        "height": asset.height,
                        "format": asset.format,
                    }
                    for position, asset in enumerate(item.assets)
                )
                known[revision_id] = number
                state.revision_count = number
                outcome = Outcome.CREATED if number == 1 else Outcome.REVISED
                result = Stored(outcome, Change(item.slug, revision_id, number, item.source))
                details = {
                    "number": number,
                    "parent": state.current_revision_id,
                    "source": item.source,
                    "title": meta["title"],
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
            {
                "source": item.source,
                "sha256": item.source_sha256,
                "size": item.source_stat[0],
                "mtime_ns": item.source_stat[1],
                "context": context,
                "slug": item.slug,
                "revision_id": revision_id,
                "assets_json": item.assets_json,
                "checked_at": now,
            }
        )
        results.append(result)

    if revisions:
        session.execute(insert(REVISION), revisions)
    if assets:
        session.execute(insert(REVISION_ASSET), assets)
    changed = [s for s in states.values() if s.dirty]
    if changed:
        session.execute(
            update(ARTICLE)
            .where(ARTICLE.c.id == bindparam("b_id"))
            .values(
                source=bindparam("b_source"),
                current_revision_id=bindparam("b_current"),
                revision_count=bindparam("b_count"),
                updated_at=bindparam("b_now", type_=ARTICLE.c.updated_at.type),
            ),
            [
                {
                    "b_id": s.id,
                    "b_source": s.source,
                    "b_current": s.current_revision_id,
                    "b_count": s.revision_count,
                    "b_now": now,
                }
                for s in changed
            ],
        )
    # A stamp is replaced whole: delete and insert is the same on every backend.
    session.execute(delete(SOURCE_STAMP).where(SOURCE_STAMP.c.source.in_([s["source"] for s in stamps])))
    session.execute(insert(SOURCE_STAMP), stamps)
    audit.append_batch(session, events)
    return results
