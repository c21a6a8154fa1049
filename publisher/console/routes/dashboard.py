"""工作台: what waits on me, my pieces, the week's releases per channel, what needs a person, the
workers and the pause switch: the read model `views.dashboard`, one page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from publisher.auth.sessions import LiveSession
from publisher.console.views.dashboard import TASKS_SHOWN, dashboard
from publisher.console.web import page, room_of, staff
from publisher.review.queries import SENT_BACK
from publisher.store.engine import read_session
from publisher.store.tables import ReviewAct
from publisher.timeutil import show, utc_now

router = APIRouter()

WEEKDAYS = "一二三四五六日"
# Rows per list on the page: the oldest first; the counts stay whole and the 审核 page has the rest.
SHOWN = TASKS_SHOWN


def rejection_comments(session: Session, revision_ids: list[str]) -> dict[str, str]:
    """revision -> the comment of its latest rejection, for the author's sent-back pieces: one query
    (the dashboard's read model lists the pieces; the comment is what the author needs next)."""
    if not revision_ids:
        return {}
    found: dict[str, str] = {}
    for revision_id, comment in session.exec(
        select(ReviewAct.revision_id, ReviewAct.comment)
        .where(col(ReviewAct.revision_id).in_(revision_ids), ReviewAct.act == "reject")
        .order_by(col(ReviewAct.id))
    ):
        found[revision_id] = comment or ""
    return found


@router.get("/", response_class=HTMLResponse)
def home(request: Request, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    room = room_of(request)
    tz = room.settings.tz
    with read_session(room.engine) as session:
        board = dashboard(
            session, live.identity.username, utc_now(), room.settings.engine.heartbeat_seconds, tz
        )
        comments = rejection_comments(session, [t.revision_id for t in board.tasks if t.stage == SENT_BACK])
    return page(
        request,
        "dashboard/home.html",
        board=board,
        weekdays=WEEKDAYS,
        sent_back=SENT_BACK,
        comments=comments,
        shown=SHOWN,
        since=lambda moment: show(moment, tz),
    )
