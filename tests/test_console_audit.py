"""审计 over real HTTP: filters, keyset pages by seq, verifying the chain (and finding a tampered
row), and the roles that may not read it."""

from __future__ import annotations

import re

import pytest

from publisher import audit
from publisher.newsroom import Newsroom
from publisher.store.engine import write_session
from publisher.timeutil import local, utc_now
from tests.console_helpers import console_server, seed_staff, sign_in
from tests.test_audit import tamper


@pytest.fixture
def staffed(room: Newsroom) -> Newsroom:
    seed_staff(room)
    with write_session(room.engine) as session:
        audit.append_many(
            session, [audit.Entry("zhouwb", "delivery.schedule", "article", f"piece-{n}") for n in range(60)]
        )
    return room


def seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"<tr><td>(\d+)</td>", html)]


def test_the_log_filters_by_actor_action_object_and_date_and_pages_by_seq(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        sign_in(base, "zhouwb")
        client, _ = sign_in(base, "chenlx")
        first = client.get("/audit")
        assert first.status_code == 200
        newest = seqs(first.text)
        assert len(newest) == 50 and newest == sorted(newest, reverse=True)
        older = re.search(r'href="(/audit\?before=\d+)"', first.text)
        assert older
        second = client.get(older.group(1))
        assert max(seqs(second.text)) < min(newest)
        logins = client.get("/audit", params={"action": "auth.login", "actor": "zhouwb"})
        assert seqs(logins.text) and "auth.login" in logins.text and "user.add" not in logins.text
        by_object = client.get("/audit", params={"object": "user:lijing"})
        assert "<td>user:lijing</td>" in by_object.text and "<td>user:zhouwb</td>" not in by_object.text
        today = local(utc_now(), staffed.settings.tz).date().isoformat()
        dated = client.get("/audit", params={"since": today, "until": today, "actor": "zhouwb"})
        assert "delivery.schedule" in dated.text
        none = client.get("/audit", params={"since": "2000-01-01", "until": "2000-01-02"})
        assert "没有符合条件的事件" in none.text
        like = client.get("/audit", params={"action": "auth_"})  # the underscore is no wildcard
        assert "没有符合条件的事件" in like.text
        bad = client.get("/audit", params={"since": "yesterday"})
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text


def test_verify_says_the_chain_holds_and_then_finds_a_tampered_event(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        client, csrf = sign_in(base, "admin")
        ok = client.post("/audit/verify", data={"csrf_token": csrf})
        assert ok.status_code == 200 and "校验通过" in ok.text
        tamper(staffed, "UPDATE audit_event SET actor = 'someone-else' WHERE seq = 3")
        broken = client.post("/audit/verify", data={"csrf_token": csrf})
        assert "校验发现" in broken.text and "第 3 条" in broken.text
        assert client.post("/audit/verify", data={}).status_code == 403


def test_staff_without_the_audit_permission_cannot_read_it(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        author, csrf = sign_in(base, "wangxm")
        assert author.get("/audit").status_code == 403
        assert author.post("/audit/verify", data={"csrf_token": csrf}).status_code == 403
        assert "审计" not in author.get("/account").text
