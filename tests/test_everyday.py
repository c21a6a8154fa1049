"""The everyday commands staff asked for: users edit, plan's opening month, live status, clear OS errors."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from publisher.cli import app
from publisher.newsroom import Newsroom
from publisher.review import users
from publisher.scaffold import Answers, init_newsroom
from publisher.store.engine import write_session
from publisher.store.tables import AuditEvent, Worker

runner = CliRunner()


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def env(room: Newsroom, db_url: str) -> dict[str, str]:
    with write_session(room.engine) as session:
        users.add_user(session, username="zhang", name="张伟", roles=["editor"], actor="t")
    return {"PUBLISHER_NEWSROOM": str(room.root), "PUBLISHER_DATABASE_URL": db_url}


def _user(room: Newsroom) -> tuple[list[str], list[str], list[str], bool]:
    with Session(room.engine) as session:
        u = users.get_user(session, "zhang")
        return users.roles_of(u), users.committees_of(u), users.departments_of(u), u.active


def test_users_edit_changes_roles_departments_and_committees_and_audits(
    room: Newsroom, env: dict[str, str]
) -> None:
    committee = sorted(room.taxonomy.committees)[0]
    department = sorted(room.taxonomy.departments)[0]
    code, out, err = run(
        env,
        "users",
        "edit",
        "zhang",
        "--roles",
        "editor,committee_reviewer",
        "--committees",
        committee,
        "--departments",
        department,
    )
    assert code == 0 and "已更新用户" in out, out + err
    assert _user(room) == (["editor", "committee_reviewer"], [committee], [department], True)
    # Dropping the reviewer role drops its committee; the department stays as it was.
    code, out, err = run(env, "users", "edit", "zhang", "--roles", "proofreader")
    assert code == 0, out + err
    assert _user(room) == (["proofreader"], [], [department], True)
    with Session(room.engine) as session:
        event = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc())).first()
    assert event is not None and (event.action, event.object_id) == ("user.update", "zhang")
    assert "proofreader" in event.details_json


def test_users_edit_disables_and_enables(room: Newsroom, env: dict[str, str]) -> None:
    assert run(env, "users", "edit", "zhang", "--disable")[0] == 0
    assert _user(room)[3] is False
    assert run(env, "users", "edit", "zhang", "--enable")[0] == 0
    assert _user(room)[3] is True


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--roles", "editer"], "unknown role"),
        (["--roles", "committee_reviewer"], "needs --committees"),
        (["--roles", "committee_reviewer", "--committees", "不存在委员会"], "undeclared committees"),
        ([], "nothing to change"),
    ],
)
def test_users_edit_refuses_what_cannot_be(
    room: Newsroom, env: dict[str, str], args: list[str], says: str
) -> None:
    code, _out, err = run(env, "users", "edit", "zhang", *args)
    assert code == 1 and says in err and "Traceback" not in err
    assert _user(room) == (["editor"], [], [], True)


def test_users_edit_of_an_unknown_user_is_a_clear_error(env: dict[str, str]) -> None:
    code, _out, err = run(env, "users", "edit", "nobody", "--roles", "editor")
    assert code == 1 and "没有这个用户" in err


@pytest.fixture
def later_campaign(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "room"
    init_newsroom(folder, Answers(name="测试人大"))
    for campaign in (folder / "schedules" / "campaigns").glob("*.toml"):
        campaign.unlink()
    (folder / "schedules" / "campaigns" / "spring.toml").write_text(
        'name = "春季专题"\ncolumn = "news"\nchannels = ["website"]\n'
        "[window]\nstart = 2027-03-02\nend = 2027-04-30\n"
        '[cadence]\nkind = "weekly"\nweekdays = ["tue"]\ntimes = ["10:00"]\n',
        encoding="utf-8",
    )
    yield folder


def test_plan_opens_on_the_month_of_the_next_slot_when_this_month_has_none(
    later_campaign: Path, db_url: str
) -> None:
    env = {"PUBLISHER_NEWSROOM": str(later_campaign), "PUBLISHER_DATABASE_URL": db_url}
    code, out, err = run(env, "plan", "--json", "--as-of", "2026-12-01T09:00")
    assert code == 0, out + err
    plan = json.loads(out)
    assert plan["month"] == "2027-03" and plan["slots"]
    code, out, _err = run(env, "plan", "--json", "--as-of", "2026-12-01T09:00", "--month", "2026-12")
    assert json.loads(out)["month"] == "2026-12"  # a month asked for is shown, empty or not


def test_status_lists_live_workers_and_all_of_them_with_all(room: Newsroom, env: dict[str, str]) -> None:
    now = datetime.now(UTC)
    with write_session(room.engine) as session:
        for ident, beat, state in (
            ("live", now, "running"),
            ("gone", now - timedelta(hours=5), "running"),
            ("done", now - timedelta(minutes=1), "stopped"),
        ):
            session.add(
                Worker(
                    id=ident, host="h", pid=1, started_at=beat, heartbeat_at=beat, state=state, processed=0
                )
            )
    code, out, _err = run(env, "status", "--json")
    assert code == 0 and [w["id"] for w in json.loads(out)["workers"]] == ["live"]
    code, out, _err = run(env, "status", "--json", "--all")
    assert sorted(w["id"] for w in json.loads(out)["workers"]) == ["done", "gone", "live"]
    code, out, _err = run(env, "status")
    assert "live" in out and "gone" not in out


@pytest.fixture
def busy_port() -> Iterator[int]:
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        yield holder.getsockname()[1]
    finally:
        holder.close()


def test_a_busy_port_is_a_clear_message_not_a_traceback(busy_port: int, tmp_path: Path) -> None:
    code, out, err = run({}, "sandbox", "wechat", "--port", str(busy_port))
    assert code == 1 and "端口已被占用" in err and "port is already in use" in err and "--port" in err
    assert "Traceback" not in out + err

    folder = tmp_path / "room"
    init_newsroom(folder, Answers(name="测试人大"))
    (folder / "public").mkdir()
    code, out, err = run({"PUBLISHER_NEWSROOM": str(folder)}, "preview", "--port", str(busy_port))
    assert code == 1 and "端口已被占用" in err and f"127.0.0.1:{busy_port}" in err.replace("\n", "")


def test_an_operating_system_error_is_a_bilingual_message_with_exit_1(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    code, out, err = run({}, "init", str(blocker / "room"), "--yes")
    assert code == 1 and "系统错误 / operating system error" in err and "Traceback" not in out + err


def test_init_on_a_terminal_asks_for_what_the_flags_did_not_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one thing a test runner cannot be is a terminal; everything after the question is real.
    monkeypatch.setattr("publisher.cli.core_cmd.on_terminal", lambda: True)
    folder = tmp_path / "asked"
    result = runner.invoke(
        app, ["init", str(folder), "--timezone", "Asia/Urumqi"], input="东湖区\n\nrd.donghu.example.cn\n"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    settings = (folder / "publisher.toml").read_text(encoding="utf-8")
    assert 'city = "东湖区"' in settings and 'name = "东湖区人大"' in settings
    assert 'timezone = "Asia/Urumqi"' in settings
    assert "https://rd.donghu.example.cn" in (folder / "channels" / "website.toml").read_text(
        encoding="utf-8"
    )
