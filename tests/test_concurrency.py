"""Several ingests at once, in separate processes, on one fresh database: no duplicates, one chain."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from publisher import audit
from publisher.newsroom import Newsroom
from publisher.store.tables import Article, AuditEvent, Revision, RevisionAsset
from tests.factory import base_meta, write_article

WORKERS = 3
ARTICLES = 60


def test_concurrent_ingests_do_not_duplicate(
    newsroom_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(ARTICLES):
        write_article(
            newsroom_dir / "content" / "bulk", f"bulk-{i}.md", base_meta(f"bulk-{i}", title=f"批量稿件{i}")
        )
    env = {**os.environ, "PUBLISHER_DATABASE_URL": db_url, "PUBLISHER_NEWSROOM": str(newsroom_dir)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "publisher", "ingest", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err

    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(newsroom_dir)
    assert room.database_url == db_url
    total = ARTICLES + 3
    try:
        with Session(room.engine) as s:
            assert len(list(s.exec(select(Article)))) == total
            assert len(list(s.exec(select(Revision)))) == total
            assert len(list(s.exec(select(RevisionAsset)))) == 2
            assert len(list(s.exec(select(AuditEvent)))) == total
            assert audit.verify(s).ok
    finally:
        room.close()
