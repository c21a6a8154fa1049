"""Recording a group of outcomes on PostgreSQL in two round trips instead of eight.

`claims.finish` (the statement-at-a-time path, kept for SQLite) begins, reads the rows the worker
still holds, updates them, takes the audit lock, reads the chain's head, inserts the events, moves
the head and commits: each a wait for the server (a libpq trace counted 8 beside the pool's ping).
Here the statements go down psycopg's pipeline, answered together:

1. BEGIN, one UPDATE … FROM unnest(…) of every row the worker still holds in the state its step
   starts from (RETURNING the ids that landed and their articles' slugs), the audit lock and the
   head read `FOR UPDATE` — in that order, so the rows are locked before the chain, as before;
   a group with ledger writes locks the chain after them instead (one round trip more), as before;
2. (the duty editors' notices, when a group has any, as before;)
3. the events' INSERT, the head's move and COMMIT.

The rows, the events and the chain are the very ones the other path writes (tests/test_record_pg.py
compares the two); the audit lock is held from the first round trip to the commit, as before.
"""

from __future__ import annotations

from typing import Any, cast

import psycopg
from psycopg import pq
from sqlalchemy import Connection

from publisher import audit
from publisher.delivery.states import DeliveryState
from publisher.store.engine import AUDIT_LOCK_KEY, SCHEMA_LOCK_PSYCOPG

# Arrays, not a VALUES list: the text is the same for every group size, so psycopg prepares it
# once per connection and the server plans it once. A NULL leaves its column as it was.
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
FROM unnest(
    %(ids)s::bigint[], %(status)s::text[], %(error)s::text[], %(revision)s::text[],
    %(receipt)s::text[], %(done)s::timestamptz[], %(next)s::timestamptz[], %(sources)s::text[]
) AS v(id, status, error, revision, receipt, done, next, sources)
WHERE d.id = v.id AND d.lease_owner = %(owner)s AND d.status = ANY(string_to_array(v.sources, ','))
RETURNING d.id, (SELECT a.slug FROM article AS a WHERE a.id = d.article_id)
"""
_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
_EVENTS = (
    f"INSERT INTO audit_event ({', '.join(audit.EVENT_COLUMNS)}) SELECT * FROM unnest("
    "%s::bigint[], %s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], "
    "%s::text[], %s::text[], %s::text[])"
)
_MOVE_HEAD = "UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1"
_FIRST_HEAD = "INSERT INTO audit_head (id, seq, hash) VALUES (1, %s, %s)"


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
        columns = list(zip(*outcomes, strict=True))
        params = {
            "now": now,
            "owner": owner,
            "ids": list(columns[0]),
            "status": [str(s) for s in columns[1]],
            "error": list(columns[2]),
            "revision": list(columns[3]),
            "receipt": list(columns[4]),
            "done": list(columns[5]),
            "next": list(columns[6]),
            "sources": list(columns[7]),
        }
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
                raw.execute(_EVENTS, [list(column) for column in zip(*rows, strict=True)])
                seq, last = rows[-1][0], rows[-1][-1]
                raw.execute(_MOVE_HEAD if head else _FIRST_HEAD, (seq, last))
            raw.execute("COMMIT")
