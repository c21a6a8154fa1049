"""供稿 over real HTTP: the month's report with its SVG chart of adoption per partner and column,
the CSV download, and the roles that may not see it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from publisher.engine.clock import FixedClock
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.supply.sandbox import SandboxPartner
from publisher.supply.service import record_adoption, supply_article
from tests.console_helpers import console_server, seed_staff, sign_in
from tests.supply_support import PUSH, SECRET, SECRET_ENV, aim_partners, approve, run_engine


@pytest.fixture
def supplied(newsroom_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Newsroom]:
    with SandboxPartner(SECRET) as partner:
        aim_partners(newsroom_dir, partner.url)
        monkeypatch.setenv(SECRET_ENV, SECRET)
        monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
        room = Newsroom(newsroom_dir)
        assert ingest(room).ok
        seed_staff(room)
        approve(room, "article-1")
        at = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
        supply_article(room, "article-1", "zhouwb", at=at, now=at)
        assert run_engine(room, FixedClock(at)) == 2
        record_adoption(
            room,
            PUSH,
            "article-1",
            "https://daily.example/1",
            "zhouwb",
            "staff",
            adopted_at=datetime(2026, 12, 4, 13, 0, tzinfo=UTC),
        )
        yield room
        room.close()


def test_the_month_shows_adoption_per_partner_and_column_as_a_chart_and_csv(supplied: Newsroom) -> None:
    with console_server(supplied) as base:
        client, _ = sign_in(base, "zhouwb")
        report = client.get("/supply", params={"month": "2026-12"})
        assert report.status_code == 200
        assert "<svg" in report.text and 'class="bar-adopted"' in report.text
        assert "江州日报" in report.text and "1/1 采用 100%" in report.text and "100.0%" in report.text
        download = client.get("/supply.csv", params={"month": "2026-12"})
        assert download.headers["content-type"].startswith("text/csv")
        assert 'filename="supply-2026-12.csv"' in download.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(download.text.lstrip("\ufeff"))))
        total = next(r for r in rows if r["partner"] == PUSH and r["column"] == "（合计）")
        assert (total["supplied"], total["adopted"], total["median_delay_hours"]) == ("1", "1", "12.00")
        empty = client.get("/supply", params={"month": "2026-01"})
        assert "本月没有向合作媒体供稿" in empty.text
        bad = client.get("/supply", params={"month": "2026-13"})
        assert bad.status_code == 400 and "YYYY-MM" in bad.text


def test_staff_without_the_supply_permission_cannot_see_it(supplied: Newsroom) -> None:
    with console_server(supplied) as base:
        client, _ = sign_in(base, "wangxm")
        assert client.get("/supply", params={"month": "2026-12"}).status_code == 403
        assert client.get("/supply.csv", params={"month": "2026-12"}).status_code == 403
