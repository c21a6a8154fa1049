"""A process keeps the connections it opened (up to `POOL_SIZE`, as many as it could hold at once
before): a connection given back is used again, never closed and opened anew for the next user."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import QueuePool, SingletonThreadPool, event

from publisher.store.engine import POOL_SIZE, make_engine


def test_a_databases_pool_keeps_every_connection_it_may_hold(db_url: str) -> None:
    engine = make_engine(db_url)
    opened: list[object] = []
    event.listen(engine, "connect", lambda dbapi, record: opened.append(dbapi))
    try:
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool.size() == POOL_SIZE and engine.pool._max_overflow == 0
        held = [engine.connect() for _ in range(POOL_SIZE)]
        for connection in held:
            connection.close()
        again = [engine.connect() for _ in range(POOL_SIZE)]
        for connection in again:
            connection.close()
        assert len(opened) == POOL_SIZE  # the second round opened none
    finally:
        engine.dispose()


def test_an_in_memory_sqlite_database_keeps_one_connection_per_thread(tmp_path: Path) -> None:
    for url in ("sqlite://", "sqlite:///:memory:"):
        engine = make_engine(url)
        assert isinstance(engine.pool, SingletonThreadPool)
        engine.dispose()
