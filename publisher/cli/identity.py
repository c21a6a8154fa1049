"""Who is at the terminal: a personal token from `publisher login` (kept in the user's own config
folder, per newsroom and database), `PUBLISHER_TOKEN` for scripts and cron, or the password asked
at the prompt. `--as` only chooses which of one's stored logins to use; it proves nothing alone."""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.engine import make_url

from publisher.auth.identity import Identity
from publisher.auth.permissions import Act, require
from publisher.auth.signin import AuthError, SecondStep, sign_in
from publisher.auth.tokens import token_identity
from publisher.newsroom import Newsroom

AsOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="以哪个已登录身份操作（须先 publisher login） / which of your logins to act as (after publisher login)",
    ),
]

TOKEN_ENV = "PUBLISHER_TOKEN"


def config_home() -> Path:
    explicit = os.environ.get("PUBLISHER_CONFIG_HOME")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "publisher"


def credentials_file() -> Path:
    return config_home() / "credentials.json"


def room_key(room: Newsroom) -> str:
    """Tokens belong to one database: the newsroom folder and its database (password hidden)."""
    url = make_url(room.database_url).render_as_string(hide_password=True)
    return f"{room.root}|{url}"


def _read() -> dict[str, Any]:
    path = credentials_file()
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": 1, "newsrooms": {}}
    except (OSError, ValueError):
        raise AuthError(
            f"登录信息文件已损坏 / {path} cannot be read: 删除它后重新 publisher login / delete it and log in again"
        ) from None
    data.setdefault("newsrooms", {})
    return data


def _write(data: dict[str, Any]) -> None:
    path = credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staged = path.with_suffix(".tmp")
    # Owner-only from the first byte: the file holds credentials.
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
    staged.replace(path)


def remember(room: Newsroom, username: str, token: str) -> None:
    data = _read()
    entry = data["newsrooms"].setdefault(room_key(room), {"default": username, "tokens": {}})
    entry["tokens"][username] = token
    entry["default"] = username
    _write(data)


def forget(room: Newsroom, username: str) -> str | None:
    """Drop the stored token of `username` for this newsroom; returns it (to revoke it too)."""
    data = _read()
    entry = data["newsrooms"].get(room_key(room))
    if not entry:
        return None
    token: str | None = entry["tokens"].pop(username, None)
    if entry.get("default") == username:
        entry["default"] = next(iter(entry["tokens"]), None)
    _write(data)
    return token


def stored(room: Newsroom, username: str | None) -> tuple[str, str] | None:
    """(username, token) of a stored login: the named one, else this newsroom's default."""
    entry = _read()["newsrooms"].get(room_key(room))
    if not entry:
        return None
    name = username or entry.get("default")
    token = entry["tokens"].get(name) if name else None
    return (name, token) if name and token else None


def ask_password(room: Newsroom, username: str | None, *, where: str = "cli") -> Identity:
    """Sign in at the prompt (a terminal only): the password, and the one-time code if owed."""
    name = username or typer.prompt("用户名 / username")
    password = getpass.getpass(f"{name} 的密码 / password for {name}: ")
    result = sign_in(
        room.engine, room.settings.auth, name, password, where=where, tz_name=room.settings.newsroom.timezone
    )
    if result.second == SecondStep.ENROL:
        raise AuthError(
            "本账号须使用动态验证码，请先在控制台「我的账号」中启用 / this account needs a second factor: "
            "enrol one in the console first"
        )
    if result.second == SecondStep.OWED:
        code = typer.prompt("动态验证码 / one-time code")
        result = sign_in(
            room.engine,
            room.settings.auth,
            name,
            password,
            totp=code,
            where=where,
            tz_name=room.settings.newsroom.timezone,
        )
    return result.identity


def acting_user(room: Newsroom, as_: str | None) -> Identity:
    """The authenticated person a command acts for, or AuthError saying how to sign in."""
    env_token = os.environ.get(TOKEN_ENV)
    if env_token:
        identity = token_identity(room.engine, env_token)
        if as_ and as_ != identity.username:
            raise AuthError(
                f"{TOKEN_ENV} 属于 {identity.username}，不是 --as {as_} / {TOKEN_ENV} belongs to "
                f"{identity.username}, not {as_}"
            )
        return identity
    login = stored(room, as_)
    if login is not None:
        name, token = login
        try:
            identity = token_identity(room.engine, token)
        except AuthError:
            forget(room, name)
            if not sys.stdin.isatty():
                raise
        else:
            # The token decides who acts, never the name it is filed under: a credentials file
            # edited to file one person's token under another's name is refused, not obeyed.
            if identity.username != name:
                raise AuthError(
                    f"保存的 {name} 的登录属于 {identity.username} / the login stored for {name} belongs to "
                    f"{identity.username}: 请重新登录 / run `publisher login --as {name}` again"
                )
            return identity
    if sys.stdin.isatty():
        return ask_password(room, as_)
    who = as_ or "USER"
    raise AuthError(
        f"未登录 / not signed in{f' as {as_}' if as_ else ''}: 先运行 publisher login --as {who}，"
        f"或为脚本设置 {TOKEN_ENV} / run `publisher login --as {who}` first, or set {TOKEN_ENV} for scripts"
    )


def authorized(room: Newsroom, as_: str | None, act: Act) -> Identity:
    """The signed-in person, once the permission table allows them `act`."""
    identity = acting_user(room, as_)
    require(identity, act)
    return identity
