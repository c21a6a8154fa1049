"""Reading many rows by id: `IN (...)` lists of a size every backend accepts."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TypeVar

from sqlalchemy import select

from publisher.store.listings import Reader, revision

IN_CHUNK = 500  # ids per IN (...) list: well inside every backend's parameter limit
T = TypeVar("T")


def in_chunks(ids: Collection[T]) -> Iterator[list[T]]:
    ordered = list(ids)
    for start in range(0, len(ordered), IN_CHUNK):
        yield ordered[start : start + IN_CHUNK]


def revision_bodies(reader: Reader, revision_ids: Collection[str]) -> dict[str, str]:
    """The bodies of these revisions (the bulk of a revision, so read only when needed)."""
    bodies: dict[str, str] = {}
    for chunk in in_chunks(revision_ids):
        rows = reader.execute(select(revision.c.id, revision.c.body).where(revision.c.id.in_(chunk)))
        bodies.update((id_, body) for id_, body in rows)
    return bodies
