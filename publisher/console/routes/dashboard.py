"""工作台: what waits on me, my pieces, the week's releases per channel, what needs a person, the
workers and the pause switch: the read model `views.dashboard`, one page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from publisher.auth.sessions import LiveSession
from publisher.console.views.dashboard import dashboard
from publisher.console.web import page, room_of, staff
from publisher.store.engine import read_session
from publisher.timeutil import show, utc_now

router = APIRouter()

WEEKDAYS = "一二三四五六日"


@router.get("/", response_class=HTMLResponse)
def home(request: Request, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    room = room_of(request)
    tz = room.settings.tz
    with read_session(room.engine) as session:
        board = dashboard(
            session, live.identity.username, utc_now(), room.settings.engine.heartbeat_seconds, tz
        )
    return page(
        request,
        "dashboard/home.html",
        board=board,
        weekdays=WEEKDAYS,
        since=lambda moment: show(moment, tz),
    )
