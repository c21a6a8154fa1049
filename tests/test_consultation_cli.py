"""`publisher consultation export | report | purge`: signed in, permission-checked, clear refusals."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from publisher.cli import app
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from tests.consultation_support import add_comment, make_consultation
from tests.review_helpers import cli_login, room_env

runner = CliRunner()


def test_export_writes_the_committees_spreadsheet_and_the_internal_csv_with_contacts(
    room: Newsroom, tmp_path: Path
) -> None:
    make_consultation(room)
    add_comment(room, body="建议按季度公示。")
    cli_login(room, "dengzy")
    out = tmp_path / "comments.xlsx"
    result = runner.invoke(
        app, ["consultation", "export", "property-draft", "-o", str(out)], env=room_env(room)
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    sheet = load_workbook(out).active
    assert sheet is not None and sheet.cell(row=2, column=5).value == "建议按季度公示。"
    internal = tmp_path / "internal.csv"
    args = ["consultation", "export", "property-draft", "--format", "csv", "--internal", "-o", str(internal)]
    result = runner.invoke(app, args, env=room_env(room))
    assert result.exit_code == 0, result.stdout + result.stderr
    rows = list(csv.reader(internal.open(encoding="utf-8-sig")))
    assert rows[1][12] == "13812345678"


def test_an_author_may_not_export_and_an_unknown_consultation_is_named(
    room: Newsroom, tmp_path: Path
) -> None:
    make_consultation(room)
    cli_login(room, "wangxm", "dengzy")
    out = tmp_path / "x.xlsx"
    args = ["consultation", "export", "property-draft", "-o", str(out), "--as", "wangxm"]
    result = runner.invoke(app, args, env=room_env(room))
    assert result.exit_code == 1 and "无权办理征求意见" in result.stderr
    assert not out.exists()
    args = ["consultation", "export", "no-such", "-o", str(out), "--as", "dengzy"]
    result = runner.invoke(app, args, env=room_env(room))
    assert result.exit_code == 1 and "no-such" in result.stderr and "Traceback" not in result.stderr


def test_report_refuses_an_open_consultation_and_force_drafts_it(room: Newsroom) -> None:
    assert ingest(room).ok
    make_consultation(room, article="article-1")
    add_comment(room)
    cli_login(room, "dengzy")
    result = runner.invoke(app, ["consultation", "report", "property-draft"], env=room_env(room))
    assert result.exit_code == 1 and "尚未办理" in result.stderr and "--force" in result.stderr
    result = runner.invoke(app, ["consultation", "report", "property-draft", "--force"], env=room_env(room))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert (room.content_dir / "property-draft-feedback.md").is_file()


def test_purge_without_a_published_report_deletes_nothing(room: Newsroom) -> None:
    make_consultation(room)
    add_comment(room)
    cli_login(room, "dengzy")
    result = runner.invoke(app, ["consultation", "purge"], env=room_env(room))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "没有到期" in result.stdout and "反馈说明发布后" in result.stdout
