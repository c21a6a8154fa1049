"""A newsroom's first hour: `publisher init` to a live article, and the preflight `doctor`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from publisher.channels.wechat.sandbox import State, running
from publisher.cli import app
from publisher.config import DEFAULT_STAGES
from publisher.doctor import Level, check_calendar, staffing
from publisher.newsroom import Newsroom
from publisher.review.staffing import Person
from tests.factory import REPO

runner = CliRunner()
WECHAT_SECRET = "first-hour-secret"


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def sign_in_staff(env: dict[str, str], *usernames: str) -> None:
    """As the README says: the first admin password without a login (bootstrap), the admin signs
    in and sets each person's password, and each person signs in."""
    secret = "first-hour-passphrase"
    code, out, err = run(env, "users", "passwd", "admin", "--password-stdin", stdin=secret + "\n")
    assert code == 0 and "bootstrap" in err, out + err
    code, out, err = run(env, "login", "--as", "admin", "--password-stdin", stdin=secret + "\n")
    assert code == 0, out + err
    for username in usernames:
        code, out, err = run(
            env, "users", "passwd", username, "--as", "admin", "--password-stdin", stdin=secret + "\n"
        )
        assert code == 0 and "password reset" in out, out + err
    for username in usernames:
        code, out, err = run(env, "login", "--as", username, "--password-stdin", stdin=secret + "\n")
        assert code == 0, out + err


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with running(State(app_id="wx-sandbox-jianglan", secret=WECHAT_SECRET, publish_delay=0.15)) as base:
        yield base


def _init(folder: Path, sandbox: str) -> None:
    code, out, err = run(
        {}, "init", str(folder), "--city", "江澜区", "--domain", "rd.jianglan.example.cn", "--yes"
    )
    assert code == 0, out + err
    # Configuring the account is a staff member's first edit: here, the test's own sandbox port.
    wechat = folder / "channels" / "wechat.toml"
    text = wechat.read_text(encoding="utf-8")
    wechat.write_text(text.replace("http://127.0.0.1:8710", sandbox), encoding="utf-8")


@pytest.fixture
def fresh(tmp_path: Path, db_url: str, sandbox: str) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "jianglan-district"
    _init(folder, sandbox)
    env = {
        "PUBLISHER_NEWSROOM": str(folder),
        "PUBLISHER_DATABASE_URL": db_url,
        "PUBLISHER_WECHAT_SECRET": WECHAT_SECRET,
        "PUBLISHER_PARTNER_PUSH_SECRET": "partner-secret",
    }
    return folder, env


def test_init_writes_a_newsroom_that_owes_nothing_to_the_demo(tmp_path: Path, sandbox: str) -> None:
    folder = tmp_path / "new"
    _init(folder, sandbox)
    made = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert {
        "publisher.toml",
        "README.md",
        "channels/website.toml",
        "channels/site-feed.toml",
        "channels/wechat.toml",
        "channels/partner-push.toml",
        "channels/partner-pull.toml",
        "schedules/key-dates.toml",
        "schedules/meetings.toml",
        "review/secrecy.toml",
        "review/terminology.toml",
    } <= made
    settings = (folder / "publisher.toml").read_text(encoding="utf-8")
    assert 'city = "江澜区"' in settings and "江澜人大" not in settings
    assert "https://rd.jianglan.example.cn" in (folder / "channels" / "website.toml").read_text(
        encoding="utf-8"
    )
    key_dates = (folder / "schedules" / "key-dates.toml").read_text(encoding="utf-8")
    assert 'date = "12-04"' in key_dates and 'date = "09-15"' in key_dates and "congress-session" in key_dates
    room = Newsroom(folder)
    assert {r for u in room.settings.users for r in u.roles} == {
        "author",
        "editor",
        "proofreader",
        "department_head",
        "committee_reviewer",
        "leader",
        "principal_leader",
        "admin",
    }
    columns = {c.key for c in room.settings.columns}
    assert {p.parent.name for p in (folder / "content").rglob("*.md")} == columns
    # Nothing of the demo's own text: every generated file differs from the repository's version.
    for rel in made:
        demo = REPO / rel
        if demo.is_file() and rel != ".gitignore":
            assert demo.read_bytes() != (folder / rel).read_bytes(), rel


