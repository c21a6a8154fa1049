"""征求意见 in the console over real HTTP: the list with its overdue counts, filters and paging,
the handling form (CSRF, permission, refusals without a change), group acts, statistics, exports
(the internal one only by POST), contacts only for handlers; and a handler disposing a comment
in a real Chromium."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from publisher.consultation.overdue import falls_due
from publisher.engine.clock import FixedClock
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import AuditEvent, ConsultationComment
from tests.browser_helpers import chromium, needs_chromium
from tests.console_helpers import PASSWORD, console_server, seed_staff, sign_in
from tests.consultation_support import OPENS, add_comment, make_consultation

RECEIVED = OPENS + timedelta(days=1)
LATE = falls_due(RECEIVED, ZoneInfo("Asia/Shanghai")) + timedelta(days=1)
Handled = tuple[Newsroom, str, list[ConsultationComment]]


@pytest.fixture
def handled(room: Newsroom) -> Iterator[Handled]:
    seed_staff(room)
    make_consultation(room)
    made = [
        add_comment(room, body="建议公共收益按季度公示，电话13812345678。", received=RECEIVED),
        add_comment(room, clause="3", commenter_type="deputy", body="建议明确街道职责。", received=RECEIVED),
        *[
            add_comment(
                room, body=f"统一意见：延长公示时间{i}", group_id=5, received=RECEIVED + timedelta(days=20)
            )
            for i in range(3)
        ],
        add_comment(room, body="广告", received=RECEIVED, moderation="hidden"),
    ]
    with console_server(room, FixedClock(LATE)) as base:
        yield room, base, made


def _audit(room: Newsroom, action: str) -> list[AuditEvent]:
    with read_session(room.engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_list_shows_each_consultations_counts_and_overdue_comments(handled: Handled) -> None:
    _room, base, _ = handled
    client, _ = sign_in(base, "dengzy")
    listed = client.get("/consultations")
    assert listed.status_code == 200 and "征求意见" in listed.text
    row = re.search(r'<tr id="c-property-draft">(.*?)</tr>', listed.text, re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    assert cells[2] == "已截止" and cells[4:6] == ["5", "5"]
    assert "超期 2" in row.group(1)  # the two received on day one; the group came 20 days later
    assert 'href="/consultations"' in listed.text  # in the menu


def test_filters_narrow_the_comments_and_pages_follow_the_filter(handled: Handled) -> None:
    _room, base, made = handled
    client, _ = sign_in(base, "dengzy")
    deputies = client.get("/consultations/property-draft", params={"type": "deputy"})
    assert made[1].receipt in deputies.text and made[0].receipt not in deputies.text
    overdue = client.get("/consultations/property-draft", params={"overdue": "1"})
    assert {made[0].receipt, made[1].receipt} <= set(re.findall(r"ZQ\d{8}", overdue.text))
    assert made[2].receipt not in overdue.text
    group = client.get("/consultations/property-draft", params={"group": "5"})
    assert sorted(re.findall(r"ZQ\d{8}", group.text)) == sorted(c.receipt for c in made[2:5])
    hidden = client.get("/consultations/property-draft", params={"moderation": "hidden"})
    assert made[5].receipt in hidden.text and made[0].receipt not in hidden.text
    clause = client.get("/consultations/property-draft", params={"clause": "3"})
    assert re.findall(r"ZQ\d{8}", clause.text) == [made[1].receipt]


def test_a_group_disposed_at_once_and_a_reason_refused_changes_nothing(handled: Handled) -> None:
    room, base, made = handled
    client, csrf = sign_in(base, "dengzy")
    target = made[2]
    path = f"/consultations/property-draft/comments/{target.id}/disposed"
    refused = client.post(path, data={"csrf_token": csrf, "disposition": "not_adopted", "reason": ""})
    assert refused.status_code == 400 and "须说明理由" in refused.text
    # The refusal is shown above the handling forms, with what was chosen still chosen.
    assert 'id="dispose-form"' in refused.text and 'role="alert"' in refused.text
    assert '<option value="not_adopted" selected>' in refused.text
    # An answer refused (too long) comes back in its box, not lost behind an error page.
    too_long = "感谢您对条例草案提出的意见，我们将认真研究。" * 240
    unanswered = client.post(
        path.replace("/disposed", "/answered"), data={"csrf_token": csrf, "answer": too_long}
    )
    assert unanswered.status_code == 400 and "过长" in unanswered.text
    assert f'<textarea name="answer" required>{too_long}</textarea>' in unanswered.text
    forged = client.post(path, data={"csrf_token": "forged", "disposition": "adopted"})
    assert forged.status_code == 403
    done = client.post(path, data={"csrf_token": csrf, "disposition": "adopted", "whole_group": "1"})
    assert done.status_code == 200 and "已记录办理结果（3 条）" in done.text
    with read_session(room.engine) as session:
        rows = session.exec(select(ConsultationComment).where(ConsultationComment.group_id == 5)).all()
    assert {c.disposition for c in rows} == {"adopted"}
    assert len(_audit(room, "consultation.disposed")) == 1


def test_contacts_and_unmasked_text_are_for_handlers_only(handled: Handled) -> None:
    _room, base, made = handled
    handler, _ = sign_in(base, "dengzy")
    author, author_csrf = sign_in(base, "wangxm")
    page_path = f"/consultations/property-draft/comments/{made[0].id}"
    seen = handler.get(page_path).text
    assert "13812345678" in seen and "张三" in seen and "dispose-form" in seen
    masked = author.get(page_path).text
    assert "13812345678" not in masked and "138****5678" in masked and "张三" not in masked
    assert "dispose-form" not in masked
    refused = author.post(
        f"{page_path}/answered", data={"csrf_token": author_csrf, "answer": "答复"}, follow_redirects=True
    )
    assert refused.status_code == 403
    assert author.get("/consultations/property-draft/export.xlsx").status_code == 403


def test_exports_download_by_clause_and_the_internal_one_needs_a_post(handled: Handled) -> None:
    room, base, _made = handled
    client, csrf = sign_in(base, "dengzy")
    public = client.get("/consultations/property-draft/export.xlsx")
    assert public.status_code == 200 and "attachment" in public.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(public.content)).active
    assert sheet is not None
    texts = [str(sheet.cell(row=r, column=5).value) for r in range(2, sheet.max_row + 1)]
    assert texts[0] == "建议明确街道职责。"  # clause 3 before clause 12
    assert not any("13812345678" in t for t in texts)
    assert client.get("/consultations/property-draft/export-internal").status_code == 405
    internal = client.post(
        "/consultations/property-draft/export-internal", data={"csrf_token": csrf, "fmt": "csv"}
    )
    rows = list(csv.reader(io.StringIO(internal.content.decode("utf-8-sig"))))
    assert "13812345678" in {r[12] for r in rows[1:]}
    scopes = [e.details_json for e in _audit(room, "consultation.exported")]
    assert any('"scope":"internal"' in s for s in scopes) and any('"scope":"public"' in s for s in scopes)


def test_statistics_count_valid_comments_by_clause_type_and_day(handled: Handled) -> None:
    _room, base, _ = handled
    client, _ = sign_in(base, "zhouwb")
    stats = client.get("/consultations/property-draft/stats")
    assert stats.status_code == 200 and "<svg" in stats.text
    assert "有效意见 5 条，合并相同或相近意见后 3 组" in stats.text
    assert "<td>人大代表</td><td>1</td>" in stats.text
    assert "<td>2026-03-03</td><td>2</td>" in stats.text  # the day on the Shanghai calendar


@needs_chromium
def test_a_handler_disposes_a_comment_in_chromium(handled: Handled) -> None:
    room, base, made = handled
    with chromium() as browser:
        tab = browser.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto(f"{base}/login?next=/consultations")
        tab.fill("input[name=username]", "dengzy")
        tab.fill("input[name=password]", PASSWORD)
        tab.click("button[type=submit]")
        tab.click("text=《江澜市物业管理条例（草案）》")
        tab.click(f"text={made[1].receipt}")
        form = tab.locator("#dispose-form")
        form.locator("select[name=disposition]").select_option("partly_adopted")
        form.locator("textarea[name=reason]").fill("已在修改稿第三条中部分吸收")
        form.locator("button[type=submit]").click()
        tab.wait_for_selector("text=已记录办理结果（1 条）")
        assert "部分采纳：已在修改稿第三条中部分吸收" in tab.inner_text("#disposition")
        assert errors == []
    with read_session(room.engine) as session:
        stored = session.get(ConsultationComment, made[1].id)
        assert stored is not None and (stored.disposition, stored.updated_by) == ("partly_adopted", "dengzy")


def test_a_comment_address_that_is_no_number_is_a_page_not_found(handled: Handled) -> None:
    _room, base, _ = handled
    client, csrf = sign_in(base, "dengzy")
    for path in ("/consultations/property-draft/comments/abc", "/consultations/nope/comments/1"):
        missing = client.get(path)
        assert missing.status_code == 404 and "找不到" in missing.text
    posted = client.post(
        "/consultations/property-draft/comments/abc/answered", data={"csrf_token": csrf, "answer": "x"}
    )
    assert posted.status_code == 404
