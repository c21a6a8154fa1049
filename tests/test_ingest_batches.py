"""Ingest writes in batches: every article, revision, image and audit event as before, the chain
verifiable, and a batch that fails leaves nothing of itself behind."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from publisher import audit
from publisher import ingest as ingest_module
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.engine import write_session
from publisher.store.tables import Article, AuditEvent, Revision, RevisionAsset, SourceStamp
from tests.conftest import reopen


def rows(room: Newsroom, table: type) -> int:
    with Session(room.engine) as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def test_articles_spread_over_several_batches_are_all_stored_and_audited_in_order(
    room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "BATCH", 2)
    report = ingest(room)
    assert report.ok and len(report.created) == rows(room, Article) == rows(room, Revision) == 3
    assert rows(room, SourceStamp) == len(report.created) and rows(room, RevisionAsset) > 0
    with Session(room.engine) as session:
        assert audit.verify(session).ok
        events = session.execute(
            select(col(AuditEvent.object_id), col(AuditEvent.revision_id)).order_by(col(AuditEvent.seq))
        ).all()
    assert [(e.object_id, e.revision_id) for e in events] == [(c.slug, c.revision_id) for c in report.created]


def test_a_revised_article_in_a_later_batch_gets_the_next_number_and_its_parent(
    room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "BATCH", 2)
    first = {c.slug: c for c in ingest(room).created}
    path = room.content_dir / "article-2.md"
    path.write_text(path.read_text(encoding="utf-8").replace("第2篇", "第2篇（修改）"), encoding="utf-8")
    again = ingest(reopen(room))
    [change] = again.revised
    assert change.slug == "article-2" and change.number == 2 and again.unchanged == len(first) - 1
    with Session(room.engine) as session:
        revision = session.get(Revision, change.revision_id)
        assert revision is not None and revision.parent_id == first["article-2"].revision_id
        assert audit.verify(session).ok


def test_a_batch_that_fails_stores_none_of_its_articles(
    room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: Session, entries: list[audit.Entry]) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "append_batch", broken)  # the writer calls it through the module
    with pytest.raises(RuntimeError, match="disk full"):
        ingest(room)
    assert rows(room, Article) == rows(room, Revision) == rows(room, SourceStamp) == 0


def test_batch_appends_and_single_appends_in_one_session_keep_one_chain(room: Newsroom) -> None:
    with write_session(room.engine) as session:
        audit.append(session, actor="a", action="x.one", object_type="t", object_id="1")
        last = audit.append_batch(
            session, [audit.Entry("a", "x.many", "t", str(n), details={"n": n}) for n in range(3)]
        )
        after = audit.append(session, actor="a", action="x.after", object_type="t", object_id="5").seq
    assert last == 4 and after == 5
    with Session(room.engine) as session:
        assert audit.verify(session).ok
