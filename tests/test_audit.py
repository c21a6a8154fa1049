"""The audit chain detects edits, deletions and truncation; the database refuses rewrites outright."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from publisher import audit
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.tables import AuditEvent


def tamper(room: Newsroom, sql: str) -> None:
    """What an intruder with database access would do: switch the guard off, then rewrite."""
    with room.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            for verb in ("update", "delete"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS audit_event_no_{verb}")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        conn.exec_driver_sql(sql)


def verify(room: Newsroom) -> audit.Verification:
    with Session(room.engine) as s:
        return audit.verify(s)


def test_chain_is_intact_after_ingest(room: Newsroom) -> None:
    ingest(room)
    result = verify(room)
    assert result.ok and result.events == 3


def test_edited_row_is_found(room: Newsroom) -> None:
    ingest(room)
    tamper(room, "UPDATE audit_event SET actor = 'someone-else' WHERE seq = 2")
    result = verify(room)
    assert [(b.seq, "altered" in b.reason) for b in result.breaks] == [(2, True)]


def test_edited_row_with_recomputed_hash_breaks_the_next_link(room: Newsroom) -> None:
    ingest(room)
    with Session(room.engine) as s:
        row = s.get(AuditEvent, 2)
        assert row is not None
        forged = audit.event_hash(
            row.seq,
            row.at,
            "intruder",
            row.action,
            row.object_type,
            row.object_id,
            row.revision_id,
            row.details_json,
            row.prev_hash,
        )
    tamper(room, f"UPDATE audit_event SET actor = 'intruder', hash = '{forged}' WHERE seq = 2")
    result = verify(room)
    assert not result.ok
    assert 3 in [b.seq for b in result.breaks]


def test_deleted_middle_row_is_found(room: Newsroom) -> None:
    ingest(room)
    tamper(room, "DELETE FROM audit_event WHERE seq = 2")
    result = verify(room)
    assert not result.ok
    assert any("missing" in b.reason for b in result.breaks)


def test_deleted_last_row_is_found_through_the_head(room: Newsroom) -> None:
    ingest(room)
    tamper(room, "DELETE FROM audit_event WHERE seq = 3")
    result = verify(room)
    assert [b.seq for b in result.breaks] == [3]
    assert "tail" in result.breaks[0].reason


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_event SET actor = 'x'",
        "DELETE FROM audit_event",
        "UPDATE revision SET title = 'x'",
        "DELETE FROM revision_asset",
    ],
)
def test_database_refuses_to_rewrite_history(room: Newsroom, sql: str) -> None:
    ingest(room)
    with pytest.raises(DatabaseError, match="append-only"), room.engine.begin() as conn:
        conn.execute(text(sql))
    assert verify(room).ok
