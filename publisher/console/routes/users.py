"""用户: the staff list, adding a person, changing roles, departments and committees, disabling,
resetting a password, revoking a person's sign-ins; and the staffing check (review/staffing.py):
which review stage the active staff cannot complete. Admins only (Act.MANAGE_USERS); every change
goes through review/users.py and auth/accounts.py, which audit it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from publisher.auth.accounts import disable_account, reset_password, revoke_access
from publisher.auth.permissions import Act
from publisher.auth.sessions import LiveSession
from publisher.auth.signin import password_problem
from publisher.config import ROLES
from publisher.console.web import acting, page, permitted, redirect, room_of, staff
from publisher.errors import PublisherError
from publisher.review.staffing import check_staffing
from publisher.review.users import (
    add_user,
    committees_of,
    departments_of,
    edit_user,
    get_user,
    list_users,
    roles_of,
)
from publisher.store.engine import read_session, write_session
from publisher.timeutil import show

router = APIRouter()

ROLE_LABELS = {
    "author": "作者",
    "editor": "编辑",
    "proofreader": "校对",
    "department_head": "部门负责人",
    "committee_reviewer": "专委会审核人",
    "leader": "分管领导",
    "principal_leader": "主要领导",
    "admin": "管理员",
}


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("，", ",").replace("、", ",").split(",") if p.strip()]


def _users_page(request: Request, *, error: str = "", status: int = 200) -> HTMLResponse:
    room = room_of(request)
    tz = room.settings.tz
    with read_session(room.engine) as session:
        users = [
            {
                "username": u.username,
                "name": u.display_name,
                "roles": roles_of(u),
                "committees": committees_of(u),
                "departments": departments_of(u),
                "active": u.active,
                "locked": show(u.locked_until, tz) if u.locked_until else "",
                "totp": u.totp_secret is not None,
            }
            for u in list_users(session)
        ]
        findings = check_staffing(session, room.settings.review.stages, room.settings.committees)
    return page(
        request,
        "users/users.html",
        status=status,
        users=users,
        findings=findings,
        roles=ROLES,
        role_labels=ROLE_LABELS,
        committees=room.settings.committees,
        error=error,
    )


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    permitted(live, Act.MANAGE_USERS)
    return _users_page(request)


@router.post("/users")
def add(
    request: Request,
    live: Annotated[LiveSession, Depends(acting)],
    username: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    committees: Annotated[str, Form()] = "",
    departments: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    permitted(live, Act.MANAGE_USERS)
    username, name = username.strip(), name.strip()
    if not username or not name:
        return _users_page(request, error="请填写用户名和姓名", status=400)
    problem = (
        password_problem(password, username) if password else "请设置初始密码 / a first password is needed"
    )
    if problem:
        return _users_page(request, error=problem, status=400)
    try:
        with write_session(room_of(request).engine) as session:
            add_user(
                session,
                username=username,
                name=name,
                roles=roles or [],
                committees=_split(committees),
                departments=_split(departments),
                password=password,
                actor=live.identity.username,
            )
    except PublisherError as exc:
        return _users_page(request, error=str(exc), status=400)
    return redirect(request, "/users", msg=f"已添加用户 {username}")


@router.post("/users/{username}/edit")
def edit(
    request: Request,
    username: str,
    live: Annotated[LiveSession, Depends(acting)],
    roles: Annotated[list[str] | None, Form()] = None,
    committees: Annotated[str, Form()] = "",
    departments: Annotated[str, Form()] = "",
) -> Response:
    permitted(live, Act.MANAGE_USERS)
    room = room_of(request)
    try:
        with write_session(room.engine) as session:
            edit_user(
                session,
                username,
                actor=live.identity.username,
                roles=roles or [],
                committees=_split(committees),
                departments=_split(departments),
                known_committees=frozenset(room.settings.committees),
            )
    except PublisherError as exc:
        return _users_page(request, error=f"{username}：{exc}", status=400)
    return redirect(request, "/users", msg=f"已更新 {username} 的角色与归属")


@router.post("/users/{username}/disable")
def disable(request: Request, username: str, live: Annotated[LiveSession, Depends(acting)]) -> Response:
    permitted(live, Act.MANAGE_USERS)
    disable_account(room_of(request).engine, live.identity, username)
    return redirect(request, "/users", msg=f"已停用 {username}，其登录与令牌已全部失效")


@router.post("/users/{username}/enable")
def enable(request: Request, username: str, live: Annotated[LiveSession, Depends(acting)]) -> Response:
    permitted(live, Act.MANAGE_USERS)
    with write_session(room_of(request).engine) as session:
        edit_user(session, username, actor=live.identity.username, active=True)
    return redirect(request, "/users", msg=f"已重新启用 {username}")


@router.post("/users/{username}/password")
def password(
    request: Request,
    username: str,
    live: Annotated[LiveSession, Depends(acting)],
    new: Annotated[str, Form()] = "",
) -> Response:
    permitted(live, Act.MANAGE_USERS)
    room = room_of(request)
    with read_session(room.engine) as session:
        get_user(session, username)
    reset_password(room.engine, live.identity, username, new)
    return redirect(request, "/users", msg=f"已重置 {username} 的密码，其登录与令牌已全部失效")


@router.post("/users/{username}/revoke")
def revoke(request: Request, username: str, live: Annotated[LiveSession, Depends(acting)]) -> Response:
    permitted(live, Act.MANAGE_USERS)
    sessions, tokens = revoke_access(room_of(request).engine, live.identity, username)
    return redirect(
        request, "/users", msg=f"已撤销 {username} 的 {sessions} 个登录会话和 {tokens} 个命令行令牌"
    )
