"""The review chain from the command line, as staff use it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from publisher.cli import app
from publisher.newsroom import Newsroom
from tests.factory import base_meta, write_article
from tests.review_helpers import cli_login, seed_users

runner = CliRunner()


def cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_submit_approve_show_queue_stats(room: Newsroom, db_url: str, newsroom_dir: Path) -> None:
    env = {"PUBLISHER_NEWSROOM": str(newsroom_dir), "PUBLISHER_DATABASE_URL": db_url, "COLUMNS": "200"}
    write_article(
        newsroom_dir / "content",
        "cli.md",
        base_meta("cli", authors=["王晓明"]),
        "会议听取了一府两院的报告。\n",
    )
    assert cli(env, "ingest")[0] == 0
    seed_users(room)
    cli_login(room, "wangxm", "zhouwb", "hejing")

    code, out, _ = cli(env, "review", "submit", "cli", "--as", "wangxm", "-m", "请审")
    assert code == 0 and "已提交" in out and "下一环节 / next: 初审" in out and "一府两院" in out

    code, out, _ = cli(env, "review", "queue", "--as", "zhouwb", "--json")
    assert [i["stage"] for i in json.loads(out)] == ["初审"]

    code, _out, err = cli(env, "review", "approve", "cli", "--as", "zhouwb", "--yes")
    assert code == 1 and "--ack 一府两院" in err
    code, _out, err = cli(env, "review", "approve", "cli", "--as", "hejing", "--yes")
    assert code == 1 and "需要角色 editor" in err
    code, out, _ = cli(
        env, "review", "approve", "cli", "--as", "zhouwb", "--ack", "一府两院", "-m", "同意", "--yes"
    )
    assert code == 0 and "已签署「初审」" in out

    code, out, _ = cli(env, "review", "show", "cli", "--json")
    shown = json.loads(out)
    assert shown["status"] == "in_review" and shown["current_stage"] == "一校"
    assert shown["stages"][0] == {
        "stage": "初审",
        "key": "first-review",
        "role": "editor",
        "by": "zhouwb",
        "at": shown["stages"][0]["at"],
        "comment": "同意",
    }
    assert shown["acknowledged"] == {"一府两院": "zhouwb"}
    code, out, _ = cli(env, "review", "show", "cli")
    assert code == 0 and "→ 一校" in out and "已由 zhouwb 确认" in out

    code, out, _ = cli(env, "review", "reject", "cli", "--as", "hejing", "-m", "错字")
    assert code == 0 and "已退回" in out
    code, out, _ = cli(env, "review", "stats", "--json")
    stats = json.loads(out)
    assert stats["rejections_by_department"] == {"研究室": 1}
    assert [s["stage"] for s in stats["stages"]] == ["初审", "一校"]
    code, out, _ = cli(env, "review", "stats")
    assert code == 0 and "研究室 1" in out


def test_reject_requires_a_comment_option(room: Newsroom, db_url: str, newsroom_dir: Path) -> None:
    env = {"PUBLISHER_NEWSROOM": str(newsroom_dir), "PUBLISHER_DATABASE_URL": db_url}
    cli(env, "ingest")
    seed_users(room)
    cli_login(room, "zhouwb", "liangyu")
    cli(env, "review", "submit", "article-1", "--as", "zhouwb")
    code, _out, _err = cli(env, "review", "reject", "article-1", "--as", "liangyu")
    assert code == 2  # typer: missing --comment


def test_review_queue_without_as_shows_the_signed_in_persons_queue(
    room: Newsroom, db_url: str, newsroom_dir: Path
) -> None:
    env = {"PUBLISHER_NEWSROOM": str(newsroom_dir), "PUBLISHER_DATABASE_URL": db_url, "COLUMNS": "200"}
    cli(env, "ingest")
    seed_users(room)
    code, _out, err = cli(env, "review", "queue")
    assert code == 1 and "not signed in" in " ".join(err.split())
    cli_login(room, "zhouwb")
    assert cli(env, "review", "submit", "article-1")[0] == 0  # as zhouwb, the editor signed in
    code, out, _ = cli(env, "review", "queue", "--json")
    assert code == 0 and [i["stage"] for i in json.loads(out)] == ["初审"]
    # Naming someone reads their queue, and signs in nobody.
    code, out, _ = cli(env, "review", "queue", "--as", "hejing", "--json")
    assert code == 0 and json.loads(out) == []
