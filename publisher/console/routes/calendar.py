"""日历: month and week on the working-day calendar; schedule an approved article into an empty
campaign slot, move a release; a personal iCalendar subscription (the token in the URL, revocable).

Every act goes through engine/scheduling.py, the service `publisher schedule` calls: its refusals
are the error shown, its warnings the message after the act. The console adds one refusal of its
own wording but not its own rule: a slot takes only an approved article (the review state the
scheduling warning reads)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import exists
from sqlmodel import col, select

from publisher.auth.permissions import Act, may
from publisher.auth.sessions import LiveSession
from publisher.console.calendar_feed import feed_ics, feed_owner, feeds_of, issue_feed, revoke_feed
from publisher.console.releases import STATE_LABELS, release_of
from publisher.console.views.calendar import CalendarView, month_view, week_view
from publisher.console.web import acting, page, permitted, redirect, room_of, staff, url
from publisher.delivery.states import DeliveryAction
from publisher.engine import scheduling
from publisher.errors import NotFound, PublisherError
from publisher.newsroom import Newsroom
from publisher.schedule import Schedules, load_schedules
from publisher.store.engine import read_session
from publisher.store.tables import Article, Delivery, ReviewState, Revision
from publisher.timeutil import local, show, utc_now

router = APIRouter()

PICK_LIMIT = 200  # approved articles offered for a slot, newest first


def _day(text: str | None, room: Newsroom) -> date:
    if not text:
        return local(utc_now(), room.settings.tz).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PublisherError(f"日期格式须为 YYYY-MM-DD / date must be YYYY-MM-DD, not {text!r}") from None


def _approved_unplanned(room: Newsroom) -> list[tuple[str, str]]:
    """Approved articles with no release on its way: what an editor may put into a slot (one query)."""
    pending = exists().where(
        col(Delivery.article_id) == col(Article.id),
        col(Delivery.action) == DeliveryAction.PUBLISH,
        col(Delivery.status).in_(scheduling.PENDING),
    )
    with read_session(room.engine) as session:
        rows = session.exec(
            select(Article.slug, Revision.title)
            .join(Revision, col(Revision.id) == col(Article.current_revision_id))
            .join(ReviewState, col(ReviewState.revision_id) == col(Article.current_revision_id))
            .where(ReviewState.status == "approved", ~pending)
            .order_by(col(Article.id).desc())
            .limit(PICK_LIMIT)
        ).all()
    return [(slug, title) for slug, title in rows]


def _calendar_page(
    request: Request,
    live: LiveSession,
    view: str,
    day: date,
    *,
    error: str = "",
    new_feed: str = "",
    status: int = 200,
) -> HTMLResponse:
    room = room_of(request)
    schedules = load_schedules(room)
    with read_session(room.engine) as session:
        shown: CalendarView = (
            week_view(session, schedules, day)
            if view == "week"
            else month_view(session, schedules, day.year, day.month)
        )
    planner = may(live.identity, Act.SCHEDULE)
    return page(
        request,
        "calendar/calendar.html",
        status=status,
        cal=shown,
        view=view,
        day=day,
        prev=_shift(view, day, -1),
        next=_shift(view, day, 1),
        today=local(utc_now(), room.settings.tz).date(),
        labels=STATE_LABELS,
        movable=[str(s) for s in scheduling.PENDING],
        planner=planner,
        pick=_approved_unplanned(room) if planner else [],
        campaigns={k: c.name for k, c in schedules.campaigns.items()},
        feeds=feeds_of(room.engine, live.identity.username),
        feed_url=url(request, f"/calendar/ics/{new_feed}.ics") if new_feed else "",
        show=lambda at: show(at, room.settings.tz),
        error=error,
    )


def _shift(view: str, day: date, step: int) -> date:
    """The day shown by the previous (-1) or next (1) page: a week away, or the month's first."""
    if view == "week":
        return day + timedelta(days=7 * step)
    month = day.month - 1 + step
    return date(day.year + month // 12, month % 12 + 1, 1)


@router.get("/calendar", response_class=HTMLResponse)
def calendar(
    request: Request,
    live: Annotated[LiveSession, Depends(staff)],
    view: Annotated[Literal["month", "week"], Query()] = "month",
    date_: Annotated[str | None, Query(alias="date")] = None,
) -> Response:
    return _calendar_page(request, live, view, _day(date_, room_of(request)))


def _window_warnings(schedules: Schedules, channels: list[str], due: datetime) -> list[str]:
    """The newsroom's quiet hours and blackouts at that time, as the engine will read them."""
    return [f"{c}：{why}（到时顺延）" for c in channels if (why := schedules.window_block(c, due))]


def _done(request: Request, day: date, view: str, what: str, warnings: list[str]) -> Response:
    text = "；".join([what, *(f"注意：{w}" for w in warnings)])
    return redirect(request, "/calendar", msg=text, view=view, date=day.isoformat())


@router.post("/calendar/schedule")
def schedule_into_slot(
    request: Request,
    live: Annotated[LiveSession, Depends(acting)],
    slug: Annotated[str, Form()] = "",
    campaign: Annotated[str, Form()] = "",
    number: Annotated[int, Form()] = 0,
    view: Annotated[Literal["month", "week"], Form()] = "month",
) -> Response:
    permitted(live, Act.SCHEDULE)
    room = room_of(request)
    schedules = load_schedules(room)
    slot = schedules.slot(campaign, number)
    day = local(slot.due, room.settings.tz).date()
    if not slug:
        return _calendar_page(request, live, view, day, error="请选择要排入时段的稿件", status=400)
    with read_session(room.engine) as session:
        found = session.exec(
            select(Article.id, ReviewState.status)
            .join(ReviewState, col(ReviewState.revision_id) == col(Article.current_revision_id), isouter=True)
            .where(Article.slug == slug)
        ).first()
    if found is None:
        raise NotFound(f"没有这篇稿件 / no article with slug {slug!r}")
    if found[1] != "approved":
        refusal = f"时段只接受审核通过的稿件，{slug} 未排入 / only approved articles go into a slot. {scheduling.NOT_APPROVED}"
        return _calendar_page(request, live, view, day, error=refusal, status=400)
    result = scheduling.schedule(
        room,
        slug,
        list(slot.channels),
        slot.due,
        live.identity.username,
        campaign=slot.campaign,
        slot_number=slot.number,
    )
    warnings = [*result.warnings, *_window_warnings(schedules, list(slot.channels), slot.due)]
    where = "、".join(i.channel for i in result.items)
    return _done(request, day, view, f"已将 {slug} 排入 {slot.label}（{where}）", warnings)


@router.post("/calendar/move")
def move_release(
    request: Request,
    live: Annotated[LiveSession, Depends(acting)],
    delivery: Annotated[int, Form()],
    at: Annotated[str, Form()] = "",
    view: Annotated[Literal["month", "week"], Form()] = "month",
) -> Response:
    permitted(live, Act.SCHEDULE)
    room = room_of(request)
    tz = room.settings.tz
    release, slug = release_of(room, delivery)
    try:
        typed = datetime.fromisoformat(at.strip())
    except ValueError:
        day = local(release.due_at, tz).date()
        return _calendar_page(
            request, live, view, day, error=f"新的发布时间格式有误：{at!r}（如 2026-12-04T09:00）", status=400
        )
    due = typed if typed.tzinfo is not None else typed.replace(tzinfo=tz)  # the form's time is local
    result = scheduling.schedule(room, slug, [release.channel], due, live.identity.username, move=True)
    warnings = [*result.warnings, *_window_warnings(load_schedules(room), [release.channel], due)]
    return _done(
        request, due.date(), view, f"已将 {slug} 在 {release.channel} 的发布改到 {show(due, tz)}", warnings
    )


@router.post("/calendar/feeds")
def new_feed(
    request: Request,
    live: Annotated[LiveSession, Depends(acting)],
    view: Annotated[Literal["month", "week"], Form()] = "month",
) -> Response:
    room = room_of(request)
    raw = issue_feed(room.engine, live.identity.username)
    # Shown once, on this answer: the page after a redirect could not show it again.
    return _calendar_page(request, live, view, _day(None, room), new_feed=raw)


@router.post("/calendar/feeds/{feed_id}/revoke")
def drop_feed(request: Request, feed_id: int, live: Annotated[LiveSession, Depends(acting)]) -> Response:
    revoke_feed(room_of(request).engine, live.identity.username, feed_id)
    return redirect(request, "/calendar", msg="日历订阅已停用，原订阅地址不再可用")


@router.get("/calendar/ics/{token}.ics")
def ics(request: Request, token: str) -> Response:
    """No session: a calendar app fetches it. The token is the credential; an unknown one is 404."""
    room = room_of(request)
    if feed_owner(room.engine, token) is None:
        return Response(
            "no such calendar / 没有这个日历订阅\n", status_code=404, media_type="text/plain; charset=utf-8"
        )
    return Response(
        feed_ics(room),
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "no-store", "Content-Disposition": 'inline; filename="publisher.ics"'},
    )
