"""users add, list, edit, disable, passwd, sync."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from publisher.auth.accounts import change_password, reset_password
from publisher.auth.bootstrap import BOOTSTRAP_ACTOR, bootstrap_open, bootstrap_password
from publisher.auth.permissions import Act
from publisher.auth.signin import AuthError, password_problem
from publisher.cli.common import (
    JsonOpt,
    NewsroomOpt,
    console,
    err_console,
    open_newsroom,
    print_json,
    staff_errors,
)
from publisher.cli.identity import AsOpt, acting_user, authorized
from publisher.newsroom import Newsroom
from publisher.review import users as service
from publisher.store.engine import read_session, write_session

app = typer.Typer(help="用户与角色 / staff users and roles.", no_args_is_help=True)

BOOTSTRAP_NOTICE = (
    "[yellow]引导模式 / bootstrap:[/] 尚无管理员设置密码，本次无需登录，审计记为 bootstrap；"
    "管理员设置密码后须先登录 / no admin has a password yet, so this needs no login and is audited as "
    "'bootstrap'; once an admin has one, sign in first"
)


def _administrator(room: Newsroom, as_: str | None) -> str:
    """Who administers users: a signed-in admin, or "bootstrap" while no admin can sign in."""
    if bootstrap_open(room.engine):
        err_console.print(BOOTSTRAP_NOTICE)
        return BOOTSTRAP_ACTOR
    return authorized(room, as_, Act.MANAGE_USERS).username


PasswordEnv = Annotated[
    str | None,
    typer.Option("--password-env", help="从此环境变量读取密码 / read the password from this variable"),
]


def _password(env: str | None, prompt: bool, stdin: bool = False) -> str | None:
    if env:
        value = os.environ.get(env)
        if not value:
            raise typer.BadParameter(f"环境变量 {env} 为空 / {env} is not set")
        return value
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    if prompt:
        value = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
        return str(value)
    return None


@app.command("add")
def add(
    username: str,
    name: Annotated[str, typer.Option("--name", help="姓名 / display name, as articles list authors")],
    role: Annotated[list[str], typer.Option("--role", help="角色，可多次 / role, repeatable")],
    committee: Annotated[
        list[str] | None, typer.Option("--committee", help="专门委员会（审核人） / committee")
    ] = None,
    department: Annotated[
        list[str] | None, typer.Option("--department", help="负责部门 / department")
    ] = None,
    password_env: PasswordEnv = None,
    ask_password: Annotated[
        bool, typer.Option("--password", help="交互输入密码 / prompt for a password")
    ] = False,
    email: Annotated[
        str | None, typer.Option("--email", help="接收通知的邮箱 / where e-mail notices go")
    ] = None,
    as_: AsOpt = None,
    newsroom: NewsroomOpt = Path("."),
) -> None:
    """新增用户 / add a user."""
    with staff_errors():
        room = open_newsroom(newsroom)
        actor = _administrator(room, as_)
        password = _password(password_env, ask_password)
        problem = password_problem(password, username) if password is not None else None
        if problem:
            raise AuthError(problem)
        unknown = [c for c in committee or [] if c not in room.taxonomy.committees]
        if unknown:
            raise service.UserError(f"未声明的专门委员会 / undeclared committees: {unknown}")
        with write_session(room.engine) as session:
            service.add_user(
                session,
                username=username,
                name=name,
                roles=role,
                committees=committee or [],
                departments=department or [],
                email=email,
                password=password,
                actor=actor,
            )
    console.print(f"已添加用户 / added {username}（{name}）：{', '.join(role)}")


@app.command("list")
def list_(newsroom: NewsroomOpt = Path("."), as_json: JsonOpt = False) -> None:
    """列出用户 / list users."""
    with staff_errors():
        room = open_newsroom(newsroom)
        with read_session(room.engine) as session:
            users = service.list_users(session)
    if as_json:
        print_json(
            [
                {
                    "username": u.username,
                    "name": u.display_name,
                    "roles": service.roles_of(u),
                    "committees": service.committees_of(u),
                    "departments": service.departments_of(u),
                    "active": u.active,
                    "has_password": u.password_hash is not None,
                }
                for u in users
            ]
        )
        return
    table = Table(title=f"用户 / users ({len(users)})", title_justify="left")
    for label in ("用户名", "姓名", "角色", "专门委员会 / 部门", "状态"):
        table.add_column(label, overflow="fold")
    for u in users:
        scope = "、".join(service.committees_of(u) + service.departments_of(u))
        table.add_row(
            u.username, u.display_name, ", ".join(service.roles_of(u)), scope, "启用" if u.active else "停用"
        )
    console.print(table)


@app.command("disable")
def disable(username: str, as_: AsOpt = None, newsroom: NewsroomOpt = Path(".")) -> None:
    """停用用户（保留其历史签署） / disable a user; their past acts stay on record."""
    with staff_errors():
        room = open_newsroom(newsroom)
        actor = _administrator(room, as_)
        with write_session(room.engine) as session:
            service.disable_user(session, username, actor)
    console.print(f"已停用 / disabled {username}")


@app.command("edit")
def edit(
    username: str,
    roles: Annotated[
        list[str] | None,
        typer.Option("--roles", help="新的角色（逗号分隔，替换原有） / roles, replacing the old"),
    ] = None,
    departments: Annotated[
        list[str] | None, typer.Option("--departments", help="负责部门（替换原有） / departments")
    ] = None,
    committees: Annotated[
        list[str] | None, typer.Option("--committees", help="专门委员会（替换原有） / committees")
    ] = None,
    enable: Annotated[
        bool | None, typer.Option("--enable/--disable", help="启用或停用 / enable or disable")
    ] = None,
    as_: AsOpt = None,
    newsroom: NewsroomOpt = Path("."),
) -> None:
    """修改用户的角色、部门、专门委员会或状态 / change a user's roles, departments, committees or state."""
    with staff_errors():
        if roles is None and departments is None and committees is None and enable is None:
            raise service.UserError(
                "没有要修改的内容 / nothing to change: give --roles, --departments, --committees, "
                "--enable or --disable"
            )
        room = open_newsroom(newsroom)
        actor = _administrator(room, as_)
        with write_session(room.engine) as session:
            user = service.edit_user(
                session,
                username,
                actor=actor,
                roles=roles,
                committees=committees,
                departments=departments,
                active=enable,
                known_committees=room.taxonomy.committees,
            )
            scope = "、".join(service.committees_of(user) + service.departments_of(user))
            shown = f"{user.display_name}：{', '.join(service.roles_of(user))}" + (
                f"；{scope}" if scope else ""
            )
            shown += "（启用 / enabled）" if user.active else "（停用 / disabled）"
    console.print(f"已更新用户 / updated {username}: {shown}")


