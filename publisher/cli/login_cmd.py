"""login, logout, whoami, tokens: personal command-line credentials."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from publisher.auth.signin import AuthError, SecondStep, sign_in
from publisher.auth.tokens import issue_token, list_tokens, revoke_raw, revoke_token
from publisher.cli.common import JsonOpt, NewsroomOpt, console, open_newsroom, print_json, staff_errors
from publisher.cli.identity import AsOpt, acting_user, ask_password, forget, remember, stored
from publisher.store.engine import read_session
from publisher.timeutil import show

tokens_app = typer.Typer(help="命令行令牌 / command-line tokens.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    @app.command("login")
    def login(
        as_: AsOpt = None,
        password_stdin: Annotated[
            bool,
            typer.Option(
                "--password-stdin", help="从标准输入读取密码（脚本用） / read the password from stdin"
            ),
        ] = False,
        totp: Annotated[str | None, typer.Option("--totp", help="动态验证码 / one-time code")] = None,
        label: Annotated[str, typer.Option("--label", help="令牌备注 / a label for the token")] = "",
        newsroom: NewsroomOpt = Path("."),
    ) -> None:
        """登录并保存个人令牌 / sign in and keep a personal token for this newsroom."""
        with staff_errors():
            room = open_newsroom(newsroom)
            if password_stdin:
                if not as_:
                    raise AuthError("--password-stdin 需要 --as 用户名 / --password-stdin needs --as USER")
                password = sys.stdin.readline().rstrip("\n")
                result = sign_in(
                    room.engine,
                    room.settings.auth,
                    as_,
                    password,
                    totp=totp,
                    where="cli",
                    tz_name=room.settings.newsroom.timezone,
                )
                if result.second == SecondStep.OWED:
                    raise AuthError("本账号需要动态验证码：加 --totp CODE / this account needs --totp CODE")
                if result.second == SecondStep.ENROL:
                    raise AuthError(
                        "本账号须使用动态验证码，请先在控制台启用 / enrol a second factor in the console first"
                    )
                identity = result.identity
            elif sys.stdin.isatty():
                identity = ask_password(room, as_)
            else:
                raise AuthError(
                    "没有终端可以输入密码：用 --password-stdin / no terminal to ask a password: use --password-stdin"
                )
            token = issue_token(room.engine, room.settings.auth, identity, label or "cli")
            remember(room, identity.username, token)
            console.print(
                f"已登录 / signed in: {identity.display_name}（{identity.username}），"
                f"令牌 {room.settings.auth.token_days} 天后过期 / the token expires in {room.settings.auth.token_days} days"
            )

    @app.command("logout")
    def logout(as_: AsOpt = None, newsroom: NewsroomOpt = Path(".")) -> None:
        """注销：撤销并删除本机保存的令牌 / sign out: revoke and forget the stored token."""
        with staff_errors():
            room = open_newsroom(newsroom)
            login = stored(room, as_)
            if login is None:
                console.print("本机没有该登录 / no stored login here")
                return
            name, token = login
            revoke_raw(room.engine, token)
            forget(room, name)
            console.print(f"已注销 / signed out: {name}")

    @app.command("whoami")
    def whoami(as_: AsOpt = None, newsroom: NewsroomOpt = Path("."), as_json: JsonOpt = False) -> None:
        """当前身份 / who the commands act as."""
        with staff_errors():
            identity = acting_user(open_newsroom(newsroom), as_)
            if as_json:
                print_json(
                    {"username": identity.username, "name": identity.display_name, "roles": identity.roles}
                )
                return
            console.print(f"{identity.display_name}（{identity.username}） {', '.join(identity.roles)}")

    app.add_typer(tokens_app, name="tokens")


@tokens_app.command("list")
def tokens_list(
    as_: AsOpt = None,
    every: Annotated[
        bool, typer.Option("--all", help="所有人的令牌（管理员） / everyone's (admins)")
    ] = False,
    newsroom: NewsroomOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """我的令牌 / my tokens."""
    with staff_errors():
        room = open_newsroom(newsroom)
        identity = acting_user(room, as_)
        if every and not identity.has_any("admin"):
            raise AuthError("只有管理员可以查看所有令牌 / only an admin lists everyone's tokens")
        with read_session(room.engine) as session:
            rows = list_tokens(session, None if every else identity.username)
        if as_json:
            print_json([asdict(row) for row in rows])
            return
        tz = room.settings.tz
        table = Table(title="令牌 / tokens", title_justify="left")
        for head in (
            "ID",
            "用户 / user",
            "备注 / label",
            "前缀 / prefix",
            "签发 / issued",
            "最近使用 / last used",
            "状态 / state",
        ):
            table.add_column(head)
        for row in rows:
            state = "已撤销 / revoked" if row.revoked_at else "有效 / valid"
            table.add_row(
                str(row.id),
                row.username,
                row.label,
                row.prefix,
                show(row.created_at, tz),
                show(row.last_used_at, tz) if row.last_used_at else "-",
                state,
            )
        console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: int, as_: AsOpt = None, newsroom: NewsroomOpt = Path(".")) -> None:
    """撤销令牌（本人或管理员） / revoke a token (its owner or an admin)."""
    with staff_errors():
        room = open_newsroom(newsroom)
        identity = acting_user(room, as_)
        view = revoke_token(room.engine, identity, token_id)
        console.print(f"已撤销 / revoked: {view.id} {view.username} {view.prefix}")
