"""暂停: the emergency stop, with a reason; resuming. Every page shows the state while paused."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from publisher.auth.permissions import Act
from publisher.auth.sessions import LiveSession
from publisher.console.web import acting, page, pause_state, permitted, redirect, room_of, staff
from publisher.engine.pause import set_paused

router = APIRouter()


@router.get("/pause", response_class=HTMLResponse)
def pause_form(request: Request, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    permitted(live, Act.PAUSE)
    return page(request, "pause.html", state=pause_state(room_of(request)), error="")


@router.post("/pause")
def pause(
    request: Request, live: Annotated[LiveSession, Depends(acting)], reason: Annotated[str, Form()] = ""
) -> Response:
    permitted(live, Act.PAUSE)
    if not reason.strip():
        return page(
            request, "pause.html", status=400, state=pause_state(room_of(request)), error="请填写暂停原因"
        )
    set_paused(room_of(request), True, live.identity.username, reason.strip())
    return redirect(request, "/pause", msg="已暂停全部发布")


@router.post("/resume")
def resume(
    request: Request, live: Annotated[LiveSession, Depends(acting)], reason: Annotated[str, Form()] = ""
) -> Response:
    permitted(live, Act.PAUSE)
    set_paused(room_of(request), False, live.identity.username, reason.strip() or None)
    return redirect(request, "/pause", msg="已恢复发布")