@app.command("passwd")
def passwd(
    username: str,
    password_env: PasswordEnv = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入读取新密码 / read the new password from stdin")
    ] = False,
    old_password_env: Annotated[
        str | None,
        typer.Option(
            "--old-password-env",
            help="改自己的密码时，从此环境变量读取原密码 / your current password's variable",
        ),
    ] = None,
    as_: AsOpt = None,
    newsroom: NewsroomOpt = Path("."),
) -> None:
    """设置密码：引导时无需登录；之后须管理员或本人 / set a password: without a login only while no
    admin has one (bootstrap); after that an admin resets it, or the person changes their own."""
    with staff_errors():
        room = open_newsroom(newsroom)
        if bootstrap_open(room.engine):
            password = _password(password_env, prompt=True, stdin=password_stdin)
            assert password is not None
            bootstrap_password(room.engine, username, password)
            err_console.print(BOOTSTRAP_NOTICE)
            console.print(f"已设置密码 / password set for {username}")
            return
        identity = acting_user(room, as_)
        if identity.username == username:
            old = _password(old_password_env, prompt=False)
            if old is None:
                if not sys.stdin.isatty():
                    raise AuthError(
                        "修改本人密码需要原密码：用 --old-password-env / changing your own password needs the "
                        "current one: give --old-password-env"
                    )
                old = str(typer.prompt("原密码 / current password", hide_input=True))
            password = _password(password_env, prompt=True, stdin=password_stdin)
            assert password is not None
            change_password(room.engine, identity, old, password)
            console.print(
                f"已修改密码 / password changed for {username}；"
                "本人的令牌和会话已全部结束，请重新 publisher login / your tokens and sessions ended: log in again"
            )
            return
        if not identity.has_any("admin"):
            raise AuthError(
                f"{identity.username} 不是管理员，只能修改本人密码 / {identity.username} is not an admin and may "
                "only change their own password"
            )
        password = _password(password_env, prompt=True, stdin=password_stdin)
        assert password is not None
        reset_password(room.engine, identity, username, password)
    console.print(
        f"已重置密码 / password reset for {username}（其令牌和会话已结束 / their tokens and sessions ended）"
    )


@app.command("sync")
def sync(as_: AsOpt = None, newsroom: NewsroomOpt = Path(".")) -> None:
    """按 publisher.toml 的 [[users]] 创建或更新用户 / create or update the users publisher.toml declares."""
    with staff_errors():
        room = open_newsroom(newsroom)
        actor = _administrator(room, as_)
        with write_session(room.engine) as session:
            changed = service.sync_users(session, room.settings.users, actor)
    console.print(f"同步用户：{len(changed)} 个新增或更新 / {len(changed)} created or updated")
