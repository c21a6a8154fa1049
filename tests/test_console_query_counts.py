"""Every console read model runs the same number of SQL statements on a small newsroom and on one
five times its size: a page's cost in round trips does not grow with the store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, col, func, select

from bench.console_seed import NOW, seed
from publisher.console.views.article_detail import article_detail
from publisher.console.views.article_list import ArticleFilter, article_list
from publisher.console.views.calendar import month_view, week_view
from publisher.console.views.dashboard import dashboard
from publisher.console.views.diff import default_pair, diff_revisions
from publisher.console.views.queue import channel_queue
from publisher.newsroom import Newsroom
from publisher.review.staffing import check_staffing
from publisher.schedule.load import load_schedules
from publisher.standing import ArticleState
from publisher.store.tables import Article, Delivery
from tests.conftest import PG_URL
from tests.factory import shared_corpus_script
from tests.pg_schemas import url_of
from tests.query_count import counting

pytestmark = pytest.mark.skipif(shared_corpus_script() is None, reason="needs ../shared/bench/make_corpus.py")

SMALL = {"articles": 12, "deliveries": 150, "users": 30}
LARGE = {"articles": 60, "deliveries": 750, "users": 30}


@pytest.fixture(params=["sqlite", "postgresql"])
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'small.db'}", f"sqlite:///{tmp_path / 'large.db'}"
        return
    schemas = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for schema in schemas:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        small, large = (url_of(PG_URL, schema) for schema in schemas)
        yield small, large
    finally:
        with admin.connect() as conn:
            for schema in schemas:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _busiest(session: Session) -> str:
    """The article with the most releases: its page has the most to show."""
    slug: str = session.exec(
        select(Article.slug)
        .join(Delivery, col(Delivery.article_id) == col(Article.id))
        .group_by(col(Article.slug))
        .order_by(func.count().desc(), col(Article.slug))
        .limit(1)
    ).one()
    return slug


def _pages(room: Newsroom) -> dict[str, Callable[[Session], Any]]:
    schedules = load_schedules(room)
    settings = room.settings
    with Session(room.engine) as session:
        busiest = _busiest(session)
    return {
        "dashboard": lambda s: dashboard(s, "zhouwb", NOW, 5),
        "dashboard (author)": lambda s: dashboard(s, "wangxm", NOW, 5),
        "list": lambda s: article_list(s),
        "list page 2": lambda s: article_list(s, page=2, size=5),
        "list by state": lambda s: article_list(s, ArticleFilter(state=ArticleState.APPROVED)),
        "list by stage": lambda s: article_list(s, ArticleFilter(stage="复审")),
        "list by author and text": lambda s: article_list(s, ArticleFilter(author="lijing", text="人大")),
        "list by column": lambda s: article_list(s, ArticleFilter(column="良法善治护航发展")),
        "article": lambda s: article_detail(s, busiest),
        "diff": lambda s: diff_revisions(s, busiest, 1, 1),
        "default pair": lambda s: default_pair(s, busiest, "zhouwb"),
        "month": lambda s: month_view(s, schedules, 2026, 11),
        "week": lambda s: week_view(s, schedules, date(2026, 11, 23)),
        "queue": lambda s: channel_queue(s, "wechat"),
        "queue by state": lambda s: channel_queue(s, None, states=["failed", "held"]),
        "staffing": lambda s: check_staffing(s, settings.review.stages, settings.committees),
    }


def _counts(root: Path, url: str, size: dict[str, int]) -> tuple[dict[str, int], int]:
    seed(root, database_url=url, quiet=True, **size)
    room = Newsroom(root)
    try:
        counts = {}
        for name, page in _pages(room).items():
            with Session(room.engine) as session:
                page(session)  # warm: the first use of a session may look up the schema
            with Session(room.engine) as session, counting(room.engine) as counted:
                page(session)
            counts[name] = counted.count
        with Session(room.engine) as session:
            deliveries = session.exec(select(func.count()).select_from(Delivery)).one()
        return counts, deliveries
    finally:
        room.close()


@pytest.mark.slow
def test_every_page_runs_as_many_queries_on_five_times_the_data(
    two_urls: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUBLISHER_DATABASE_URL", raising=False)
    small, small_deliveries = _counts(tmp_path / "small", two_urls[0], SMALL)
    large, large_deliveries = _counts(tmp_path / "large", two_urls[1], LARGE)
    assert large_deliveries == 5 * small_deliveries == 5 * SMALL["deliveries"]
    assert large == small
    assert max(small.values()) <= 15, small
