"""Thousands of rows straight to the driver, for the bulk writers (ingest).

A Core `insert(table)` with a list of dicts builds and processes a parameter dict per row in
SQLAlchemy (`construct_params`, then every bind processor): for a first ingest that was most of
the parent's CPU beside loading. Here the statement is spelled once per table and dialect, each
row is a tuple in column order, only the columns whose type has a bind processor (times, booleans)
are converted, with the very processors SQLAlchemy would have used, so the stored values are the
same. Rows go in the caller's transaction: to SQLite's executemany, to a server as multi-row
INSERTs (what SQLAlchemy's "insertmanyvalues" sends), updates to the cursor's executemany.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any]
Row = tuple[Any, ...]


# Parameters per multi-row INSERT: well inside PostgreSQL's 65,535.
PARAMETERS_PER_INSERT = 30_000


class _Prepared(NamedTuple):
    sql: str  # the statement for one row
    values: str  # INSERT only: one row's "(?, ?, ...)", repeated for a multi-row statement
    processors: tuple[tuple[int, Processor], ...]  # (position, processor) of parameters that need one


@lru_cache(maxsize=64)
def _prepared(dialect: Dialect, table: Table, columns: tuple[str, ...], keys: tuple[str, ...]) -> _Prepared:
    """INSERT when `keys` is empty, else UPDATE of `columns` WHERE `keys`."""
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle in ("qmark", "numeric") else "%s"
    name = dialect.identifier_preparer.format_table(table)
    values = ""
    if keys:
        assignments = ", ".join(f"{quote(c)} = {mark}" for c in columns)
        where = " AND ".join(f"{quote(k)} = {mark}" for k in keys)
        sql = f"UPDATE {name} SET {assignments} WHERE {where}"
    else:
        values = f"({', '.join([mark] * len(columns))})"
        sql = f"INSERT INTO {name} ({', '.join(quote(c) for c in columns)}) VALUES {values}"
    processors = []
    for position, column in enumerate((*columns, *keys)):
        processor = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors.append((position, processor))
    return _Prepared(sql, values, tuple(processors))


def _converted(processors: Sequence[tuple[int, Processor]], rows: Sequence[Row]) -> list[Row]:
    if not processors:
        return list(rows)
    # A batch repeats objects (one `now` in every row, True and False): each object a column
    # holds is converted once. Keyed by identity, which `rows` keeps stable meanwhile: equal
    # values need not convert alike (the same instant in two time zones).
    memos: list[dict[int, Any]] = [{} for _ in processors]
    converted = []
    for row in rows:
        values = list(row)
        for (position, processor), memo in zip(processors, memos, strict=True):
            key = id(values[position])
            if key not in memo:
                memo[key] = processor(values[position])
            values[position] = memo[key]
        converted.append(tuple(values))
    return converted


def insert_rows(connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Row]) -> None:
    """INSERT every row (values in the order of `columns`)."""
    if not rows:
        return
    prepared = _prepared(connection.dialect, table, tuple(columns), ())
    converted = _converted(prepared.processors, rows)
    if connection.dialect.name == "sqlite":
        # SQLite's executemany steps one prepared statement in C: no round trips to save.
        connection.exec_driver_sql(prepared.sql, converted)
        return
    # A server pays per statement: multi-row INSERTs, as SQLAlchemy's "insertmanyvalues" sends.
    page = max(1, PARAMETERS_PER_INSERT // len(columns))
    for start in range(0, len(converted), page):
        chunk = converted[start : start + page]
        sql = prepared.sql + f", {prepared.values}" * (len(chunk) - 1)
        connection.exec_driver_sql(sql, tuple(value for row in chunk for value in row))


def update_rows(
    connection: Connection, table: Table, columns: Sequence[str], keys: Sequence[str], rows: Sequence[Row]
) -> None:
    """UPDATE `columns` of the row that `keys` name, for every row (values of `columns`, then of `keys`)."""
    if not rows:
        return
    prepared = _prepared(connection.dialect, table, tuple(columns), tuple(keys))
    connection.exec_driver_sql(prepared.sql, _converted(prepared.processors, rows))
