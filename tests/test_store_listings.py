"""The listings' light table clauses (publisher/store/listings.py) say what tables.py declares."""

from __future__ import annotations

import pytest
from sqlalchemy import TableClause, TypeDecorator
from sqlalchemy.types import TypeEngine
from sqlmodel import SQLModel

import publisher.store.tables  # noqa: F401  (defines the tables in SQLModel.metadata)
from publisher.store import listings
from publisher.store.types import UTCDateTime


def python_type(type_: TypeEngine[object]) -> type:
    # SQLModel's AutoString (every str field) is a TypeDecorator over String.
    return type_.impl_instance.python_type if isinstance(type_, TypeDecorator) else type_.python_type


CLAUSES = [listings.article, listings.revision, listings.review_state, listings.delivery]


@pytest.mark.parametrize("clause", CLAUSES, ids=lambda c: c.name)
def test_every_listing_column_is_a_column_of_its_table_read_as_the_same_python_type(
    clause: TableClause,
) -> None:
    real = SQLModel.metadata.tables[clause.name]

    def differs(name: str) -> bool:
        mine, theirs = clause.c[name].type, real.c[name].type
        # The same Python values, and the aware-UTC conversion exactly where the table has it.
        return python_type(mine) is not python_type(theirs) or isinstance(mine, UTCDateTime) != isinstance(
            theirs, UTCDateTime
        )

    wrong = [
        f"{clause.name}.{c.name}: no such column"
        if c.name not in real.c
        else f"{clause.name}.{c.name}: {c.type!r}, the table has {real.c[c.name].type!r}"
        for c in clause.c
        if c.name not in real.c or differs(c.name)
    ]
    assert wrong == []
