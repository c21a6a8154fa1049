"""`publisher plan`: the month grid, slot states read from the store, the horizon, iCalendar, JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlmodel import select
from typer.testing import CliRunner

from publisher.cli import app
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.service import ReviewService
from publisher.store.engine import write_session
from publisher.store.tables import Article, Delivery
from publisher.timeutil import utc_now
from tests.review_helpers import seed_users, sign_through
from tests.schedule_helpers import local, write_rules

runner = CliRunner()
AS_OF = "2026-11-27T08:00"  # one hour before the countdown's first slot, Shanghai time


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={**env, "COLUMNS": "160"})
    return result.exit_code, result.stdout, result.stderr


def _deliver(room: Newsroom, slug: str, campaign: str, number: int, channel: str = "website") -> None:
    now = utc_now()
    with write_session(room.engine) as session:
        article = session.exec(select(Article).where(Article.slug == slug)).one()
        assert article.id is not None
        session.add(
            Delivery(
                article_id=article.id,
                channel=channel,
                due_at=now,
                status="scheduled",
                next_attempt_at=now,
                idempotency_key=f"{campaign}-{number}-{slug}-{channel}",
                campaign=campaign,
                slot_number=number,
                created_by="test",
                created_at=now,
                updated_at=now,
            )
        )


@pytest.fixture
def env(room: Newsroom, db_url: str) -> dict[str, str]:
    """The demo schedules; article-1 approved in slot 1, article-2 in review in slot 2."""
    ingest(room)
    seed_users(room)
    service = ReviewService(room)
    service.submit("article-1", "wangxm")
    sign_through(room, service, "article-1")
    service.submit("article-2", "wangxm")
    _deliver(room, "article-1", "constitution-day", 1)
    _deliver(room, "article-1", "constitution-day", 1, "wechat")
    _deliver(room, "article-2", "constitution-day", 2)
    _deliver(room, "article-3", "constitution-day", 3)
    with write_session(room.engine) as session:
        canceled = session.exec(select(Delivery).where(Delivery.slot_number == 3)).one()
        canceled.status = "canceled"  # a canceled delivery fills nothing
        session.add(canceled)
    return {"PUBLISHER_NEWSROOM": str(room.root), "PUBLISHER_DATABASE_URL": db_url}


def test_json_states_and_horizon(env: dict[str, str]) -> None:
    code, out, _ = run(env, "plan", "constitution-day", "--as-of", AS_OF, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["month"] == "2026-11" and data["timezone"] == "Asia/Shanghai" and data["paused"] is False
    states = {s["number"]: (s["state"], s["articles"]) for s in data["slots"]}
    assert states == {
        1: ("filled", ["article-1"]),
        2: ("held", ["article-2"]),
        3: ("empty", []),
        4: ("empty", []),
    }
    first = data["slots"][0]
    assert first["due"] == "2026-11-27T01:00:00+00:00" and first["local"] == "2026-11-27 09:00 +0800"
    assert first["label"] == "距国家宪法日还有7天"
    # Seven days from 08:00 on 27 Nov: slots 1..7 are due; 1 and 2 have articles.
    assert data["horizon"]["days"] == 7
    assert [s["number"] for s in data["horizon"]["empty"]] == [3, 4, 5, 6, 7]


def test_month_option_and_horizon_option(env: dict[str, str]) -> None:
    code, out, _ = run(
        env,
        "plan",
        "constitution-day",
        "--month",
        "2026-12",
        "--horizon-days",
        "3",
        "--as-of",
        AS_OF,
        "--json",
    )
    data = json.loads(out)
    assert code == 0 and data["month"] == "2026-12"
    assert [s["number"] for s in data["slots"]] == [5, 6, 7, 8]
    assert [s["number"] for s in data["horizon"]["empty"]] == [3]


def test_all_campaigns_in_one_month(env: dict[str, str]) -> None:
    code, out, _ = run(env, "plan", "--month", "2026-12", "--as-of", AS_OF, "--json")
    data = json.loads(out)
    assert code == 0
    assert {c["key"] for c in data["campaigns"]} == {
        "constitution-day",
        "legislation",
        "deputies",
        "supervision-rivers-lakes",
    }
    dues = [s["due"] for s in data["slots"]]
    assert dues == sorted(dues)
    assert any("2027" in w for w in data["warnings"])  # legislation and deputies run into 2027


def test_grid_and_table(env: dict[str, str]) -> None:
    code, out, err = run(env, "plan", "constitution-day", "--as-of", AS_OF)
    assert code == 0
    assert "2026年11月" in out and "一" in out and "日" in out
    assert "●" in out and "◐" in out and "○" in out
    assert "已排稿" in out and "待审批" in out and "空缺" in out
    assert "constitution-day #1" in out and "article-1" in out
    assert "未来 7 天内有 5 个空缺时段" in err and "constitution-day #3  距国家宪法日还有5天" in err
    assert "2027" not in err  # the countdown does not reach the year chinese-calendar lacks


def test_grid_marks_tiaoxiu_days(env: dict[str, str]) -> None:
    code, out, _ = run(env, "plan", "--month", "2026-02", "--as-of", AS_OF)
    assert code == 0 and "2026年2月" in out
    assert out.count("班") >= 2 and out.count("休") >= 9  # Sat 14 and 28 work; 16-23 Feb off


def test_ics_parses_back_with_utc_instants(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "plan.ics"
    code, out, _ = run(env, "plan", "constitution-day", "--as-of", AS_OF, "--ics", str(target), "--json")
    assert code == 0 and json.loads(out)["ics"]["events"] == 8
    cal = Calendar.from_ical(target.read_bytes())
    events = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert len(events) == 8
    starts = [e.decoded("dtstart") for e in events]
    assert starts[0] == datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    assert starts[-1] == local(2026, 12, 4, 9)
    assert all(s.utcoffset() is not None and s.utcoffset().total_seconds() == 0 for s in starts)
    assert [str(e["uid"]) for e in events][:2] == [
        "constitution-day-1@publisher",
        "constitution-day-2@publisher",
    ]
    assert str(events[0]["summary"]).startswith("[已排稿]") and str(events[1]["summary"]).startswith(
        "[待审批]"
    )
    assert "article-1" in str(events[0]["description"])


def test_pause_is_shown(env: dict[str, str], room: Newsroom) -> None:
    write_rules(room.root, 'paused = true\npause_reason = "突发事件"\n')
    code, out, _ = run(env, "plan", "--as-of", AS_OF)
    assert code == 0 and "已暂停全部发布" in out and "突发事件" in out
    code, out, _ = run(env, "plan", "--as-of", AS_OF, "--json")
    assert json.loads(out)["paused"] is True


def test_unknown_campaign_and_bad_options(env: dict[str, str]) -> None:
    code, _, err = run(env, "plan", "nope")
    assert code == 1 and "nope" in err and "constitution-day" in err
    code, _, err = run(env, "plan", "--month", "2026-13")
    assert code == 1 and "YYYY-MM" in err
    code, _, err = run(env, "plan", "--as-of", "tomorrow")
    assert code == 1 and "ISO 8601" in err


def test_bad_schedules_exit_2_with_file_and_field(env: dict[str, str], room: Newsroom) -> None:
    (room.schedules_dir / "campaigns" / "broken.toml").write_text(
        'name = "x"\nchannels = ["weibo"]\n', "utf-8"
    )
    code, _, err = run(env, "plan")
    assert code == 2 and "broken.toml" in err and "cadence" in err


def test_plan_without_a_database_creates_nothing(newsroom_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "absent.db"
    code, out, _ = run(
        {"PUBLISHER_NEWSROOM": str(newsroom_dir), "PUBLISHER_DATABASE_URL": f"sqlite:///{db}"},
        "plan",
        "constitution-day",
        "--as-of",
        AS_OF,
        "--json",
    )
    assert code == 0 and {s["state"] for s in json.loads(out)["slots"]} == {"empty"}
    assert not db.exists()
