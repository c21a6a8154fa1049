"""Whether an article's retraction (撤稿) is in force: the one rule every reader of `Retraction` asks.

A retraction stays on record when it is lifted (`Reinstatement`), so "a `Retraction` row exists"
no longer means "retracted". The row holds the latest retraction; it is in force unless a
reinstatement came at or after its moment (retracting again later moves the moment past it).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, exists
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from publisher.store.batch import in_chunks
from publisher.store.tables import Reinstatement, Retraction


def _lifted() -> ColumnElement[bool]:
    return exists().where(
        col(Reinstatement.article_id) == col(Retraction.article_id),
        col(Reinstatement.reinstated_at) >= col(Retraction.retracted_at),
    )


def in_force_ids() -> SelectOfScalar[int]:
    """A subquery of the article ids whose retraction is in force (for `NOT IN`/`IN` in a query)."""
    return select(col(Retraction.article_id)).where(~_lifted())


def retracted_among(session: Session, article_ids: Collection[int]) -> set[int]:
    """Which of these articles are retracted now."""
    found: set[int] = set()
    for chunk in in_chunks(article_ids):
        found.update(session.exec(in_force_ids().where(col(Retraction.article_id).in_(chunk))))
    return found


def in_force(session: Session, article_id: int) -> Retraction | None:
    """The article's retraction when it is in force, else None (never retracted, or lifted)."""
    return session.exec(select(Retraction).where(Retraction.article_id == article_id, ~_lifted())).first()
