"""Taking a citizen's comment: stored before the receipt, every limit and abuse rule, on SQLite and
PostgreSQL. The clock is the test's own (the demo's window is fixed in 2026)."""

from __future__ import annotations

import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from PIL import Image
from sqlalchemy import func
from sqlmodel import select

from publisher.consultation.intake import Intake, Refused, Upload
from publisher.consultation.receipts import RECEIPT_RE
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session, write_session
from publisher.store.tables import (
    AuditEvent,
    ConsultationAttachment,
    ConsultationComment,
    ConsultationContact,
)
from tests.consultation_support import (
    AFTER,
    BEFORE,
    DRAFT,
    OPEN,
    SLUG,
    Clock,
    add_draft,
    comment,
    go_live,
    served,
)

# A valid 身份证号 (GB 11643 checksum) and a mobile number, as a citizen might paste them.
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def live(room: Newsroom) -> Newsroom:
    add_draft(room.root)
    go_live(room)
    return room


def stored(room: Newsroom) -> list[ConsultationComment]:
    with read_session(room.engine) as session:
        return list(session.exec(select(ConsultationComment).order_by(ConsultationComment.id)).all())  # type: ignore[arg-type]


def test_a_comment_is_stored_with_its_contact_apart_and_audited_before_the_receipt(live: Newsroom) -> None:
    accepted = Intake(live).submit(comment(clause="12", name="张三"), now=OPEN, address="203.0.113.9")
    assert RECEIPT_RE.match(accepted.receipt) and accepted.receipt.startswith("ZQ-2026-")
    with read_session(live.engine) as session:
        row = session.exec(select(ConsultationComment)).one()
        assert (row.receipt, row.clause, row.name, row.source) == (accepted.receipt, "12", "张三", "online")
        assert "13912345678" not in row.body and row.address_hash and "203.0.113.9" not in row.address_hash
        contact = session.get(ConsultationContact, row.id)
        assert contact is not None and (contact.kind, contact.value) == ("phone", "13912345678")
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "consultation.comment_received")
        ).all()
        assert [e.object_id for e in events] == [accepted.receipt]


def test_a_receipt_looks_up_the_disposition_and_answer_only_with_its_contact(live: Newsroom) -> None:
    intake = Intake(live)
    accepted = intake.submit(comment(contact="Zhang@Example.org"), now=OPEN)
    found = intake.lookup(accepted.receipt.lower(), "zhang@example.org")
    assert found is not None and found.disposition is None and found.answer is None
    assert intake.lookup(accepted.receipt, "other@example.org") is None
    with write_session(live.engine) as session:
        row = session.exec(select(ConsultationComment)).one()
        row.disposition, row.answer = "adopted", f"已采纳，回访电话 13800138000，证件 {ID_NUMBER}"
        session.add(row)
    found = intake.lookup(accepted.receipt, "zhang@example.org")
    assert found is not None and found.disposition == "采纳"
    assert found.answer is not None and "13800138000" not in found.answer and ID_NUMBER not in found.answer
    assert set(found.as_dict()) == {"receipt", "received_at", "disposition", "answer"}


@pytest.mark.parametrize("moment", [BEFORE, AFTER], ids=["before-opening", "after-closing"])
def test_outside_the_window_a_comment_is_refused_clearly(live: Newsroom, moment: object) -> None:
    with pytest.raises(Refused) as refused:
        Intake(live).submit(comment(), now=moment)  # type: ignore[arg-type]
    assert refused.value.status == 403 and (
        "尚未开始" in refused.value.message or "截止" in refused.value.message
    )
    assert stored(live) == []


def test_every_bad_field_is_named_at_once_and_nothing_is_stored(live: Newsroom) -> None:
    long_text = "意" * (live.settings.consultation.max_chars + 1)
    with pytest.raises(Refused) as refused:
        Intake(live).submit(
            comment(
                body=long_text, contact="not a contact", consent=False, clause="99", commenter_type="robot"
            ),
            now=OPEN,
        )
    message = refused.value.message
    for said in ("过长", "联系电话或电子邮箱", "同意", "第99", "身份类别"):
        assert said in message or said.strip("第") in message
    assert refused.value.status == 422 and stored(live) == []


