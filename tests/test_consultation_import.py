"""Importing comments gathered offline: a good spreadsheet is stored through the same screening and
grouping; any bad row stops the whole file, with every problem named by row and column."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import select
from typer.testing import CliRunner

from publisher.auth.identity import Identity, Via
from publisher.auth.tokens import issue_token
from publisher.cli import app
from publisher.consultation.imports import ImportRefused, import_comments
from publisher.consultation.intake import Intake
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import AuditEvent, ConsultationComment, ConsultationContact
from tests.consultation_support import DRAFT, OPEN, SLUG, add_draft, comment, go_live
from tests.review_helpers import seed_users

STAFF = Identity("zhouwb", "周文博", ("editor",), Via.TOKEN)
HEAD = ["收到日期", "条款", "身份类别", "姓名", "联系方式", "意见内容"]
CAMPAIGN = "建议明确物业服务企业退出时的交接期限，逾期不交接的应当承担法律责任，保障业主正常生活。"
ROWS = [
    ["2026-11-05", "第三十八条", "基层立法联系点", "青石街道基层立法联系点", "0571-88886666", CAMPAIGN],
    ["2026-11-06", "38", "个人", "", "13955556666", CAMPAIGN.replace("。", "！")],
    ["2026-11-07", "", "人大代表", "刘代表", "liu@example.org", "建议增加业主委员会成员培训的规定。"],
]


@pytest.fixture
def live(room: Newsroom) -> Newsroom:
    add_draft(room.root)
    go_live(room)
    return room


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEAD)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([HEAD, *rows])
    return path


def comments(room: Newsroom) -> list[ConsultationComment]:
    with read_session(room.engine) as session:
        return list(session.exec(select(ConsultationComment).order_by(ConsultationComment.id)).all())  # type: ignore[arg-type]


def test_a_good_spreadsheet_is_imported_screened_and_grouped_with_the_online_comments(
    live: Newsroom, tmp_path: Path
) -> None:
    intake = Intake(live)
    online = intake.submit(comment(body=CAMPAIGN, clause="38", contact="13900001111"), now=OPEN)
    result = import_comments(intake, SLUG, write_xlsx(tmp_path / "意见.xlsx", ROWS), STAFF, OPEN)
    assert len(result.stored) == 3 and result.skipped == 0
    rows = comments(live)
    assert [r.source for r in rows] == ["online", "imported", "imported", "imported"]
    assert rows[1].clause == "38" and rows[1].commenter_type == "outreach_point"
    assert rows[1].received_at == datetime.fromisoformat("2026-11-05T12:00:00+08:00")
    assert rows[1].group_id == rows[2].group_id == rows[0].group_id and rows[0].receipt == online.receipt
    assert rows[3].group_id == rows[3].id and rows[3].commenter_type == "deputy"
    with read_session(live.engine) as session:
        contact = session.get(ConsultationContact, rows[1].id)
        assert contact is not None and contact.value == "057188886666"
        audit = session.exec(select(AuditEvent).where(AuditEvent.action.startswith("consultation."))).all()
    assert [e.actor for e in audit if e.action == "consultation.imported"] == ["zhouwb"]
    assert sum(1 for e in audit if e.action == "consultation.comment_received" and e.actor == "zhouwb") == 3


def test_importing_the_same_file_twice_stores_each_comment_once(live: Newsroom, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "意见.csv", ROWS)
    assert len(import_comments(Intake(live), SLUG, path, STAFF, OPEN).stored) == 3
    again = import_comments(Intake(live), SLUG, path, STAFF, OPEN)
    assert again.stored == [] and again.skipped == 3 and len(comments(live)) == 3


def test_every_bad_row_is_reported_with_row_and_column_and_nothing_is_stored(
    live: Newsroom, tmp_path: Path
) -> None:
    bad = [
        ROWS[0],
        ["2026-13-01", "第九十九条", "游客", "", "电话没有", ""],
        ["2026-10-01", "", "个人", "", "13900002222", "开始之前收到的意见"],
        ["2026-11-08", "", "个人", "", "13900003333", "意" * (live.settings.consultation.max_chars + 1)],
    ]
    with pytest.raises(ImportRefused) as refused:
        import_comments(Intake(live), SLUG, write_csv(tmp_path / "bad.csv", bad), STAFF, OPEN)
    found = {(p.row, p.column) for p in refused.value.problems}
    assert found == {
        (3, "收到日期"),
        (3, "条款"),
        (3, "身份类别"),
        (3, "联系方式"),
        (3, "意见内容"),
        (4, "收到日期"),
        (5, "意见内容"),
    }
    assert "第 3 行「条款」列" in str(refused.value)
    assert comments(live) == []


def test_a_file_without_a_required_column_is_refused_before_any_row(live: Newsroom, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("收到日期,意见内容\n2026-11-05,意见\n", encoding="utf-8")
    with pytest.raises(ImportRefused) as refused:
        import_comments(Intake(live), SLUG, path, STAFF, OPEN)
    assert [(p.row, p.column) for p in refused.value.problems] == [(1, "联系方式")]


def test_the_import_command_needs_a_login_and_names_the_bad_rows(room: Newsroom, tmp_path: Path) -> None:
    # A window opened long ago: the command takes the real time, and the received dates must be past.
    add_draft(
        room.root,
        DRAFT.read_text(encoding="utf-8").replace("2026-11-02T09:00:00+08:00", "2020-01-01T09:00:00+08:00"),
    )
    go_live(room)
    seed_users(room)
    rows = [[r[0].replace("2026-11", "2020-02"), *r[1:]] for r in ROWS]
    good = write_xlsx(tmp_path / "good.xlsx", rows)
    args = ["consultation", "import", SLUG, str(good), "--newsroom", str(room.root)]
    runner = CliRunner()
    refused = runner.invoke(app, args)
    assert refused.exit_code != 0 and "Traceback" not in refused.output and comments(room) == []
    token = issue_token(room.engine, room.settings.auth, STAFF)
    done = runner.invoke(app, args, env={"PUBLISHER_TOKEN": token})
    assert done.exit_code == 0, done.output
    assert "已导入 3 条" in done.output and len(comments(room)) == 3
    bad = write_csv(tmp_path / "bad.csv", [rows[0], ["2020-02-09", "", "个人", "", "", "没有联系方式"]])
    failed = runner.invoke(app, [*args[:3], str(bad), *args[4:]], env={"PUBLISHER_TOKEN": token})
    assert failed.exit_code == 1 and "第 3 行「联系方式」列" in failed.output and len(comments(room)) == 3
    unknown = runner.invoke(
        app, ["consultation", "import", "no-such", str(good), *args[4:]], env={"PUBLISHER_TOKEN": token}
    )
    assert unknown.exit_code == 1 and "没有这项征求意见" in unknown.output
