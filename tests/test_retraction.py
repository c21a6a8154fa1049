"""Retraction (撤稿) as takedown deliveries: recorded once, performed by the engine with its retries,
reported per channel, and never publishing anything else."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from publisher.channels.wechat.sandbox import State, running
from publisher.cli import app
from publisher.delivery.states import DeliveryAction, DeliveryState
from publisher.engine import retraction, scheduling
from publisher.engine.clock import FixedClock
from publisher.engine.worker import DeliveryWorker
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.tables import AuditEvent, Delivery, Retraction
from tests.review_helpers import cli_login, seed_users
from tests.supply_support import approve
from tests.wechat_helpers import APP_ID, fault, sandbox_state

runner = CliRunner()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with running(State(app_id=APP_ID, secret=None, publish_delay=0.05)) as base:
        yield base


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def aim_wechat(root: Path, base: str) -> None:
    (root / "channels" / "wechat.toml").write_text(
        'kind = "wechat"\ntitle = "江澜人大（微信公众号）"\n[settings]\n'
        f'app_id = "{APP_ID}"\napp_secret_env = "PUBLISHER_WECHAT_SECRET"\napi_base = "{base}"\n'
        "sandbox = true\npushes_per_day = 20\nquiet_hours = []\npoll_seconds = 0.05\ntimeout_seconds = 2\n"
        'default_cover = "channels/assets/wechat-default-cover.jpg"\n',
        encoding="utf-8",
    )


@pytest.fixture
def wroom(
    newsroom_dir: Path, db_url: str, sandbox: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Newsroom]:
    aim_wechat(newsroom_dir, sandbox)
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(newsroom_dir)
    assert not room.channels.problems, room.channels.problems
    assert ingest(room).ok
    seed_users(room)
    yield room
    room.close()


def pages(room: Newsroom) -> set[str]:
    folder = room.root / "public" / "articles"
    return {p.stem for p in folder.glob("*.html")} if folder.is_dir() else set()


def feed_text(room: Newsroom) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in (room.root / "public").rglob("feeds/*.xml"))


def takedowns(room: Newsroom) -> dict[str, Delivery]:
    with Session(room.engine) as s:
        rows = s.exec(select(Delivery).where(Delivery.action == DeliveryAction.TAKE_DOWN))
        return {d.channel: d for d in rows}


def deletes(base: str) -> int:
    count: int = sandbox_state(base)["calls"].get("freepublish/delete", 0)
    return count


def test_retracting_one_article_on_a_scheduled_website_publishes_nothing_else(room: Newsroom) -> None:
    assert room.channels.channels["website"].settings.release == "scheduled"  # type: ignore[attr-defined]
    assert ingest(room).ok
    seed_users(room)
    for slug in ("article-1", "article-2", "article-3"):
        approve(room, slug)
    now = datetime.now(UTC)
    scheduling.schedule(room, "article-1", ["website"], now, "zhouwb")
    for slug in ("article-2", "article-3"):  # approved, released only next month
        scheduling.schedule(room, slug, ["website", "site-feed"], now + timedelta(days=30), "zhouwb")
    assert DeliveryWorker(room).run_once() == 1
    assert pages(room) == {"article-1"}

    report = retraction.take_down_now(room, retraction.retract(room, "article-1", "数据有误", "zhouwb"))

    assert report.complete and {c.channel for c in report.channels} == {"website", "site-feed"}
    assert pages(room) == set(), "nothing else went up with the rebuild"
    assert "article-2" not in feed_text(room) and "article-3" not in feed_text(room)
    with Session(room.engine) as s:
        pending = s.exec(select(Delivery).where(Delivery.status == DeliveryState.SCHEDULED)).all()
    assert len(pending) == 4, "the later releases stay planned for their own time"


def test_a_retraction_with_the_wechat_api_down_completes_after_it_comes_back(
    wroom: Newsroom, sandbox: str
) -> None:
    approve(wroom, "article-1")
    scheduling.schedule(wroom, "article-1", ["wechat", "website"], datetime.now(UTC), "zhouwb")
    assert DeliveryWorker(wroom).run_once() == 2
    before = deletes(sandbox)

    aim_wechat(wroom.root, closed_port())  # WeChat's API cannot be reached
    down = Newsroom(wroom.root)
    report = retraction.take_down_now(down, retraction.retract(down, "article-1", "数据有误", "zhouwb"))
    state = {c.channel: c for c in report.channels}
    assert state["website"].state == "done" and "article-1" not in pages(down)
    assert state["wechat"].state == "pending" and state["wechat"].detail
    assert deletes(sandbox) == before
    down.close()

    aim_wechat(wroom.root, sandbox)  # it comes back: the next run finishes the takedown
    back = Newsroom(wroom.root)
    later = FixedClock(datetime.now(UTC) + timedelta(hours=1))
    assert DeliveryWorker(back, clock=later).run_once() == 1
    assert all(c.state == "done" for c in retraction.progress(back, "article-1"))
    assert deletes(sandbox) == before + 1
    receipt = json.loads(takedowns(back)["wechat"].receipt_json or "{}")
    assert receipt["detail"]["retracted"]
    back.close()


def test_retracting_records_the_retraction_once_and_audits_every_takedown(room: Newsroom) -> None:
    assert ingest(room).ok
    seed_users(room)
    approve(room, "article-2")
    scheduling.schedule(room, "article-2", ["website"], datetime.now(UTC) + timedelta(days=1), "zhouwb")
    first = retraction.retract(room, "article-2", "撤回", "zhouwb")
    again = retraction.retract(room, "article-2", "再次撤回", "zhouwb")
    assert first.canceled == 1 and not first.already and again.already
    with Session(room.engine) as s:
        [row] = s.exec(select(Retraction)).all()
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(col(AuditEvent.seq)))]
    assert row.reason == "撤回"
    assert actions.count("article.retract") == 2 and actions.count("delivery.cancel") == 1
    assert set(takedowns(room)) == {"website", "site-feed"}, "one takedown per channel, not one per retract"


def test_retract_reports_done_and_pending_per_channel_with_its_exit_code(
    wroom: Newsroom, sandbox: str, db_url: str
) -> None:
    approve(wroom, "article-3")
    scheduling.schedule(wroom, "article-3", ["wechat"], datetime.now(UTC), "zhouwb")
    assert DeliveryWorker(wroom).run_once() == 1
    env = {"PUBLISHER_NEWSROOM": str(wroom.root), "PUBLISHER_DATABASE_URL": db_url, "COLUMNS": "200"}
    cli_login(wroom, "zhouwb")

    aim_wechat(wroom.root, closed_port())
    down = runner.invoke(app, ["retract", "article-3", "--reason", "事实有误", "--as", "zhouwb"], env=env)
    assert down.exit_code == 2 and isinstance(down.exception, SystemExit), down.output
    assert "Traceback" not in down.output
    lines = {line.split()[-1]: line for line in down.stdout.splitlines() if "/ done" in line}
    assert "website" in lines
    assert any("pending" in line and "wechat" in line for line in down.stdout.splitlines())
    assert "publisher run" in down.stdout
    queue = json.loads(runner.invoke(app, ["queue", "--json"], env=env).stdout)
    assert [(q["channel"], q["action"]) for q in queue] == [("wechat", DeliveryAction.TAKE_DOWN)]

    aim_wechat(wroom.root, sandbox)
    again = runner.invoke(
        app, ["retract", "article-3", "--reason", "事实有误", "--as", "zhouwb", "--json"], env=env
    )
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert data["already"] and {c["channel"]: c["state"] for c in data["channels"]} == {
        "site-feed": "done",
        "website": "done",
        "wechat": "done",
    }


def test_a_wechat_refusal_of_the_takedown_is_reported_as_failed_and_retracting_again_retries_it(
    wroom: Newsroom, sandbox: str, db_url: str
) -> None:
    approve(wroom, "article-2")
    scheduling.schedule(wroom, "article-2", ["wechat"], datetime.now(UTC), "zhouwb")
    assert DeliveryWorker(wroom).run_once() == 1
    env = {"PUBLISHER_NEWSROOM": str(wroom.root), "PUBLISHER_DATABASE_URL": db_url, "COLUMNS": "200"}
    cli_login(wroom, "zhouwb")
    fault(sandbox, "freepublish/delete", errcode=48001, count=1)  # api unauthorized

    refused = runner.invoke(app, ["retract", "article-2", "--reason", "事实有误", "--as", "zhouwb"], env=env)
    assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit), refused.output
    [line] = [line for line in refused.stdout.splitlines() if "failed" in line and "wechat" in line]
    assert "48001" in line
    assert takedowns(wroom)["wechat"].status == DeliveryState.FAILED

    again = runner.invoke(app, ["retract", "article-2", "--reason", "事实有误", "--as", "zhouwb"], env=env)
    assert again.exit_code == 0, again.output
    assert takedowns(wroom)["wechat"].status == DeliveryState.DONE
