"""发布: the queue per channel with states and reasons, what went out (WeChat article URLs, partner
receipts); retry, cancel and publish now, each through the engine's services as `publisher
schedule --now`, `unschedule` and `publish` call them."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from publisher.auth.permissions import Act, may
from publisher.auth.sessions import LiveSession
from publisher.console.releases import STATE_LABELS, release_of
from publisher.console.views.queue import channel_queue
from publisher.console.web import acting, page, permitted, redirect, room_of, staff, url
from publisher.delivery.states import DeliveryAction, DeliveryState, Step
from publisher.engine import scheduling
from publisher.engine.publish_now import Outcome, publish_now
from publisher.store.engine import read_session
from publisher.timeutil import utc_now

router = APIRouter()

OUTCOME_LABELS = {
    Outcome.DONE: "已发出",
    Outcome.HELD: "被闸门暂缓",
    Outcome.FAILED: "失败",
    Outcome.PENDING: "待引擎重试",
}
# A release a person may send again at once: it failed, was held, or its time passed unperformed.
RETRYABLE = tuple(str(s) for s in Step.RESCHEDULE.sources if s != DeliveryState.CANCELED)
CANCELABLE = tuple(str(s) for s in Step.CANCEL.sources)
PAGE_SIZE = 50


@router.get("/queue", response_class=HTMLResponse)
def queue(
    request: Request,
    live: Annotated[LiveSession, Depends(staff)],
    channel: Annotated[str | None, Query()] = None,
    state: Annotated[list[str] | None, Query()] = None,
    page_: Annotated[int, Query(alias="page")] = 1,
) -> Response:
    room = room_of(request)
    with read_session(room.engine) as session:
        shown = channel_queue(
            session, channel or None, [s for s in state or [] if s], page_, PAGE_SIZE, room.settings.tz
        )
    return page(
        request,
        "queue/queue.html",
        q=shown,
        channels=sorted(room.channels.channels),
        all_states=[s.value for s in DeliveryState],
        labels=STATE_LABELS,
        actor=may(live.identity, Act.SCHEDULE),
        retryable=RETRYABLE,
        cancelable=CANCELABLE,
        publish=DeliveryAction.PUBLISH.value,
        prev=_page_link(request, channel, state, shown.page.number - 1) if shown.page.number > 1 else "",
        next=_page_link(request, channel, state, shown.page.number + 1)
        if shown.page.number < shown.page.pages
        else "",
    )


def _page_link(request: Request, channel: str | None, states: list[str] | None, number: int) -> str:
    pairs = [("channel", channel)] if channel else []
    pairs += [("state", s) for s in states or [] if s]
    return url(request, "/queue") + "?" + urlencode([*pairs, ("page", str(number))])


@router.post("/queue/{delivery}/retry")
def retry(request: Request, delivery: int, live: Annotated[LiveSession, Depends(acting)]) -> Response:
    """Schedule the release again at once (`publisher schedule SLUG -c CHANNEL --now`)."""
    permitted(live, Act.SCHEDULE)
    release, slug = release_of(room_of(request), delivery)
    if release.action != DeliveryAction.PUBLISH or release.status not in RETRYABLE:
        return redirect(request, "/queue", msg=f"第 {delivery} 项不是失败、暂缓或错过的发布，无需重试")
    result = scheduling.schedule(room_of(request), slug, [release.channel], utc_now(), live.identity.username)
    text = "；".join([f"已重新安排 {slug} 在 {release.channel} 立即发布", *result.warnings])
    return redirect(request, "/queue", msg=text, channel=release.channel)


@router.post("/queue/{delivery}/cancel")
def cancel(request: Request, delivery: int, live: Annotated[LiveSession, Depends(acting)]) -> Response:
    """Cancel the article's releases not yet made on this channel (`publisher unschedule`)."""
    permitted(live, Act.SCHEDULE)
    release, slug = release_of(room_of(request), delivery)
    count = scheduling.unschedule(room_of(request), slug, live.identity.username, [release.channel])
    return redirect(
        request,
        "/queue",
        msg=f"已取消 {slug} 在 {release.channel} 的 {count} 项待发",
        channel=release.channel,
    )


@router.post("/queue/{delivery}/publish")
def publish(request: Request, delivery: int, live: Annotated[LiveSession, Depends(acting)]) -> Response:
    """Publish now through the engine (`publisher publish`): the gate, windows and pause apply."""
    permitted(live, Act.SCHEDULE)
    release, slug = release_of(room_of(request), delivery)
    report = publish_now(room_of(request), slug, [release.channel], live.identity.username)
    parts = [
        f"{c.channel}：{OUTCOME_LABELS[c.outcome]}" + (f"（{c.detail}）" if c.detail else "")
        for c in report.channels
    ]
    text = "；".join([f"立即发布 {slug}", *parts, *report.warnings])
    return redirect(request, "/queue", msg=text, channel=release.channel)
