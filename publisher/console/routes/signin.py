"""Sign in (password, then the one-time code or its enrolment), sign out."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from publisher.auth.sessions import LiveSession, close_session, finish_second_factor, open_session
from publisher.auth.signin import (
    AuthError,
    SecondStep,
    enrol_totp,
    new_totp_secret,
    provisioning_uri,
    second_factor,
    sign_in,
)
from publisher.console.throttle import LoginThrottle
from publisher.console.web import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    CsrfRefused,
    acting,
    page,
    redirect,
    room_of,
    safe_next,
    session_of,
    url,
)

router = APIRouter()


def _cookie_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/") or "/"


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    room = room_of(request)
    response.set_cookie(
        COOKIE,
        token,
        max_age=room.settings.auth.session_absolute_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=bool(request.app.state.secure_cookies),
        path=_cookie_path(request),
    )


def _login_page(request: Request, next_path: str, error: str = "", status: int = 200) -> HTMLResponse:
    # Login CSRF: a double-submit token, since there is no session yet to hold one.
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = page(request, "login.html", status=status, next=next_path, login_csrf=token, error=error)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path=_cookie_path(request),
        secure=bool(request.app.state.secure_cookies),
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    live = session_of(request)
    if live is not None and live.second_factor_done:
        return RedirectResponse(url(request, safe_next(next)), status_code=303)
    return _login_page(request, safe_next(next))


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    login_csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, login_csrf):
        raise CsrfRefused()
    room = room_of(request)
    destination = safe_next(next)
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    if throttle.blocked(address):
        return _login_page(request, destination, "登录尝试过于频繁，请稍后再试", status=429)
    try:
        result = sign_in(
            room.engine,
            room.settings.auth,
            username.strip(),
            password,
            where="console",
            tz_name=room.settings.newsroom.timezone,
        )
    except AuthError as exc:
        throttle.failed(address)
        return _login_page(request, destination, str(exc), status=401)
    token, _live = open_session(
        room.engine,
        room.settings.auth,
        result.identity,
        second_factor_done=result.complete,
        user_agent=request.headers.get("user-agent", ""),
    )
    if result.second == SecondStep.ENROL:
        target = url(request, "/login/enrol", next=destination)
    elif result.second == SecondStep.OWED:
        target = url(request, "/login/totp", next=destination)
    else:
        target = url(request, destination)
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=_cookie_path(request))
    return response


def _pending(request: Request) -> LiveSession:
    live = session_of(request)
    if live is None:
        raise AuthError("登录已失效，请重新登录 / the sign-in expired: sign in again")
    return live


@router.get("/login/totp", response_class=HTMLResponse)
def totp_form(request: Request, next: str = "/") -> Response:
    live = session_of(request)
    if live is None:
        return RedirectResponse(url(request, "/login"), status_code=303)
    return page(request, "totp.html", next=safe_next(next), pending=live, error="")


@router.post("/login/totp")
async def totp(
    request: Request, code: Annotated[str, Form()], next: Annotated[str, Form()] = "/"
) -> Response:
    live = _pending(request)
    from publisher.console.web import check_csrf

    await check_csrf(request, live)
    room = room_of(request)
    try:
        second_factor(room.engine, room.settings.auth, live.identity.username, code, where="console")
    except AuthError as exc:
        return page(request, "totp.html", status=401, next=safe_next(next), pending=live, error=str(exc))
    finish_second_factor(room.engine, live.id)
    return RedirectResponse(url(request, safe_next(next)), status_code=303)


@router.get("/login/enrol", response_class=HTMLResponse)
def enrol_form(request: Request, next: str = "/") -> Response:
    live = session_of(request)
    if live is None:
        return RedirectResponse(url(request, "/login"), status_code=303)
    secret = new_totp_secret()
    room = room_of(request)
    uri = provisioning_uri(secret, live.identity.username, room.settings.newsroom.name)
    return page(request, "enrol.html", next=safe_next(next), pending=live, secret=secret, uri=uri, error="")


@router.post("/login/enrol")
async def enrol(
    request: Request,
    secret: Annotated[str, Form()],
    code: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    live = _pending(request)
    from publisher.console.web import check_csrf

    await check_csrf(request, live)
    room = room_of(request)
    try:
        enrol_totp(room.engine, live.identity.username, secret, code)
    except AuthError as exc:
        uri = provisioning_uri(secret, live.identity.username, room.settings.newsroom.name)
        return page(
            request,
            "enrol.html",
            status=400,
            next=safe_next(next),
            pending=live,
            secret=secret,
            uri=uri,
            error=str(exc),
        )
    finish_second_factor(room.engine, live.id)
    return RedirectResponse(url(request, safe_next(next)), status_code=303)


@router.post("/logout")
def logout(request: Request, live: Annotated[LiveSession, Depends(acting)]) -> Response:
    room = room_of(request)
    close_session(room.engine, live.id, live.identity.username)
    response = redirect(request, "/login", msg="已退出登录")
    response.delete_cookie(COOKIE, path=_cookie_path(request))
    return response
