"""What every console page shares: the signed-in person, CSRF, permissions, rendering, redirects.

Every link and redirect goes through `url()`, so the console works alone (`publisher console`) and
mounted under a prefix beside the partner API (`publisher serve --console`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from publisher.auth.identity import Identity
from publisher.auth.permissions import Act, may
from publisher.auth.sessions import LiveSession, live_session
from publisher.engine.clock import Clock
from publisher.engine.pause import PAUSE_FLAG, PAUSE_REASON_FLAG
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import NewsroomFlag
from publisher.timeutil import show

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
COOKIE = "publisher_session"
LOGIN_CSRF_COOKIE = "publisher_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """No live session: the handler sends the person to the login page and back afterwards."""


class SecondFactorOwed(Exception):
    """Signed in with a password, still owing the one-time code (or its enrolment)."""


class Forbidden(Exception):
    """Signed in, but this act or page is not for this person's roles."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CsrfRefused(Exception):
    """A state-changing request without the session's token: refused, nothing done."""


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def environment() -> jinja2.Environment:
    return _env


def room_of(request: Request) -> Newsroom:
    room: Newsroom = request.app.state.room
    return room


def now_of(request: Request) -> datetime:
    """The console's clock (`create_console_app(clock=...)`): real time, or a test's fixed one."""
    clock: Clock = request.app.state.clock
    return clock.now()


def url(request: Request, path: str, **query: Any) -> str:
    """A console path under the prefix the app is mounted at."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    tail = f"?{urlencode({k: v for k, v in query.items() if v is not None})}" if query else ""
    return f"{root}{path}{tail}"


def session_of(request: Request) -> LiveSession | None:
    cached = getattr(request.state, "console_session", None)
    if cached is not None:
        return cached if isinstance(cached, LiveSession) else None
    room = room_of(request)
    found = live_session(room.engine, room.settings.auth, request.cookies.get(COOKIE, ""))
    request.state.console_session = found if found is not None else False
    return found


def staff(request: Request) -> LiveSession:
    """Dependency: the live, fully signed-in session, or the login page."""
    found = session_of(request)
    if found is None:
        raise LoginRequired()
    if not found.second_factor_done:
        raise SecondFactorOwed()
    return found


def permitted(live: LiveSession, act: Act) -> None:
    if not may(live.identity, act):
        from publisher.auth.permissions import ALLOWED

        roles = "、".join(sorted(ALLOWED[act]))
        raise Forbidden(f"此操作需要以下角色之一：{roles}")


async def check_csrf(request: Request, live: LiveSession) -> None:
    """Every state-changing request carries the session's token, in the form or a header."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, live.csrf_token):
        raise CsrfRefused()


async def acting(request: Request) -> LiveSession:
    """Dependency for POST routes: a live session and its CSRF token, or a refusal."""
    live = staff(request)
    await check_csrf(request, live)
    return live


@dataclass(frozen=True, slots=True)
class PauseView:
    by: str
    at: str
    reason: str


def pause_state(room: Newsroom) -> PauseView | None:
    """The emergency stop as every page shows it: who, when and why."""
    with read_session(room.engine) as session:
        flag = session.get(NewsroomFlag, PAUSE_FLAG)
        if flag is None or flag.value != "true":
            return None
        reason = session.get(NewsroomFlag, PAUSE_REASON_FLAG)
    return PauseView(flag.updated_by, show(flag.updated_at, room.settings.tz), reason.value if reason else "")


NAV: tuple[tuple[str, str, Act | None], ...] = (
    ("/", "工作台", None),
    ("/articles", "稿件", None),
    ("/review", "审核", None),
    ("/calendar", "日历", None),
    ("/queue", "发布", None),
    ("/supply", "供稿", Act.SUPPLY),
    ("/consultations", "征求意见", None),
    ("/inspection", "清查", None),
    ("/bulletins", "公报", None),
    ("/audit", "审计", Act.READ_AUDIT),
    ("/users", "用户", Act.MANAGE_USERS),
)

# Pages that other modules add to every page's context (e.g. the unread notice count): name -> fn.
ContextProvider = Any
_providers: dict[str, ContextProvider] = {}


def context_provider(name: str, provider: ContextProvider) -> None:
    _providers[name] = provider


def page(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    room = room_of(request)
    live = session_of(request)
    me: Identity | None = live.identity if live is not None and live.second_factor_done else None
    base: dict[str, Any] = {
        "request": request,
        "me": me,
        "csrf": live.csrf_token if live is not None else "",
        "csrf_field": CSRF_FIELD,
        "newsroom": room.settings.newsroom.full_name or room.settings.newsroom.name,
        "paused": pause_state(room) if me is not None else None,
        "nav": [(path, name) for path, name, act in NAV if act is None or (me is not None and may(me, act))],
        "may_pause": me is not None and may(me, Act.PAUSE),
        "path": request.url.path,
        "notice": request.query_params.get("msg", ""),
        "url": lambda path, **query: url(request, path, **query),
    }
    for name, provider in _providers.items():
        base[name] = provider(request, me) if me is not None else None
    base.update(context)
    html = _env.get_template(template).render(base)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def redirect(request: Request, path: str, msg: str | None = None, **query: Any) -> RedirectResponse:
    """After a POST: 303 to a page (the browser then GETs it), with an optional message shown."""
    return RedirectResponse(url(request, path, msg=msg, **query), status_code=303)


def safe_next(value: str | None) -> str:
    """A post-login destination: a path inside the console, never another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return quote(value, safe="/?=&%-_.~")
