"""The console's doors: sign-in, lockout, TOTP, CSRF, sessions, the pause switch, over real HTTP."""

from __future__ import annotations

import re

import httpx
import pyotp
import pytest
from sqlmodel import col, select

from publisher.config import AuthSettings, NewsroomSettings
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import AuditEvent, NewsroomFlag
from tests.console_helpers import PASSWORD, console_server, csrf_of, seed_staff, sign_in


@pytest.fixture
def staffed(room: Newsroom) -> Newsroom:
    seed_staff(room)
    return room


def audit_actions(room: Newsroom) -> list[str]:
    with read_session(room.engine) as session:
        return [e.action for e in session.exec(select(AuditEvent).order_by(col(AuditEvent.seq)))]


def test_pages_need_a_session_and_sign_in_returns_to_the_page_asked_for(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        anonymous = httpx.get(f"{base}/account", follow_redirects=False)
        assert anonymous.status_code == 303 and "/login?next=%2Faccount" in anonymous.headers["location"]
        client, _csrf = sign_in(base, "zhouwb")
        page = client.get("/account")
        assert "周文博" in page.text and "修改密码" in page.text
        cookie = next(c for c in client.cookies.jar if c.name == "publisher_session")
        assert cookie.has_nonstandard_attr("HttpOnly")
        headers = client.get("/account").headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "SAMEORIGIN"
    assert "auth.login" in audit_actions(staffed)


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_account(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        client = httpx.Client(base_url=base, timeout=30)
        for _ in range(staffed.settings.auth.max_failures):
            form = client.get("/login").text
            token = re.search(r'name="login_csrf" value="([^"]+)"', form)
            assert token
            refused = client.post(
                "/login", data={"username": "zhouwb", "password": "guess", "login_csrf": token.group(1)}
            )
            assert refused.status_code == 401 and "用户名或密码错误" in refused.text
        form = client.get("/login").text
        token = re.search(r'name="login_csrf" value="([^"]+)"', form)
        assert token
        locked = client.post(
            "/login", data={"username": "zhouwb", "password": PASSWORD, "login_csrf": token.group(1)}
        )
        assert locked.status_code == 401 and "锁定" in locked.text
    actions = audit_actions(staffed)
    assert actions.count("auth.login_failed") == staffed.settings.auth.max_failures + 1
    assert "auth.lockout" in actions


def test_a_login_form_posted_from_elsewhere_is_refused(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        forged = httpx.post(
            f"{base}/login", data={"username": "zhouwb", "password": PASSWORD, "login_csrf": "x"}
        )
        assert forged.status_code == 403 and "CSRF" in forged.text
    assert "auth.login" not in audit_actions(staffed)


def test_state_changing_requests_without_the_session_token_are_refused(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        client, csrf = sign_in(base, "zhouwb")
        refused = client.post("/pause", data={"reason": "试一下"})
        assert refused.status_code == 403 and "CSRF" in refused.text
        wrong = client.post("/pause", data={"reason": "试一下", "csrf_token": "not-it"})
        assert wrong.status_code == 403
        with read_session(staffed.engine) as session:
            assert session.get(NewsroomFlag, "paused") is None
        # The header works as well as the form field (for the page's own scripts).
        done = client.post("/pause", data={"reason": "核对稿件"}, headers={"X-CSRF-Token": csrf})
        assert done.status_code == 200 and "全部发布已暂停" in done.text and "核对稿件" in done.text


def test_pause_needs_a_permitted_role_shows_a_banner_everywhere_and_resumes(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        author, author_csrf = sign_in(base, "wangxm")
        denied = author.post("/pause", data={"reason": "x", "csrf_token": author_csrf})
        assert denied.status_code == 403 and "角色" in denied.text
        editor, csrf = sign_in(base, "zhouwb")
        missing = editor.post("/pause", data={"reason": " ", "csrf_token": csrf})
        assert missing.status_code == 400 and "暂停原因" in missing.text
        editor.post("/pause", data={"reason": "发现错稿，全部暂停", "csrf_token": csrf})
        banner = author.get("/account")
        assert "全部发布已暂停" in banner.text and "zhouwb" in banner.text and "发现错稿" in banner.text
        editor.post("/resume", data={"csrf_token": csrf})
        assert "全部发布已暂停" not in author.get("/account").text
    actions = audit_actions(staffed)
    assert actions.index("engine.pause") < actions.index("engine.resume")


def test_signing_out_ends_the_session_for_good(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        client, csrf = sign_in(base, "zhouwb")
        stolen = client.cookies.get("publisher_session")
        client.post("/logout", data={"csrf_token": csrf})
        replay = httpx.get(
            f"{base}/account", cookies={"publisher_session": stolen or ""}, follow_redirects=False
        )
        assert replay.status_code == 303 and "/login" in replay.headers["location"]


def test_a_password_change_ends_the_other_sessions(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        laptop, _ = sign_in(base, "zhouwb")
        phone, csrf = sign_in(base, "zhouwb")
        short = phone.post(
            "/account/password",
            data={"current": PASSWORD, "new": "short", "again": "short", "csrf_token": csrf},
        )
        assert short.status_code == 400 and "10" in short.text
        new = "a much longer phrase 2026"
        done = phone.post(
            "/account/password", data={"current": PASSWORD, "new": new, "again": new, "csrf_token": csrf}
        )
        assert done.status_code == 200 and "密码已修改" in done.text
        assert laptop.get("/account", follow_redirects=False).status_code == 303
        assert phone.get("/account").status_code == 200
        again, _ = sign_in(base, "zhouwb", new)
        assert again.get("/account").status_code == 200


def test_a_role_the_newsroom_names_enrols_and_then_uses_a_one_time_code(
    staffed: Newsroom, newsroom_dir: object
) -> None:
    settings = NewsroomSettings(
        **{**staffed.settings.model_dump(), "auth": AuthSettings(totp_roles=["leader"])}
    )
    room = Newsroom(staffed.root, settings=settings)
    try:
        with console_server(room) as base:
            client = httpx.Client(base_url=base, follow_redirects=True, timeout=30)
            token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").text)
            assert token
            enrol = client.post(
                "/login", data={"username": "wangjh", "password": PASSWORD, "login_csrf": token.group(1)}
            )
            assert "启用动态验证码" in enrol.text
            # Until the code is given, no page opens.
            assert "/login/totp" in client.get("/account", follow_redirects=False).headers["location"]
            secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', enrol.text)
            assert secret
            csrf = csrf_of(enrol.text)
            wrong = client.post(
                "/login/enrol", data={"secret": secret.group(1), "code": "000000", "csrf_token": csrf}
            )
            assert wrong.status_code == 400
            done = client.post(
                "/login/enrol",
                data={
                    "secret": secret.group(1),
                    "code": pyotp.TOTP(secret.group(1)).now(),
                    "csrf_token": csrf,
                    "next": "/account",
                },
            )
            assert done.status_code == 200 and "王" in done.text and "修改密码" in done.text
            # The next sign-in asks for the code.
            other = httpx.Client(base_url=base, follow_redirects=True, timeout=30)
            token = re.search(r'name="login_csrf" value="([^"]+)"', other.get("/login").text)
            assert token
            asked = other.post(
                "/login", data={"username": "wangjh", "password": PASSWORD, "login_csrf": token.group(1)}
            )
            assert "动态验证码" in asked.text
            csrf = csrf_of(asked.text)
            bad = other.post("/login/totp", data={"code": "123456", "csrf_token": csrf})
            assert bad.status_code == 401
            good = other.post(
                "/login/totp",
                data={"code": pyotp.TOTP(secret.group(1)).now(), "csrf_token": csrf, "next": "/account"},
            )
            assert good.status_code == 200 and "修改密码" in good.text
    finally:
        room.close()


def test_a_next_parameter_never_sends_anyone_to_another_site(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        client = httpx.Client(base_url=base, timeout=30)
        token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").text)
        assert token
        landed = client.post(
            "/login",
            data={
                "username": "zhouwb",
                "password": PASSWORD,
                "login_csrf": token.group(1),
                "next": "//evil.example/",
            },
        )
        assert landed.status_code == 303 and landed.headers["location"] == "/"


def test_one_client_trying_many_accounts_is_slowed_down(staffed: Newsroom) -> None:
    from publisher.console.throttle import LoginThrottle

    throttle = LoginThrottle(limit=3, window_seconds=600)
    for _ in range(3):
        throttle.failed("10.0.0.1", now=100.0)
    assert throttle.blocked("10.0.0.1", now=101.0) and not throttle.blocked("10.0.0.2", now=101.0)
    assert not throttle.blocked("10.0.0.1", now=701.0)  # the window has passed
    with console_server(staffed) as base:
        client = httpx.Client(base_url=base, timeout=30)
        statuses = []
        # Names nobody holds: the throttle counts every failure alike, and no hash is checked.
        for name in (f"guess{i}" for i in range(24)):
            token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").text)
            assert token
            reply = client.post(
                "/login", data={"username": name, "password": "123456", "login_csrf": token.group(1)}
            )
            statuses.append(reply.status_code)
        assert statuses[:20] == [401] * 20 and statuses[20:] == [429] * 4
