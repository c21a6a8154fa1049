"""我的账号: change one's password, see one's sessions and command-line tokens, revoke them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from publisher.auth.accounts import change_password
from publisher.auth.sessions import LiveSession, sessions_of
from publisher.auth.signin import AuthError
from publisher.auth.tokens import list_tokens, revoke_token
from publisher.console.web import acting, page, redirect, room_of, staff
from publisher.errors import NotFound
from publisher.store.engine import read_session
from publisher.timeutil import show

router = APIRouter()


def _account_page(request: Request, live: LiveSession, error: str = "", status: int = 200) -> HTMLResponse:
    room = room_of(request)
    tz = room.settings.tz
    with read_session(room.engine) as session:
        sessions = [
            {
                "created": show(s.created_at, tz),
                "seen": show(s.last_seen_at, tz),
                "agent": s.user_agent,
                "current": s.id == live.id,
            }
            for s in sessions_of(session, live.identity.username)
        ]
        tokens = [
            {
                "id": t.id,
                "label": t.label,
                "prefix": t.prefix,
                "created": show(t.created_at, tz),
                "used": show(t.last_used_at, tz) if t.last_used_at else "从未使用",
                "revoked": t.revoked_at is not None,
            }
            for t in list_tokens(session, live.identity.username)
        ]
    return page(request, "account.html", status=status, sessions=sessions, tokens=tokens, error=error)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    return _account_page(request, live)


@router.post("/account/password")
def password(
    request: Request,
    live: Annotated[LiveSession, Depends(acting)],
    current: Annotated[str, Form()],
    new: Annotated[str, Form()],
    again: Annotated[str, Form()],
) -> Response:
    if new != again:
        return _account_page(request, live, "两次输入的新密码不一致", status=400)
    try:
        change_password(room_of(request).engine, live.identity, current, new, keep_session=live.id)
    except AuthError as exc:
        return _account_page(request, live, str(exc), status=400)
    return redirect(request, "/account", msg="密码已修改；其他会话和命令行令牌已失效")


@router.post("/account/tokens/{token_id}/revoke")
def revoke(request: Request, token_id: int, live: Annotated[LiveSession, Depends(acting)]) -> Response:
    try:
        revoke_token(room_of(request).engine, live.identity, token_id)
    except NotFound as exc:
        return _account_page(request, live, str(exc), status=404)
    return redirect(request, "/account", msg="令牌已撤销")
