"""The supply faces: supply send/token/adopt/holdings, report supply, retract, sandbox partner."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from publisher.cli import app
from publisher.engine.clock import FixedClock
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.supply.sandbox import SandboxPartner, parse_failures
from tests.review_helpers import cli_login, seed_users
from tests.supply_support import PULL, PUSH, SECRET, SECRET_ENV, aim_partners, approve, run_engine

runner = CliRunner()


@pytest.fixture
def cli_room(
    newsroom_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Newsroom, dict[str, str], SandboxPartner]]:
    with SandboxPartner(SECRET) as partner:
        aim_partners(newsroom_dir, partner.url)
        monkeypatch.setenv(SECRET_ENV, SECRET)
        monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
        room = Newsroom(newsroom_dir)
        assert ingest(room).ok
        seed_users(room)
        cli_login(room, "zhouwb")  # the duty editor
        env = {"PUBLISHER_NEWSROOM": str(newsroom_dir), "PUBLISHER_DATABASE_URL": db_url, "COLUMNS": "200"}
        yield room, env, partner
        room.close()


def test_send_adopt_report_retract(cli_room: tuple[Newsroom, dict[str, str], SandboxPartner]) -> None:
    room, env, partner = cli_room
    approve(room, "article-1")
    result = runner.invoke(app, ["supply", "send", "article-1", "--at", "2026-12-04 09:00"], env=env)
    assert result.exit_code == 0, result.output
    assert f"article-1 → {PUSH}" in result.stdout and f"article-1 → {PULL}" in result.stdout
    assert run_engine(room, FixedClock(datetime(2026, 12, 4, 1, 0, tzinfo=UTC))) == 2
    assert len(partner.received) == 1
    holdings = json.loads(runner.invoke(app, ["supply", "holdings", "--json"], env=env).stdout)
    assert sorted((h["partner"], h["version"], h["pubstatus"]) for h in holdings) == [
        (PULL, 1, "usable"),
        (PUSH, 1, "usable"),
    ]
    adopt = [
        "supply",
        "adopt",
        "article-1",
        PUSH,
        "--url",
        "https://daily.example/1",
        "--at",
        "2026-12-04 21:00",
    ]
    assert "已登记采用" in runner.invoke(app, adopt, env=env).stdout
    assert "此前已登记" in runner.invoke(app, adopt, env=env).stdout
    bad = runner.invoke(app, ["supply", "adopt", "article-2", PUSH, "--url", "https://x.example/"], env=env)
    assert bad.exit_code == 1 and "never supplied" in bad.stderr
    out = runner.invoke(app, ["report", "supply", "--month", "2026-12", "--csv"], env=env).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    push_total = next(r for r in rows if r["partner"] == PUSH and r["column"] == "（合计）")
    assert (push_total["supplied"], push_total["adopted"], push_total["rate"]) == ("1", "1", "1.0000")
    assert push_total["median_delay_hours"] == "12.00"
    table = runner.invoke(app, ["report", "supply", "--month", "2026-12"], env=env).stdout
    assert "供稿月报" in table and "江州日报" in table
    assert runner.invoke(app, ["report", "supply", "--month", "2026-13"], env=env).exit_code == 1
    assert runner.invoke(app, ["retract", "article-1", "--reason", " "], env=env).exit_code == 1
    retracted = runner.invoke(app, ["retract", "article-1", "--reason", "事实有误"], env=env)
    assert retracted.exit_code == 0 and "已撤稿" in retracted.stdout and PUSH in retracted.stdout


def test_tokens_issue_list_revoke(cli_room: tuple[Newsroom, dict[str, str], SandboxPartner]) -> None:
    _room, env, _partner = cli_room
    issued = runner.invoke(app, ["supply", "token", "issue", PULL], env=env)
    assert issued.exit_code == 0 and issued.stdout.strip().startswith("pt_")
    assert runner.invoke(app, ["supply", "token", "issue", PUSH], env=env).exit_code == 1  # push-only
    listed = json.loads(runner.invoke(app, ["supply", "token", "list", "--json"], env=env).stdout)
    assert [(t["partner"], t["revoked_at"]) for t in listed] == [(PULL, None)]
    assert issued.stdout.strip() not in json.dumps(listed)  # the secret is never shown again
    assert "已吊销 1" in runner.invoke(app, ["supply", "token", "revoke", PULL], env=env).stdout
    assert runner.invoke(app, ["supply", "token", "revoke", "nobody"], env=env).exit_code == 1


def test_sandbox_failure_specs() -> None:
    assert [f.status for f in parse_failures("503x3")] == [503, 503, 503]
    assert parse_failures("429:7")[0].retry_after == "7"
    assert parse_failures("400:标题过长")[0].reason == "标题过长"
    assert parse_failures("slow:2")[0].delay == 2.0
    with pytest.raises(ValueError):
        parse_failures("teapot")
    result = runner.invoke(app, ["sandbox", "partner", "--help"])
    assert result.exit_code == 0 and "--fail" in result.stdout