def test_init_from_an_empty_folder_to_a_live_article(fresh: tuple[Path, dict[str, str]]) -> None:
    folder, env = fresh
    code, out, err = run(env, "check")
    assert code == 0, out + err
    code, out, err = run(env, "doctor", "--json")
    report = json.loads(out)
    blocking = [c for c in report["checks"] if c["level"] == "blocking"]
    # Before `users sync` the declared users are judged and found sufficient.
    assert code == 0 and not blocking, blocking
    wechat = next(c for c in report["checks"] if c["check"].endswith("wechat") and "endpoint" in c["check"])
    assert wechat["level"] == "ok"

    code, out, err = run(env, "ingest")
    assert code == 0 and "新增 4 篇" in out, out + err
    code, out, err = run(env, "users", "sync")
    assert code == 0, out + err
    sign_in_staff(env, "editor1", "proof1", "depthead1", "proof2", "proof3", "leader1")
    code, out, err = run(env, "review", "submit", "welcome-news", "--as", "editor1")
    assert code == 0, out + err
    for signer in ("editor1", "proof1", "depthead1", "proof2", "proof3", "leader1"):
        code, out, err = run(env, "review", "approve", "welcome-news", "--as", signer, "--yes")
        assert code == 0, out + err
    assert "已通过" in out
    now = datetime.now(UTC).isoformat(timespec="seconds")
    code, out, err = run(env, "schedule", "welcome-news", "-c", "website", "--at", now, "--as", "editor1")
    assert code == 0, out + err
    code, out, err = run(env, "run", "--once")
    assert code == 0 and "本轮发出 1 项" in out, out + err

    page = folder / "public" / "articles" / "welcome-news.html"
    assert page.is_file()
    assert "江澜区人大常委会新闻发布平台启用" in page.read_text(encoding="utf-8")
    # Only the scheduled article is live: the others await review.
    assert not (folder / "public" / "articles" / "welcome-legislation.html").exists()


def test_run_once_exits_non_zero_when_a_release_is_held(fresh: tuple[Path, dict[str, str]]) -> None:
    folder, env = fresh
    assert run(env, "ingest")[0] == 0
    assert run(env, "users", "sync")[0] == 0
    sign_in_staff(env, "editor1")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    code, out, err = run(
        env, "schedule", "welcome-legislation", "-c", "website", "--at", now, "--as", "editor1"
    )
    assert code == 0, out + err
    code, out, err = run(env, "run", "--once")
    # Not approved: held, and cron sees a non-zero exit with the reason.
    assert code == 1 and "held" in err, out + err
    assert not (folder / "public" / "articles" / "welcome-legislation.html").exists()


def test_doctor_blocks_on_a_missing_secret_and_says_which_variable(
    fresh: tuple[Path, dict[str, str]],
) -> None:
    _folder, env = fresh
    env = {**env, "PUBLISHER_WECHAT_SECRET": ""}
    code, out, _err = run(env, "doctor", "--json")
    checks = json.loads(out)["checks"]
    assert code == 1
    secret = [c for c in checks if c["check"] == "密钥 / secrets: wechat"]
    assert secret and secret[0]["level"] == "blocking" and "PUBLISHER_WECHAT_SECRET" in secret[0]["detail"]


def test_doctor_blocks_when_wechat_refuses_the_credentials(fresh: tuple[Path, dict[str, str]]) -> None:
    _folder, env = fresh
    code, out, _err = run({**env, "PUBLISHER_WECHAT_SECRET": "wrong"}, "doctor", "--json")
    checks = {c["check"]: c for c in json.loads(out)["checks"]}
    assert code == 1
    assert checks["接口 / endpoint: wechat"]["level"] == "blocking"
    assert "40001" in checks["接口 / endpoint: wechat"]["detail"]


