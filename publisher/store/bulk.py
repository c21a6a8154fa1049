"""Thousands of rows through the driver's own executemany, for the bulk writers (ingest).

A Core `insert(table)` with a list of dicts builds and processes a parameter dict per row in
SQLAlchemy (`construct_params`, then every bind processor): for a first ingest that was most of
the parent's CPU beside loading. Here the statement is spelled once per table and dialect, each
row is a tuple in column order, only the columns whose type has a bind processor (times, booleans)
are converted, with the very processors SQLAlchemy would have used, so the stored values are the
same, and the rows go to the DBAPI cursor's `executemany` in the caller's transaction. On
PostgreSQL that is psycopg's pipeline of one prepared statement, which measured cheaper for client
and server alike than multi-row INSERTs of thousands of parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any]
Row = tuple[Any, ...]


@lru_cache(maxsize=64)
def _prepared(
    dialect: Dialect, table: Table, columns: tuple[str, ...], keys: tuple[str, ...]
) -> tuple[str, tuple[tuple[int, Processor], ...]]:
    """The statement (INSERT when `keys` is empty, else UPDATE of `columns` WHERE `keys`) and the
    (position, processor) of each parameter that needs one."""
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle in ("qmark", "numeric") else "%s"
    name = dialect.identifier_preparer.format_table(table)
    if keys:
        assignments = ", ".join(f"{quote(c)} = {mark}" for c in columns)
        where = " AND ".join(f"{quote(k)} = {mark}" for k in keys)
        sql = f"UPDATE {name} SET {assignments} WHERE {where}"
    else:
        names = ", ".join(quote(c) for c in columns)
        sql = f"INSERT INTO {name} ({names}) VALUES ({', '.join([mark] * len(columns))})"
    processors = []
    for position, column in enumerate((*columns, *keys)):
        processor = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors.append((position, processor))
    return sql, tuple(processors)


def _execute(
    connection: Connection, sql: str, processors: Sequence[tuple[int, Processor]], rows: Sequence[Row]
) -> None:
    if not rows:
        return
    if processors:
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
        rows = converted
    connection.exec_driver_sql(sql, list(rows))


def insert_rows(connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Row]) -> None:
    """INSERT every row (values in the order of `columns`)."""
    sql, processors = _prepared(connection.dialect, table, tuple(columns), ())
    _execute(connection, sql, processors, rows)


def update_rows(
    connection: Connection, table: Table, columns: Sequence[str], keys: Sequence[str], rows: Sequence[Row]
) -> None:
    """UPDATE `columns` of the row that `keys` name, for every row (values of `columns`, then of `keys`)."""
    sql, processors = _prepared(connection.dialect, table, tuple(columns), tuple(keys))
    _execute(connection, sql, processors, rows)
