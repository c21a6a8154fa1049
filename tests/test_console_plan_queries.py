"""The calendar, queue, retract, correction, audit and users pages ask the same number of SQL
statements whatever the number of releases, events and people: more data, same round trips."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from publisher import audit
from publisher.engine.scheduling import schedule
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.users import add_user
from publisher.store.engine import write_session
from publisher.timeutil import local, utc_now
from tests.console_helpers import console_server, seed_staff, sign_in
from tests.factory import base_meta, write_article
from tests.query_count import counting
from tests.review_helpers import approve

PAGES = (
    "/queue",
    "/queue?state=scheduled&channel=website",
    "/audit",
    "/audit?action=delivery.",
    "/users",
    "/articles/article-1/retract",
    "/articles/article-1/correction",
)


def grow(room: Newsroom, articles: int, start: int) -> None:
    """More approved articles, each planned on two channels, more audit events and more staff."""
    for n in range(start, start + articles):
        write_article(room.content_dir, f"extra-{n}.md", base_meta(f"extra-{n}", title=f"加稿{n}"))
    assert ingest(room).ok
    soon = utc_now() + timedelta(hours=2)
    for n in range(start, start + articles):
        approve(room, f"extra-{n}")
        schedule(room, f"extra-{n}", ["website", "wechat"], soon + timedelta(hours=n), "zhouwb")
    with write_session(room.engine) as session:
        audit.append_many(
            session, [audit.Entry("zhouwb", "delivery.note", "article", f"x-{n}") for n in range(120)]
        )
        for n in range(start, start + articles):
            add_user(session, username=f"staff{n}", name=f"职员{n}", roles=["author"], actor="admin")


def statements(room: Newsroom, client: httpx.Client) -> dict[str, int]:
    day = local(utc_now() + timedelta(hours=3), room.settings.tz).date().isoformat()
    counts = {}
    for path in (f"/calendar?date={day}", f"/calendar?view=week&date={day}", *PAGES):
        with counting(room.engine) as counted:
            assert client.get(path).status_code == 200, path
        counts[path] = counted.count
    return counts


@pytest.fixture
def planned(room: Newsroom) -> Newsroom:
    assert ingest(room).ok
    seed_staff(room)
    approve(room, "article-1")
    return room


def test_the_plan_pages_ask_the_same_statements_with_four_times_the_data(planned: Newsroom) -> None:
    grow(planned, 3, 1)
    with console_server(planned) as base:
        client, _ = sign_in(base, "admin")
        client.get("/calendar")  # the session's first touch is not the page's
        small = statements(planned, client)
        grow(planned, 12, 10)
        large = statements(planned, client)
    assert large == small
