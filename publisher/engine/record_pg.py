"""Recording a group of outcomes on PostgreSQL in three round trips instead of about nine.

`claims.finish` reads the rows the worker still holds, updates them, takes the audit lock, reads
the chain's head, inserts the events, moves the head and commits: each a wait for the server.
Here the statements go down psycopg's pipeline, answered together:

1. BEGIN, one UPDATE … FROM unnest(…) of every row the worker still holds in the state its step
   starts from (RETURNING the ids that landed and their articles' slugs), the audit lock and the
   head read `FOR UPDATE` — in that order, so the rows are locked before the audit lock, as before;
2. (the group's ledger writes and the duty editors' notices, when there are any, as before;)
3. the events' INSERT, the head's move and COMMIT.

The rows, the events and the chain are the very ones `claims.finish` writes (tests/test_record_pg.py
compares the two); the audit lock is held from the first round trip, a few statements earlier than
before, to the commit, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import psycopg
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


def driver(connection: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under SQLAlchemy's, in the same transaction."""
    return cast("psycopg.Connection[Any]", connection.connection.driver_connection)


def land(
    raw: psycopg.Connection[Any],
    owner: str,
    now: object,
    outcomes: list[tuple[int, DeliveryState, str | None, str | None, str | None, object, object, str]],
) -> tuple[dict[int, str | None], tuple[int, str] | None]:
    """Round trip 1: update the rows `owner` still holds in a state each one's step starts from;
    lock the chain. Returns {landed id: its article's slug} and the head (seq, hash), if any.
    Each outcome: (id, status, error, revision, receipt, done_at, next_attempt_at, sources)."""
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
    with raw.pipeline():
        updated = raw.cursor()
        updated.execute(_FINISH, params)
        raw.cursor().execute(SCHEMA_LOCK_PSYCOPG, (AUDIT_LOCK_KEY,))
        head_cursor = raw.cursor()
        head_cursor.execute(_HEAD)
        landed: dict[int, str | None] = {row[0]: row[1] for row in updated.fetchall()}
        head = head_cursor.fetchone()
    return landed, (head[0], head[1]) if head else None


def chain_and_commit(
    raw: psycopg.Connection[Any],
    head: tuple[int, str] | None,
    entries: list[audit.Entry],
    commit: Callable[[], None],
) -> None:
    """Round trip 3: the events chained after `head`, the head moved, and `commit` (the session's,
    which sends COMMIT down the same pipeline)."""
    with raw.pipeline():
        if entries:
            rows = audit.chain_rows(entries, head[0] if head else 0, head[1] if head else audit.GENESIS)
            raw.cursor().execute(_EVENTS, [list(column) for column in zip(*rows, strict=True)])
            seq, last = rows[-1][0], rows[-1][-1]
            raw.cursor().execute(_MOVE_HEAD if head else _FIRST_HEAD, (seq, last))
        commit()
