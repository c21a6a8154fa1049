"""The delivery table's indexes, on both backends as the migrations leave them."""

from __future__ import annotations

from sqlalchemy import inspect

from publisher.store.engine import make_engine


def test_no_index_of_the_delivery_table_is_covered_by_another(db_url: str) -> None:
    # A delivery's row is updated twice on its way (claimed, finished) and each update changes its
    # state, so each writes an entry into every index on the table: an index whose columns lead
    # another index (or a unique constraint) answers nothing the longer one does not, and only
    # costs the engine's hottest path.
    engine = make_engine(db_url)
    try:
        found = inspect(engine)
        indexes = {i["name"]: tuple(i["column_names"]) for i in found.get_indexes("delivery")}
        longer = {**indexes}
        longer |= {str(u["name"]): tuple(u["column_names"]) for u in found.get_unique_constraints("delivery")}
        longer["primary key"] = tuple(found.get_pk_constraint("delivery")["constrained_columns"])
    finally:
        engine.dispose()
    covered = [
        (name, other)
        for name, columns in indexes.items()
        for other, by in longer.items()
        if other != name and by[: len(columns)] == columns
    ]
    assert covered == []
    # The engine's claim reads by state and due time; the console by channel and by article.
    assert indexes["ix_delivery_due"] == ("status", "next_attempt_at")
    assert indexes["ix_delivery_channel_status"][0] == "channel"
    assert indexes["ix_delivery_article_revision"][0] == "article_id"
