"""通知: the signed-in person's notices, unread marked, and marking them read; every page's header
shows the unread count (the `unread_notices` context provider)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from publisher.auth.identity import Identity
from publisher.auth.sessions import LiveSession
from publisher.console.web import acting, context_provider, page, redirect, room_of, staff
from publisher.notify.inbox import mark_read, notices_for, unread_count
from publisher.notify.model import NoticeKind
from publisher.store.engine import read_session, write_session
from publisher.timeutil import show

router = APIRouter()

NOTICE_ROWS = 100
KIND_NAMES = {
    NoticeKind.REVIEW_WAITING: "待审",
    NoticeKind.REJECTED: "退回",
    NoticeKind.APPROVED: "通过",
    NoticeKind.DELIVERY_FAILED: "发布失败",
    NoticeKind.DELIVERY_HELD: "发布滞留",
    NoticeKind.DELIVERY_MISSED: "错过发布",
}


def unread_notices(request: Request, me: Identity) -> int:
    with read_session(room_of(request).engine) as session:
        return unread_count(session, me.username)


context_provider("unread_notices", unread_notices)


def _safe_link(link: str | None) -> str | None:
    """A notice's link is a console path; anything else is not made a link."""
    return link if link and link.startswith("/") and not link.startswith("//") else None


@router.get("/notices", response_class=HTMLResponse)
def notices(request: Request, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    room = room_of(request)
    with read_session(room.engine) as session:
        rows = notices_for(session, live.identity.username, limit=NOTICE_ROWS)
    shown = [
        {
            "id": n.id,
            "kind": KIND_NAMES.get(n.kind, n.kind.value),
            "title": n.title,
            "body": n.body,
            "link": _safe_link(n.link),
            "at": show(n.created_at, room.settings.tz),
            "unread": n.read_at is None,
        }
        for n in rows
    ]
    return page(request, "notices/list.html", notices=shown)


@router.post("/notices/read")
def read(
    request: Request,
    live: Annotated[LiveSession, Depends(acting)],
    notice: Annotated[list[int] | None, Form()] = None,
) -> Response:
    """Mark the notices named (or, with none named, all of them) read."""
    with write_session(room_of(request).engine) as session:
        done = mark_read(session, live.identity.username, notice or None)
    return redirect(request, "/notices", msg=f"已标记 {done} 条通知为已读")
