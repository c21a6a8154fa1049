"""Recording a group of outcomes on PostgreSQL in two round trips instead of eight.

`claims.finish` (the statement-at-a-time path, kept for SQLite) begins, reads the rows the worker
still holds, updates them, takes the audit lock, reads the chain's head, inserts the events, moves
the head and commits: each a wait for the server (a libpq trace counted 8 beside the pool's ping).
Here the statements go down psycopg's pipeline, answered together:

1. BEGIN, one UPDATE … FROM json_array_elements(…) of every row the worker still holds in the
   state its step starts from (RETURNING the ids that landed and their articles' slugs), the audit lock and the
   head read `FOR UPDATE` — in that order, so the rows are locked before the chain, as before;
   a group with ledger writes locks the chain after them instead (one round trip more), as before;
2. (the duty editors' notices, when a group has any, as before;)
3. the events' INSERT, the head's move and COMMIT.

The rows, the events and the chain are the very ones the other path writes (tests/test_record_pg.py
compares the two); the audit lock is held from the first round trip to the commit, as before.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import psycopg
from psycopg import pq
from sqlalchemy import Connection

from publisher import audit
from publisher.delivery.states import DeliveryState
from publisher.store.engine import AUDIT_LOCK_KEY, SCHEMA_LOCK_PSYCOPG

# One JSON array of rows, not a VALUES list: the text is the same for every group size, so psycopg
# prepares it once per connection and the server plans it once. And one parameter, not an array per
# column: psycopg dumps a list element by element in Python (a tenth of a worker's CPU went there),
# `json.dumps` in C. A JSON null is NULL, and a NULL leaves its column as it was.
_FINISH = """
UPDATE delivery AS d SET
    status = v.status,
    updated_at = %(now)s,
    last_error = v.error,
    lease_owner = NULL,
    lease_until = NULL,
    revision_id = coalesce(v.revision, d.revision_id),
    receipt_json = coalesce(v.receipt, d.receipt_json),
    done_at = coalesce(v.done, d.done_at),
    next_attempt_at = coalesce(v.next, d.next_attempt_at)
FROM (
    SELECT (e->>0)::bigint AS id, e->>1 AS status, e->>2 AS error, e->>3 AS revision,
        e->>4 AS receipt, (e->>5)::timestamptz AS done, (e->>6)::timestamptz AS next, e->>7 AS sources
    FROM json_array_elements(%(rows)s::json) AS e
) AS v
WHERE d.id = v.id AND d.lease_owner = %(owner)s AND d.status = ANY(string_to_array(v.sources, ','))
RETURNING d.id, (SELECT a.slug FROM article AS a WHERE a.id = d.article_id)
"""
_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
_EVENTS = (
    f"INSERT INTO audit_event ({', '.join(audit.EVENT_COLUMNS)}) "
    "SELECT (e->>0)::bigint, (e->>1)::timestamptz, e->>2, e->>3, e->>4, e->>5, e->>6, e->>7, e->>8, "
    "e->>9 FROM json_array_elements(%s::json) AS e"
)
_MOVE_HEAD = "UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1"
_FIRST_HEAD = "INSERT INTO audit_head (id, seq, hash) VALUES (1, %s, %s)"


def _json(rows: Sequence[Sequence[object]]) -> str:
    """Rows as one JSON array of arrays: a datetime as its ISO 8601 text (with its offset, which
    PostgreSQL reads back to the microsecond), a state as its value."""
    return json.dumps(rows, ensure_ascii=False, default=_plain)


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a value of a recorded row")


class Pipelined:
    """One transaction on the psycopg connection under `connection`, its BEGIN and COMMIT sent down
    the pipeline with the statements around them.

    psycopg waits for the answer to a BEGIN it sends itself before the pipeline's next statement
    (a round trip of its own); so, for this transaction only, the connection is in autocommit mode
    and the transaction is opened and closed with statements. Autocommit never outlives it: it is
    switched off again before SQLAlchemy gets the connection back (on success, once COMMIT has been
    answered; on failure, once ROLLBACK has), and a connection that cannot be brought back to that
    state is invalidated, so that the pool never hands it out again."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.raw = cast("psycopg.Connection[Any]", connection.connection.driver_connection)

    def __enter__(self) -> Pipelined:
        self.raw.autocommit = True
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if kind is not None and self.raw.pgconn.transaction_status != pq.TransactionStatus.IDLE:
                self.raw.execute("ROLLBACK")
            self.raw.autocommit = False
        except psycopg.Error:
            self.connection.invalidate()
            if kind is None:
                raise

    def land(
        self,
        owner: str,
        now: object,
        outcomes: list[tuple[int, DeliveryState, str | None, str | None, str | None, object, object, str]],
        lock_chain: bool,
    ) -> tuple[dict[int, str | None], tuple[int, str] | None]:
        """Round trip 1: BEGIN; update the rows `owner` still holds in a state each one's step
        starts from; with `lock_chain`, lock the chain. Returns {landed id: its article's slug} and
        the head (seq, hash), if any. Each outcome: (id, status, error, revision, receipt, done_at,
        next_attempt_at, the states its step starts from, comma-separated)."""
        params = {"now": now, "owner": owner, "rows": _json(outcomes)}
        raw = self.raw
        with raw.pipeline():
            raw.execute("BEGIN")
            updated = raw.execute(_FINISH, params)
            if lock_chain:
                raw.execute(SCHEMA_LOCK_PSYCOPG, (AUDIT_LOCK_KEY,))
                head_cursor = raw.execute(_HEAD)
        # Read once the pipeline has been answered as a whole: reading inside it costs a round trip.
        landed: dict[int, str | None] = {row[0]: row[1] for row in updated.fetchall()}
        return landed, self._head(head_cursor) if lock_chain else None

    def lock_chain(self) -> tuple[int, str] | None:
        """The audit lock and the head, when `land` did not take them (one round trip)."""
        with self.raw.pipeline():
            self.raw.execute(SCHEMA_LOCK_PSYCOPG, (AUDIT_LOCK_KEY,))
            head_cursor = self.raw.execute(_HEAD)
        return self._head(head_cursor)

    @staticmethod
    def _head(cursor: psycopg.Cursor[Any]) -> tuple[int, str] | None:
        head = cursor.fetchone()
        return (head[0], head[1]) if head else None

    def chain_and_commit(self, head: tuple[int, str] | None, entries: list[audit.Entry]) -> None:
        """The last round trip: the events chained after `head`, the head moved, COMMIT."""
        raw = self.raw
        with raw.pipeline():
            if entries:
                rows = audit.chain_rows(entries, head[0] if head else 0, head[1] if head else audit.GENESIS)
                raw.execute(_EVENTS, (_json(rows),))
                seq, last = rows[-1][0], rows[-1][-1]
                raw.execute(_MOVE_HEAD if head else _FIRST_HEAD, (seq, last))
            raw.execute("COMMIT")