def test_a_consultation_that_requires_a_name_refuses_a_comment_without_one(room: Newsroom) -> None:
    add_draft(
        room.root, DRAFT.read_text(encoding="utf-8").replace("name_required: false", "name_required: true")
    )
    go_live(room)
    with pytest.raises(Refused) as refused:
        Intake(room).submit(comment(name="  "), now=OPEN)
    assert refused.value.field == "name" and "姓名" in refused.value.message
    assert Intake(room).submit(comment(name="李四"), now=OPEN).receipt


def test_a_filled_honeypot_is_answered_like_success_and_nothing_is_stored(live: Newsroom) -> None:
    intake = Intake(live)
    accepted = intake.submit(comment(honeypot="http://spam.example"), now=OPEN)
    assert RECEIPT_RE.match(accepted.receipt)
    assert stored(live) == [] and intake.lookup(accepted.receipt, "13912345678") is None


def test_the_same_submission_key_gives_the_same_receipt_and_one_row(live: Newsroom) -> None:
    intake = Intake(live)
    first = intake.submit(comment(submission_key="k-1"), now=OPEN)
    again = intake.submit(comment(submission_key="k-1", body="改了一个字的意见"), now=OPEN)
    assert again.receipt == first.receipt and again.repeated
    assert len(stored(live)) == 1


def test_a_plain_form_without_a_key_sending_the_same_text_twice_stores_it_once(live: Newsroom) -> None:
    intake = Intake(live)
    first = intake.submit(comment(), now=OPEN)
    assert (
        intake.submit(comment(body=" 建议将首次业主大会的筹备时限由六十日缩短为三十日。 "), now=OPEN).receipt
        == first.receipt
    )
    assert intake.submit(comment(clause="25"), now=OPEN).receipt != first.receipt
    assert len(stored(live)) == 2


def test_a_concurrent_double_submission_over_http_stores_one_comment(live: Newsroom) -> None:
    with served(live, Clock(OPEN)) as (base, _):
        body = {
            "body": "双击提交的意见",
            "contact": "13912345678",
            "consent": True,
            "submission_key": "double-1",
        }

        def send(_: int) -> str:
            reply = httpx.post(f"{base}/consultations/{SLUG}/comments", json=body, timeout=20)
            assert reply.status_code in (200, 201), reply.text
            return str(reply.json()["receipt"])

        with ThreadPoolExecutor(8) as pool:
            receipts = set(pool.map(send, range(8)))
    assert len(receipts) == 1 and len(stored(live)) == 1


def test_rate_limits_per_address_and_per_contact_answer_429_in_chinese(room: Newsroom) -> None:
    toml = room.root / "publisher.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("per_address_per_hour = 30", "per_address_per_hour = 3")
        .replace("per_contact_per_day = 20", "per_contact_per_day = 2"),
        encoding="utf-8",
    )  # fmt: skip
    fresh = Newsroom(room.root)
    try:
        add_draft(fresh.root)
        go_live(fresh)
        clock = Clock(OPEN)
        with served(fresh, clock) as (base, _):
            url = f"{base}/consultations/{SLUG}/comments"

            def post(text: str, contact: str, address: str) -> httpx.Response:
                data = {"body": text, "contact": contact, "consent": True}
                return httpx.post(url, json=data, headers={"X-Forwarded-For": address}, timeout=20)

            assert post("第一条意见", "13900000001", "198.51.100.1").status_code == 201
            assert post("第二条意见", "13900000001", "198.51.100.2").status_code == 201
            by_contact = post("第三条意见", "13900000001", "198.51.100.3")
            assert by_contact.status_code == 429 and "频繁" in by_contact.json()["error"]
            assert post("第四条意见", "13900000002", "198.51.100.1").status_code == 201
            assert post("第五条意见", "13900000003", "198.51.100.1").status_code == 201
            assert post("第六条意见", "13900000004", "198.51.100.1").status_code == 429
            clock.advance(hours=1, seconds=1)
            assert post("第七条意见", "13900000005", "198.51.100.1").status_code == 201
            clock.advance(days=1)
            assert post("第八条意见", "13900000001", "198.51.100.9").status_code == 201
        assert len(stored(fresh)) == 6
    finally:
        fresh.close()


