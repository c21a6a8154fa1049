"""The console bench's seed keeps every invariant the code checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from bench.console_seed import seed
from publisher.newsroom import Newsroom
from publisher.review import integrity
from publisher.store.tables import Delivery, ReviewState, StaffUser
from tests.factory import shared_corpus_script


@pytest.mark.skipif(shared_corpus_script() is None, reason="needs ../shared/bench/make_corpus.py")
def test_the_seeded_newsroom_passes_audit_verify_with_every_review_proven(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUBLISHER_DATABASE_URL", raising=False)
    report = seed(tmp_path / "room", articles=30, deliveries=300, users=40, database_url=db_url, quiet=True)
    room = Newsroom(tmp_path / "room")
    try:
        with Session(room.engine) as session:
            verification = integrity.verify(session)
            users = session.exec(select(func.count()).select_from(StaffUser)).one()
            statuses = set(session.exec(select(ReviewState.status)))
            done = session.exec(
                select(func.count()).where(
                    col(Delivery.status) == "done", col(Delivery.revision_id).is_(None)
                )
            ).one()
    finally:
        room.close()
    assert verification.ok, verification.breaks[:3]
    assert verification.events == report.audit_events + 30 + users  # + ingest and user creation
    assert users == 40 and report.deliveries == 300
    assert {"approved", "in_review"} <= statuses <= {"approved", "in_review", "rejected"}
    assert done == 0  # a release that went out names the revision it carried
