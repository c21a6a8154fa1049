"""清查: the inspection's findings as tasks — open ones by due date, accepted ones with their reason;
accept with a reason, assign an owner. The last run's score heads the page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from publisher.auth.permissions import Act, may
from publisher.auth.sessions import LiveSession
from publisher.console.web import acting, page, permitted, redirect, room_of, staff
from publisher.inspection import tasks
from publisher.inspection.run import history
from publisher.store.engine import read_session, write_session
from publisher.timeutil import show

router = APIRouter()
SEVERITY = {"veto": "单项否决", "high": "严重", "medium": "一般", "low": "轻微"}


@router.get("/inspection", response_class=HTMLResponse)
def inspection_page(request: Request, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    room = room_of(request)
    tz = room.settings.tz
    with read_session(room.engine) as session:
        rows = tasks.listed(session, (tasks.TaskState.OPEN, tasks.TaskState.ACCEPTED))
    runs = history(room)
    items = [
        {
            "key": r.key,
            "severity": SEVERITY.get(r.severity, r.severity),
            "rule": r.rule,
            "where": f"{r.channel} {r.location}{'' if r.line is None else f'（第 {r.line} 行）'}".strip(),
            "message": r.message,
            "evidence": r.evidence,
            "due": show(r.due_at, tz),
            "state": "已接受" if r.state == tasks.TaskState.ACCEPTED else "待处理",
            "owner": r.owner or "",
            "reason": r.reason or "",
            "open": r.state == tasks.TaskState.OPEN,
        }
        for r in rows
    ]
    return page(
        request,
        "inspection.html",
        items=items,
        last=runs[-1] if runs else None,
        may_act=may(live.identity, Act.INSPECT),
        error="",
    )


@router.post("/inspection/{key}/accept")
def accept(
    request: Request,
    key: str,
    live: Annotated[LiveSession, Depends(acting)],
    reason: Annotated[str, Form()] = "",
) -> Response:
    permitted(live, Act.INSPECT)
    with write_session(room_of(request).engine) as session:
        tasks.accept(session, key, reason.strip(), live.identity.username, datetime.now(UTC))
    return redirect(request, "/inspection", msg="已接受该问题")


@router.post("/inspection/{key}/assign")
def assign(
    request: Request,
    key: str,
    live: Annotated[LiveSession, Depends(acting)],
    owner: Annotated[str, Form()] = "",
) -> Response:
    permitted(live, Act.INSPECT)
    with write_session(room_of(request).engine) as session:
        tasks.assign(session, key, owner.strip(), live.identity.username, datetime.now(UTC))
    return redirect(request, "/inspection", msg="已指定责任人")
