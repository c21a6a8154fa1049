"""The console application: its own FastAPI app, so an office can expose the partner API without
exposing the console (`publisher console`), or run both in one process (`publisher serve --console`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from publisher import __version__
from publisher.auth.signin import AuthError
from publisher.console.routes import (
    account,
    articles,
    audit_log,
    bulletins,
    calendar,
    consultation,
    dashboard,
    inspection,
    notices,
    pause,
    queue,
    retract,
    review,
    signin,
    supply,
    users,
)
from publisher.console.throttle import LoginThrottle
from publisher.console.web import (
    STATIC,
    CsrfRefused,
    Forbidden,
    LoginRequired,
    SecondFactorOwed,
    page,
    safe_next,
    url,
)
from publisher.engine.clock import Clock, RealClock
from publisher.errors import NotFound, PublisherError
from publisher.newsroom import Newsroom

# Pages may frame the console's own previews, nothing else; no inline script anywhere.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


def _relative(request: Request) -> str:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    path = request.url.path
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    return path + (f"?{request.url.query}" if request.url.query else "")


def create_console_app(
    room: Newsroom, *, secure_cookies: bool = False, clock: Clock | None = None
) -> FastAPI:
    name = room.settings.newsroom.full_name or room.settings.newsroom.name
    app = FastAPI(
        title=f"{name} · 工作台", version=__version__, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.room = room
    app.state.secure_cookies = secure_cookies
    # What time it is for pages that judge by it (overdue comments); tests pass a FixedClock.
    app.state.clock = clock or RealClock()
    app.state.login_throttle = LoginThrottle()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # One line per page area; a new page is a router module added here.
    for module in (
        signin,
        account,
        pause,
        dashboard,
        articles,
        review,
        notices,
        calendar,
        queue,
        retract,
        supply,
        audit_log,
        users,
        inspection,
        consultation,
        bulletins,
    ):
        app.include_router(module.router)

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(url(request, "/login", next=safe_next(_relative(request))), status_code=303)

    @app.exception_handler(SecondFactorOwed)
    async def second_factor_owed(request: Request, exc: SecondFactorOwed) -> Response:
        return RedirectResponse(url(request, "/login/totp"), status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return page(request, "error.html", status=403, title="无权访问", message=exc.message)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return page(
            request,
            "error.html",
            status=403,
            title="请求已拒绝",
            message="页面已过期或请求不是从本系统页面发出（CSRF 校验失败）。请返回刷新页面后重试。",
        )

    @app.exception_handler(AuthError)
    async def auth_error(request: Request, exc: AuthError) -> Response:
        return page(request, "error.html", status=403, title="身份验证失败", message=str(exc))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return page(request, "error.html", status=404, title="找不到", message=str(exc))

    @app.exception_handler(PublisherError)
    async def refused(request: Request, exc: PublisherError) -> Response:
        return page(request, "error.html", status=400, title="操作未完成", message=str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title = "找不到页面" if exc.status_code == 404 else "请求有误"
        return page(request, "error.html", status=exc.status_code, title=title, message=str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Never a traceback for a person: the log keeps it, the page says what to do.
        import logging

        logging.getLogger("publisher.console").exception("console error on %s", request.url.path)
        return page(
            request,
            "error.html",
            status=500,
            title="系统出错",
            message="处理请求时出现意外错误，已记录在服务日志中。请稍后重试；如果再次出现，请联系管理员。",
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
