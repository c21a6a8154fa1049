"""The CLI as staff use it: exit codes, messages, JSON listings."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from publisher.cli import app
from publisher.demo import CONSOLE_LOGINS, DEMO_PASSWORD
from publisher.store import migrate
from tests.factory import base_meta, write_article

runner = CliRunner()


@pytest.fixture
def env(newsroom_dir: Path, db_url: str) -> dict[str, str]:
    return {"PUBLISHER_NEWSROOM": str(newsroom_dir), "PUBLISHER_DATABASE_URL": db_url}


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_ingest_list_show_history(env: dict[str, str], newsroom_dir: Path) -> None:
    code, out, _ = run(env, "ingest")
    assert code == 0 and "新增 3 篇" in out
    code, out, _ = run(env, "articles", "--json")
    listing = json.loads(out)
    assert code == 0 and sorted(a["slug"] for a in listing) == ["article-1", "article-2", "article-3"]

    write_article(newsroom_dir / "content", "article-1.md", base_meta("article-1", title="第二版标题"))
    code, out, _ = run(env, "ingest")
    assert code == 0 and "修订 / revised  article-1 → 第 2 版" in out

    code, out, _ = run(env, "articles", "show", "article-1", "--json")
    shown = json.loads(out)
    assert shown["number"] == 2 and shown["meta"]["title"] == "第二版标题"
    code, out, _ = run(env, "articles", "history", "article-1", "--json")
    history = json.loads(out)
    assert [r["number"] for r in history["revisions"]] == [1, 2]
    assert history["current"] == history["revisions"][1]["revision"]

    code, out, _ = run(env, "articles", "show", "article-1")
    assert code == 0 and "第二版标题" in out and "第 2 版" in out
    code, out, _ = run(env, "articles", "--column", "legislation")
    assert code == 0 and "第二版标题" in out


def test_unknown_article_is_a_clear_error(env: dict[str, str]) -> None:
    code, _out, err = run(env, "articles", "show", "nope")
    assert code == 1 and "没有这篇稿件" in err and "nope" in err


def test_bad_input_exits_non_zero_and_names_file_line_field(env: dict[str, str], newsroom_dir: Path) -> None:
    bad = newsroom_dir / "content" / "bad.md"
    bad.write_text("---\ntitle: x\ndate: 2026-11-20T10:00:00\n---\n正文\n", encoding="utf-8")
    code, out, _ = run(env, "ingest", "--json")
    report = json.loads(out)
    assert code == 1
    problems = {(p["field"], p["line"]) for p in report["problems"] if p["file"] == "content/bad.md"}
    assert ("date", 3) in problems and ("column", 1) in problems
    assert len(report["created"]) == 3  # the valid files were still stored

    code, _out, err = run(env, "check")
    assert code == 1 and "content/bad.md" in err and "时区" in err


def test_audit_log_and_verify(env: dict[str, str]) -> None:
    run(env, "ingest")
    code, out, _ = run(env, "audit", "verify")
    assert code == 0 and "审计链完整" in out
    code, out, _ = run(env, "audit", "log", "--json")
    events = json.loads(out)
    assert code == 0 and [e["action"] for e in events] == ["revision.create"] * 3
    code, out, _ = run(env, "audit", "log", "--object", "article-2", "--json")
    assert [e["object_id"] for e in json.loads(out)] == ["article-2"]


def test_channels_listed_and_broken_channel_reported(env: dict[str, str], newsroom_dir: Path) -> None:
    code, out, _ = run(env, "channels", "--json")
    names = [c["name"] for c in json.loads(out)["channels"]]
    assert code == 0 and {"website", "wechat", "site-feed"} <= set(names)
    (newsroom_dir / "channels" / "weibo.toml").write_text(
        'kind = "weibo"\ntitle = "微博"\n', encoding="utf-8"
    )
    code, _out, err = run(env, "channels")
    assert code == 1 and "channels/weibo.toml" in err and "未知渠道类型" in err


def test_db_upgrade_is_idempotent(newsroom_dir: Path, empty_db_url: str) -> None:
    env = {"PUBLISHER_NEWSROOM": str(newsroom_dir), "PUBLISHER_DATABASE_URL": empty_db_url}
    code, out, _ = run(env, "db", "upgrade")
    head = migrate.head_revision()
    assert head == migrate.HEAD, "migrate.HEAD must name the newest migration (it skips Alembic at head)"
    assert code == 0 and head is not None and out.strip().endswith(head)
    code, out, _ = run(env, "db", "upgrade")
    assert code == 0 and "已是最新" in out


def test_init_creates_a_newsroom_that_ingests(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "fresh"
    code, out, _ = run({"PUBLISHER_DATABASE_URL": db_url}, "init", str(folder), "--name", "测试新闻室")
    assert code == 0 and (folder / "publisher.toml").is_file()
    assert "publisher users passwd admin" in out and "publisher login --as admin" in out
    write_article(folder / "content", "one.md", base_meta("one", column="工作动态"))
    env = {"PUBLISHER_NEWSROOM": str(folder), "PUBLISHER_DATABASE_URL": db_url}
    code, out, _ = run(env, "ingest")
    assert code == 0 and "新增 5 篇" in out
    code, _out, err = run({}, "init", str(folder))
    assert code == 1 and "已存在" in err


def test_broken_settings_are_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "publisher.toml").write_text(
        '[newsroom]\nname = "x"\ntimezone = "Mars/Olympus"\n', encoding="utf-8"
    )
    code, _out, err = run({"PUBLISHER_NEWSROOM": str(tmp_path)}, "check")
    assert code == 2
    assert "newsroom.timezone" in err and "columns" in err and "departments" in err


@pytest.mark.slow
def test_demo_runs_as_a_module_on_a_copy_of_the_repo(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[1]
    demo = tmp_path / "demo"
    demo.mkdir()
    shutil.copy(repo / "publisher.toml", demo / "publisher.toml")
    for name in ("content", "channels", "schedules", "review"):
        shutil.copytree(repo / name, demo / name)
    result = subprocess.run(
        # The campaign week in 5 s (the least it takes) instead of 30, as test_inspection_demo.py runs it.
        [sys.executable, "-m", "publisher", "demo", "--newsroom", str(demo), "--seconds", "5"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COLUMNS": "120"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "校验通过" in out and "退回 / rejected wang-zhenhua-engineer" in out
    assert "一周约 5 秒" in out
    assert "拦截 / blocked representative-suggestions-briefing-draft" in out and "密级标志" in out
    assert "终审 陈立新" in out  # the sensitive article went to the principal leader
    assert "发出 wechat" in out and "微信 / WeChat constitution-day-long-image: http://127.0.0.1:" in out
    assert (demo / "var" / "demo" / "public" / "index.html").exists()
    assert (demo / "var" / "demo" / "var" / "publisher.db").is_file()
    assert not (demo / "var" / "publisher.db").exists()  # the real newsroom's store is untouched
    # The console is the first place the demo points to, with logins that work there.
    where = out.split("where to look next:")[1].strip().splitlines()
    assert "publisher console -N" in where[0]
    assert DEMO_PASSWORD in where[1] and all(name in where[1] for name, _role in CONSOLE_LOGINS)
    # Every review act and release the demo made was made by a person who had signed in first.
    with sqlite3.connect(demo / "var" / "demo" / "var" / "publisher.db") as db:
        events = db.execute("SELECT actor, action FROM audit_event ORDER BY seq").fetchall()
    signed_in: set[str] = set()
    for actor, action in events:
        if action == "auth.login":
            signed_in.add(actor)
        elif action.startswith("review.") or action.startswith("delivery.schedule"):
            assert actor in signed_in, (actor, action)
    assert {"zhouwb", "liangyu", "chenlx"} <= signed_in
