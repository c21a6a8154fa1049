"""The store's indexes, on both backends as the migrations leave them."""

from __future__ import annotations

from sqlalchemy import inspect

from publisher.store.engine import make_engine


def test_no_index_is_covered_by_another_index_or_a_unique_constraint(db_url: str) -> None:
    # An index whose columns lead another index (or a unique constraint, or the primary key)
    # answers nothing the longer one does not, and every write to its table pays for it: a
    # delivery's row is updated twice on its way (claimed, finished) and each update changes its
    # state, so each writes an entry into every index on the table.
    engine = make_engine(db_url)
    covered: list[tuple[str, str, str]] = []
    try:
        found = inspect(engine)
        tables = [t for t in found.get_table_names() if t != "alembic_version"]
        assert "delivery" in tables and "revision" in tables
        for table in tables:
            indexes = {i["name"]: tuple(i["column_names"]) for i in found.get_indexes(table)}
            longer = {str(k): v for k, v in indexes.items()}
            for unique in found.get_unique_constraints(table):
                longer[str(unique["name"])] = tuple(unique["column_names"])
            longer["primary key"] = tuple(found.get_pk_constraint(table)["constrained_columns"])
            covered += [
                (table, str(name), other)
                for name, columns in indexes.items()
                for other, by in longer.items()
                if other != name and by[: len(columns)] == columns
            ]
        delivery = {i["name"]: tuple(i["column_names"]) for i in found.get_indexes("delivery")}
    finally:
        engine.dispose()
    assert covered == []
    # The engine's claim reads by state and due time; the console by channel and by article.
    assert delivery["ix_delivery_due"] == ("status", "next_attempt_at", "id")
    assert delivery["ix_delivery_channel_status"][0] == "channel"
    assert delivery["ix_delivery_article_revision"][0] == "article_id"
