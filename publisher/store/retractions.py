"""Whether an article's retraction (撤稿) is in force: the one rule every reader of `Retraction` asks.

A retraction stays on record when it is lifted (`Reinstatement`), so "a `Retraction` row exists"
no longer means "retracted". The row holds the latest retraction; it is in force unless a
reinstatement came at or after its moment (retracting again later moves the moment past it).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Select, exists, select

from publisher.store.batch import in_chunks
from publisher.store.listings import Reader, reinstatement, retraction

if TYPE_CHECKING:
    from sqlmodel import Session

    from publisher.store.tables import Retraction


def _lifted() -> ColumnElement[bool]:
    return exists().where(
        reinstatement.c.article_id == retraction.c.article_id,
        reinstatement.c.reinstated_at >= retraction.c.retracted_at,
    )


def in_force_ids() -> Select[int]:
    """A subquery of the article ids whose retraction is in force (for `NOT IN`/`IN` in a query).

    Over the Core clauses of store/listings.py, so the listings ask it without the ORM; as a
    subquery it is whole in itself, so an ORM query over the real tables uses it all the same."""
    return select(retraction.c.article_id).where(~_lifted())


def retracted_among(reader: Reader, article_ids: Collection[int]) -> set[int]:
    """Which of these articles are retracted now."""
    found: set[int] = set()
    for chunk in in_chunks(article_ids):
        found.update(reader.execute(in_force_ids().where(retraction.c.article_id.in_(chunk))).scalars())
    return found


def in_force(session: Session, article_id: int) -> Retraction | None:
    """The article's retraction when it is in force, else None (never retracted, or lifted)."""
    # The ORM row is for the callers that change it; the rule above reads Core clauses.
    from sqlmodel import col
    from sqlmodel import select as orm_select

    from publisher.store.tables import Retraction

    query = orm_select(Retraction).where(
        Retraction.article_id == article_id, col(Retraction.article_id).in_(in_force_ids())
    )
    return session.exec(query).first()