def test_identical_and_nearly_identical_comments_share_a_group(live: Newsroom) -> None:
    intake = Intake(live)
    campaign = (
        "强烈建议降低首次业主大会筹备门槛，已交付面积达到百分之三十即可申请成立筹备组，让业主早日当家作主。"
    )
    texts = [
        campaign,
        "强烈建议降低首次业主大会筹备门槛，已交付面积达到百分之三十即可申请成立筹备组，让业主早日当家作主！！",
        "强烈建议降低首次业主大会筹备门槛,已交付面积达到百分之三十即可申请成立筹备组,让业主早日当家做主。",
        "我们小区强烈建议降低首次业主大会筹备门槛，已交付面积达到百分之三十即可申请成立筹备组，让业主早日当家作主。",
        "电梯维修资金的应急使用程序太复杂，建议简化审批，二十四小时内答复。",
    ]
    for n, text in enumerate(texts):
        intake.submit(comment(body=text, contact=f"1390000{n:04d}"), now=OPEN)
    rows = stored(live)
    assert rows[0].fingerprint == rows[1].fingerprint != rows[3].fingerprint
    assert len({r.group_id for r in rows[:4]}) == 1 and rows[0].group_id == rows[0].id
    assert rows[4].group_id == rows[4].id
    # Another process (a fresh intake) sees the groups the store holds.
    later = Intake(live).submit(comment(body=texts[3] + "谢谢", contact="13900009999"), now=OPEN)
    assert stored(live)[-1].receipt == later.receipt and stored(live)[-1].group_id == rows[0].id


def test_screening_finds_personal_data_and_secrecy_markings_and_public_text_is_masked(live: Newsroom) -> None:
    from publisher.consultation.screening import public_text

    text = f"我的身份证号 {ID_NUMBER}，电话 138-0013-8000。附：机密★5年 材料一份。"
    Intake(live).submit(comment(body=text), now=OPEN)
    findings = json.loads(stored(live)[0].screening_json)
    codes = {(f["check"], f["code"]) for f in findings}
    assert ("personal", "id-number") in codes and ("personal", "mobile") in codes
    assert any(f["check"] == "secrecy" for f in findings)
    shown = public_text(text)
    assert ID_NUMBER not in shown and "0013-8000" not in shown and "110" in shown


def _docx() -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return data.getvalue()


def _png() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(data, "PNG")
    return data.getvalue()


def _jpeg() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(data, "JPEG")
    return data.getvalue()


