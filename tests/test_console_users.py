"""用户 over real HTTP: adding (never by a non-admin, never an admin by one), changing roles,
disabling, resetting a password, revoking a person's sign-ins, the staffing check; names escaped."""

from __future__ import annotations

import pytest
from sqlmodel import select

from publisher.newsroom import Newsroom
from publisher.review.users import roles_of
from publisher.store.engine import read_session
from publisher.store.tables import StaffUser
from tests.console_helpers import console_server, seed_staff, sign_in


@pytest.fixture
def staffed(room: Newsroom) -> Newsroom:
    seed_staff(room)
    return room


def user(room: Newsroom, username: str) -> StaffUser | None:
    with read_session(room.engine) as session:
        return session.exec(select(StaffUser).where(StaffUser.username == username)).first()


def test_an_admin_adds_a_person_whose_hostile_name_is_shown_inert(staffed: Newsroom) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    with console_server(staffed) as base:
        admin, csrf = sign_in(base, "admin")
        listed = admin.get("/users")
        assert listed.status_code == 200 and "chenlx" in listed.text and "engine" not in listed.text
        form = {
            "csrf_token": csrf,
            "username": "newbie",
            "name": hostile,
            "roles": ["author"],
            "password": "short",
        }
        short = admin.post("/users", data=form)
        assert short.status_code == 400 and "至少 10 个字符" in short.text
        added = admin.post("/users", data={**form, "password": "a-long-enough-pass"})
        assert added.status_code == 200 and "已添加用户 newbie" in added.text
        assert "&lt;img src=x onerror=alert(1)&gt;" in added.text and "<img src=x" not in added.text
        twice = admin.post("/users", data={**form, "password": "a-long-enough-pass"})
        assert twice.status_code == 400 and "already exists" in twice.text
        sign_in(base, "newbie", "a-long-enough-pass")
    added_user = user(staffed, "newbie")
    assert added_user is not None and roles_of(added_user) == ["author"]


def test_no_one_but_an_admin_adds_users_least_of_all_an_admin(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        for who in ("zhouwb", "chenlx"):
            client, csrf = sign_in(base, who)
            assert client.get("/users").status_code == 403
            tried = client.post(
                "/users",
                data={
                    "csrf_token": csrf,
                    "username": "boss",
                    "name": "Boss",
                    "roles": ["admin"],
                    "password": "x" * 12,
                },
            )
            assert tried.status_code == 403
            assert (
                client.post("/users/zhouwb/edit", data={"csrf_token": csrf, "roles": ["admin"]}).status_code
                == 403
            )
        admin, _ = sign_in(base, "admin")
        assert (
            admin.post("/users", data={"username": "boss", "name": "B", "roles": ["admin"]}).status_code
            == 403
        )
    assert user(staffed, "boss") is None
    zhouwb = user(staffed, "zhouwb")
    assert zhouwb is not None and "admin" not in roles_of(zhouwb)


def test_roles_change_and_disable_reset_and_revoke_end_a_persons_sign_ins(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        admin, csrf = sign_in(base, "admin")
        edited = admin.post(
            "/users/lijing/edit",
            data={"csrf_token": csrf, "roles": ["author", "editor"], "departments": "研究室"},
        )
        assert edited.status_code == 200 and "已更新 lijing" in edited.text
        bad = admin.post("/users/lijing/edit", data={"csrf_token": csrf, "roles": ["committee_reviewer"]})
        assert bad.status_code == 400 and "committee" in bad.text
        lijing, _ = sign_in(base, "lijing")
        assert admin.post("/users/lijing/revoke", data={"csrf_token": csrf}).status_code == 200
        assert "/login" in str(lijing.get("/account").url)
        huang, _ = sign_in(base, "huangzq")
        reset = admin.post("/users/huangzq/password", data={"csrf_token": csrf, "new": "a-fresh-password-1"})
        assert reset.status_code == 200 and "已重置 huangzq" in reset.text
        assert "/login" in str(huang.get("/account").url)
        sign_in(base, "huangzq", "a-fresh-password-1")
        wang, _ = sign_in(base, "wangxm")
        assert admin.post("/users/wangxm/disable", data={"csrf_token": csrf}).status_code == 200
        assert "/login" in str(wang.get("/account").url)
        self_disable = admin.post("/users/admin/disable", data={"csrf_token": csrf})
        assert self_disable.status_code == 403 and "不能停用自己的账号" in self_disable.text
    lijing_row, wang_row = user(staffed, "lijing"), user(staffed, "wangxm")
    assert lijing_row is not None and roles_of(lijing_row) == ["author", "editor"]
    assert wang_row is not None and not wang_row.active


def test_the_staffing_check_says_when_a_stage_cannot_be_completed(staffed: Newsroom) -> None:
    with console_server(staffed) as base:
        admin, csrf = sign_in(base, "admin")
        for name in ("hejing", "shenyl", "tangliang"):
            assert admin.post(f"/users/{name}/disable", data={"csrf_token": csrf}).status_code == 200
        page = admin.get("/users")
        assert "审核人员配置检查" in page.text and "staffing-blocking" in page.text