def test_doctor_warns_of_an_unreachable_partner_but_does_not_block(
    fresh: tuple[Path, dict[str, str]],
) -> None:
    folder, env = fresh
    push = folder / "channels" / "partner-push.toml"
    push.write_text(
        re.sub(
            r'endpoint = "[^"]*"', 'endpoint = "http://127.0.0.1:9/ingest"', push.read_text(encoding="utf-8")
        ),
        encoding="utf-8",
    )
    code, out, _err = run(env, "doctor", "--json", "--timeout", "1")
    checks = {c["check"]: c for c in json.loads(out)["checks"]}
    assert checks["接口 / endpoint: partner-push"]["level"] == "warning"
    assert "partner-pull" not in " ".join(checks)  # nothing to call: the partner pulls from us
    assert code == 0


def test_doctor_table_exits_non_zero_when_the_database_is_unreachable(tmp_path: Path, sandbox: str) -> None:
    folder = tmp_path / "nodb"
    _init(folder, sandbox)
    env = {
        "PUBLISHER_NEWSROOM": str(folder),
        "PUBLISHER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none",
        "PUBLISHER_WECHAT_SECRET": WECHAT_SECRET,
        "PUBLISHER_PARTNER_PUSH_SECRET": "x",
    }
    code, out, err = run(env, "doctor")
    assert code == 1 and "数据库 / database" in out and "阻断 / blocking" in out, out + err
    assert "Traceback" not in out + err


def test_doctor_on_a_brand_new_sqlite_newsroom_creates_nothing(tmp_path: Path, sandbox: str) -> None:
    folder = tmp_path / "brand-new"
    _init(folder, sandbox)
    env = {"PUBLISHER_NEWSROOM": str(folder), "PUBLISHER_WECHAT_SECRET": WECHAT_SECRET}
    env["PUBLISHER_PARTNER_PUSH_SECRET"] = "x"
    code, out, err = run(env, "doctor", "--json")
    checks = {c["check"]: c for c in json.loads(out)["checks"]}
    assert code == 0, out + err
    assert (
        checks["数据库 / database"]["level"] == "ok" and "first use" in checks["数据库 / database"]["detail"]
    )
    assert not (folder / "var" / "publisher.db").exists()


def _people(*roles: str) -> list[Person]:
    return [Person(f"u{i}", frozenset({role}), frozenset()) for i, role in enumerate(roles)]


def test_three_proofreading_passes_need_three_different_proofreaders() -> None:
    staff = ["editor", "editor", "department_head", "committee_reviewer", "leader", "principal_leader"]
    short = staffing(list(DEFAULT_STAGES), _people(*staff, "proofreader", "proofreader"), [])
    assert [f.level for f in short] == [Level.BLOCKING]
    assert "proofreader 需要 3 人、现有 2 人" in short[0].detail
    enough = staffing(list(DEFAULT_STAGES), _people(*staff, "proofreader", "proofreader", "proofreader"), [])
    assert [f.level for f in enough] == [Level.OK]


def test_one_person_with_two_roles_cannot_fill_two_stages() -> None:
    both = Person("both", frozenset({"editor", "proofreader"}), frozenset())
    people = [both, *_people("editor", "proofreader", "proofreader", "department_head")]
    people += _people("committee_reviewer", "leader", "principal_leader")
    found = staffing(list(DEFAULT_STAGES), people, [])
    # Two editors and three proofreaders by role, but `both` can only sign one of the five stages.
    assert found[0].level is Level.BLOCKING and "7" in found[0].detail


def test_a_committee_without_a_reviewer_is_a_warning() -> None:
    people = _people("editor", "editor", "proofreader", "proofreader", "proofreader", "department_head")
    people += [Person("c", frozenset({"committee_reviewer"}), frozenset({"法制委员会"}))]
    people += _people("leader", "principal_leader")
    found = staffing(list(DEFAULT_STAGES), people, ["法制委员会", "财政经济委员会"])
    assert [f.level for f in found] == [Level.WARNING] and "财政经济委员会" in found[0].detail


def test_calendar_without_holiday_data_for_the_coming_year_is_a_warning(tmp_path: Path, sandbox: str) -> None:
    folder = tmp_path / "cal"
    _init(folder, sandbox)
    room = Newsroom(folder)
    far = check_calendar(room, date(2100, 1, 1))
    assert far[0].level is Level.WARNING and "2100" in far[0].detail
    covered = check_calendar(room, date(2020, 1, 1))
    assert covered[0].level is Level.OK