def test_attachments_of_the_four_kinds_are_kept_by_their_bytes_in_the_blob_store(live: Newsroom) -> None:
    intake = Intake(live)
    files = {
        "意见.pdf": (b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n", "application/pdf"),
        "a.docx": (_docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        "photo.JPG": (_jpeg(), "image/jpeg"),
        "../../etc/scan.png": (_png(), "image/png"),
    }
    for n, (name, (data, _)) in enumerate(files.items()):
        intake.submit(
            comment(body=f"附件意见{n}", attachment=Upload(name, data), contact=f"1391111{n:04d}"), now=OPEN
        )
    with read_session(live.engine) as session:
        rows = session.exec(select(ConsultationAttachment)).all()
    assert sorted(r.media_type for r in rows) == sorted(t for _, t in files.values())
    assert {r.filename for r in rows} >= {"scan.png", "意见.pdf"}
    for row in rows:
        assert live.blobs.get(row.sha256) == next(d for d, t in files.values() if t == row.media_type)


@pytest.mark.parametrize(
    "data",
    [b"MZ\x90\x00 an executable named .pdf", b"PK\x03\x04 not a zip", b"<html>%PDF-</html>"],
    ids=["executable", "broken-zip", "html"],
)
def test_an_attachment_that_is_not_pdf_docx_jpeg_or_png_is_refused(live: Newsroom, data: bytes) -> None:
    with pytest.raises(Refused) as refused:
        Intake(live).submit(comment(attachment=Upload("意见.pdf", data)), now=OPEN)
    assert refused.value.field == "attachment" and "PDF" in refused.value.message
    assert stored(live) == []


def test_a_zip_without_a_word_document_and_an_oversized_file_are_refused(live: Newsroom) -> None:
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("readme.txt", "x")
    intake = Intake(live)
    with pytest.raises(Refused):
        intake.submit(comment(attachment=Upload("a.docx", plain.getvalue())), now=OPEN)
    big = b"%PDF-" + b"0" * live.settings.consultation.max_attachment_bytes
    with pytest.raises(Refused) as refused:
        intake.submit(comment(attachment=Upload("big.pdf", big)), now=OPEN)
    assert "过大" in refused.value.message and stored(live) == []


def test_a_plain_html_form_gets_a_chinese_receipt_page_and_cors_admits_only_the_site(live: Newsroom) -> None:
    with served(live, Clock(OPEN)) as (base, _):
        reply = httpx.post(
            f"{base}/consultations/{SLUG}/comments",
            data={"body": "表单提交的意见", "contact": "13912340000", "consent": "on", "clause": "25"},
            files={"attachment": ("意见.png", _png(), "image/png")},
            headers={"Accept": "text/html"},
            timeout=20,
        )
        assert (
            reply.status_code == 201
            and "受理编号" in reply.text
            and "text/html" in reply.headers["content-type"]
        )
        refused = httpx.post(
            f"{base}/consultations/{SLUG}/comments",
            data={"body": "无联系方式"},
            headers={"Accept": "text/html"},
        )
        assert refused.status_code == 422 and "联系电话" in refused.text and "Traceback" not in refused.text
        site = "https://www.jianglan-rd.example.gov.cn"
        counts = httpx.get(f"{base}/consultations/{SLUG}/counts", headers={"Origin": site})
        assert counts.json()["total"] == 1 and counts.json()["by_clause"] == {"25": 1}
        assert counts.headers["access-control-allow-origin"] == site
        other = httpx.get(f"{base}/consultations/{SLUG}/counts", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        assert httpx.get(f"{base}/consultations/no-such/counts").status_code == 404
    with read_session(live.engine) as session:
        assert session.exec(select(func.count()).select_from(ConsultationAttachment)).one() == 1


def test_counts_follow_the_window_whatever_today_is(live: Newsroom) -> None:
    intake = Intake(live)
    assert intake.counts(SLUG, BEFORE)["phase"] == "upcoming"
    assert intake.counts(SLUG, OPEN)["phase"] == "open"
    assert intake.counts(SLUG, AFTER - timedelta(seconds=2))["phase"] == "open"
    assert intake.counts(SLUG, AFTER)["phase"] == "closed"


def test_comments_written_together_get_their_own_receipts_groups_and_audit_events(live: Newsroom) -> None:
    from publisher.consultation.intake import Pending, problems
    from publisher.store.tables import Consultation

    intake = Intake(live)
    with read_session(live.engine) as session:
        row = session.get(Consultation, SLUG)
        assert row is not None
    campaign = (
        "强烈建议降低首次业主大会筹备门槛，已交付面积达到百分之三十即可申请成立筹备组，让业主早日当家作主。"
    )
    texts = [
        campaign,
        "另一条意见：电梯维修资金应急使用要简化。",
        campaign + "谢谢",
        campaign,
        "另一条意见：电梯维修资金应急使用要简化！",
    ]
    batch = []
    for n, text in enumerate(texts):
        prepared, found = problems(
            comment(body=text, contact=f"1392222{n:04d}", submission_key=f"b-{n}"), row, intake.settings
        )
        assert prepared is not None and not found
        batch.append(Pending(intake.ready(prepared), OPEN, None))
    batch.append(batch[1])  # a double click that landed in the same batch
    answers = intake._store_batch(batch)
    assert (
        len({a.receipt for a in answers}) == 5
        and answers[5].receipt == answers[1].receipt
        and answers[5].repeated
    )
    rows = stored(live)
    assert len(rows) == 5
    assert rows[0].group_id == rows[2].group_id == rows[3].group_id == rows[0].id
    assert rows[1].group_id == rows[4].group_id == rows[1].id
    with read_session(live.engine) as session:
        assert session.exec(select(func.count()).select_from(ConsultationContact)).one() == 5
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "consultation.comment_received")
        ).all()
    assert sorted(e.object_id for e in events) == sorted(r.receipt for r in rows)
    # Sent again later, each key is answered with its receipt and nothing more is stored.
    again = intake._store_batch(batch[:2])
    assert [a.receipt for a in again] == [answers[0].receipt, answers[1].receipt] and len(stored(live)) == 5


def test_a_batch_that_fails_as_a_whole_is_written_comment_by_comment(live: Newsroom) -> None:
    intake = Intake(live)
    calls: list[int] = []
    original = intake.writer.write_batch

    def failing(batch: object) -> list[object]:
        calls.append(1)
        raise RuntimeError("the connection dropped")

    intake.writer.write_batch = failing  # type: ignore[assignment]
    accepted = intake.submit(comment(submission_key="alone-1"), now=OPEN)
    intake.writer.write_batch = original
    assert calls and [r.receipt for r in stored(live)] == [accepted.receipt]
