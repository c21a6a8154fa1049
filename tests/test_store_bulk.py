"""Rows written through the driver's executemany (store/bulk.py) are stored exactly as SQLAlchemy's
Core statements store them: the same text for times, the same booleans, quoted column names."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Table, insert, update

from publisher.store.bulk import insert_rows, update_rows
from publisher.store.engine import make_engine
from publisher.store.migrate import upgrade
from publisher.store.tables import Article, Revision

REVISION: Table = Revision.__table__  # type: ignore[attr-defined]
ARTICLE: Table = Article.__table__  # type: ignore[attr-defined]
WHEN = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))


def revision(revision_id: str, article_id: int) -> dict[str, object]:
    return {
        "id": revision_id,
        "article_id": article_id,
        "number": 1,
        "parent_id": None,
        "title": "标题",
        "column": "news",
        "kind": "news",
        "department": "office",
        "committee": None,
        "sensitive": True,
        "dated_at": WHEN,
        "meta_json": "{}",
        "body": "正文\n",
        "source": "content/a.md",
        "source_sha256": "0" * 64,
        "created_at": WHEN,
        "created_by": "system",
    }


def test_bulk_rows_are_stored_as_core_statements_store_them(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    try:
        with engine.begin() as conn:
            for slug in ("a", "b"):
                conn.execute(
                    insert(ARTICLE),
                    {"slug": slug, "source": f"content/{slug}.md", "created_at": WHEN, "updated_at": WHEN},
                )
            ids: dict[str, int] = dict(conn.exec_driver_sql("SELECT slug, id FROM article").all())
            conn.execute(insert(REVISION), [revision("core", ids["a"])])
            values = revision("bulk", ids["b"])
            insert_rows(conn, REVISION, tuple(values), [tuple(values.values())])
            conn.execute(
                update(ARTICLE)
                .where(ARTICLE.c.id == ids["a"])
                .values(current_revision_id="core", revision_count=1, updated_at=WHEN + timedelta(days=1))
            )
            update_rows(
                conn,
                ARTICLE,
                ("current_revision_id", "revision_count", "updated_at"),
                ("id",),
                [("bulk", 1, WHEN + timedelta(days=1), ids["b"])],
            )
        with engine.connect() as conn:
            # Raw rows, read past every result processor: what each backend really holds.
            core, bulk = (
                conn.exec_driver_sql(
                    "SELECT r.*, a.current_revision_id, a.revision_count, a.updated_at"
                    f" FROM revision r JOIN article a ON a.id = r.article_id WHERE r.id = '{rid}'"
                ).one()
                for rid in ("core", "bulk")
            )
        differ = [
            key
            for key in core._mapping
            if key not in ("id", "article_id", "current_revision_id")
            if core._mapping[key] != bulk._mapping[key]
        ]
        assert differ == []
        assert core.current_revision_id == "core" and bulk.current_revision_id == "bulk"
        assert bulk.revision_count == 1
        assert str(bulk.dated_at).startswith("2026-03-01 01:30:15.123456")  # kept in UTC
    finally:
        engine.dispose()


def test_a_naive_time_is_refused_by_bulk_rows_as_by_core(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            values = revision("naive", 1) | {"created_at": datetime(2026, 3, 1, 9, 30)}
            with pytest.raises(ValueError, match="naive"):
                insert_rows(conn, REVISION, tuple(values), [tuple(values.values())])
    finally:
        engine.dispose()
