"""撤稿 and 更正: the retraction form shows where the article will be taken down before the confirm,
then the per-channel report (engine/retraction.py, as `publisher retract` calls it); the correction
page shows where a pending correction will go by each channel's policy (engine/corrections.py)
and lets an editor submit it to review with a note (ReviewService rules who may)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from publisher.auth.permissions import Act, may
from publisher.auth.sessions import LiveSession
from publisher.console.web import acting, page, permitted, redirect, room_of, staff
from publisher.delivery.states import DeliveryAction, DeliveryState
from publisher.engine import retraction
from publisher.errors import NotFound
from publisher.newsroom import Newsroom
from publisher.review.service import ReviewService
from publisher.store.engine import read_session
from publisher.store.retractions import in_force
from publisher.store.tables import Article, Delivery, ReviewState, Revision
from publisher.timeutil import show

router = APIRouter()

PROGRESS_LABELS = {"done": "已撤下", "pending": "待引擎执行", "failed": "失败，需人工处理"}
POLICY_LABELS = {
    "replace": "替换为更正后的版本（发布一次新版本，页面带更正说明）",
    "note": "无法修改已发内容：列为“显示旧版本”，需人工处理（如在原文留言说明）",
    "republish": "撤下旧文并重新发布更正后的版本",
}


@dataclass(frozen=True, slots=True)
class ArticleHead:
    slug: str
    title: str
    number: int
    revision_id: str
    review: str | None  # the current revision's review status, None: never submitted
    retracted: str | None  # the reason of a retraction in force


def _head(room: Newsroom, slug: str) -> ArticleHead:
    with read_session(room.engine) as session:
        found = session.exec(
            select(Article, Revision, ReviewState.status)
            .join(Revision, col(Revision.id) == col(Article.current_revision_id))
            .join(ReviewState, col(ReviewState.revision_id) == col(Revision.id), isouter=True)
            .where(Article.slug == slug)
        ).first()
        if found is None:
            raise NotFound(f"没有这篇稿件 / no article with slug {slug!r}")
        article, revision, status = found
        assert article.id is not None
        kept = in_force(session, article.id)
    return ArticleHead(
        slug, revision.title, revision.number, revision.id, status, kept.reason if kept else None
    )


def _retract_page(
    request: Request,
    slug: str,
    *,
    report: retraction.RetractReport | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    room = room_of(request)
    head = _head(room, slug)
    progress = report.channels if report is not None else retraction.progress(room, slug)
    return page(
        request,
        "retract/retract.html",
        status=status,
        article=head,
        holding=retraction.channels_holding(room, slug) if head.retracted is None else [],
        report=report,
        progress=progress,
        labels=PROGRESS_LABELS,
        show=lambda at: show(at, room.settings.tz) if at else "",
        error=error,
    )


@router.get("/articles/{slug}/retract", response_class=HTMLResponse)
def retract_form(request: Request, slug: str, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    permitted(live, Act.RETRACT)
    return _retract_page(request, slug)


@router.post("/articles/{slug}/retract")
def retract(
    request: Request,
    slug: str,
    live: Annotated[LiveSession, Depends(acting)],
    reason: Annotated[str, Form()] = "",
) -> Response:
    permitted(live, Act.RETRACT)
    if not reason.strip():
        return _retract_page(request, slug, error="请填写撤稿理由（必填）", status=400)
    room = room_of(request)
    report = retraction.take_down_now(room, retraction.retract(room, slug, reason, live.identity.username))
    return _retract_page(request, slug, report=report)


@dataclass(frozen=True, slots=True)
class Destination:
    channel: str
    live_number: int  # the newest revision this channel released
    policy: str | None  # None: the kind follows corrections itself (partners) or not at all
    explained: str


def _destinations(room: Newsroom, head: ArticleHead) -> list[Destination]:
    """Each channel that released an older revision, and what its policy does with the correction."""
    with read_session(room.engine) as session:
        rows = session.exec(
            select(Delivery.channel, Revision.number)
            .join(Article, col(Article.id) == col(Delivery.article_id))
            .join(Revision, col(Revision.id) == col(Delivery.revision_id))
            .where(
                Article.slug == head.slug,
                Delivery.status == DeliveryState.DONE,
                Delivery.action == DeliveryAction.PUBLISH,
            )
        ).all()
    released: dict[str, int] = {}
    for channel, number in rows:
        released[channel] = max(number, released.get(channel, 0))
    out = []
    for channel, number in sorted(released.items()):
        if number >= head.number or channel not in room.channels.channels:
            continue
        policy = room.channels.channels[channel].settings.correction_policy()
        explained = POLICY_LABELS.get(policy or "", "合作媒体：推送新版本并附“更正”编者按")
        out.append(Destination(channel, number, policy, explained))
    return out


def _correction_page(
    request: Request, live: LiveSession, slug: str, *, error: str = "", status: int = 200
) -> HTMLResponse:
    room = room_of(request)
    head = _head(room, slug)
    destinations = _destinations(room, head)
    older = min((d.live_number for d in destinations), default=max(head.number - 1, 1))
    return page(
        request,
        "retract/correction.html",
        status=status,
        article=head,
        destinations=destinations,
        diff_left=older,
        may_retract=may(live.identity, Act.RETRACT),
        error=error,
    )


@router.get("/articles/{slug}/correction", response_class=HTMLResponse)
def correction(request: Request, slug: str, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    return _correction_page(request, live, slug)


@router.post("/articles/{slug}/correction")
def submit_correction(
    request: Request,
    slug: str,
    live: Annotated[LiveSession, Depends(acting)],
    note: Annotated[str, Form()] = "",
) -> Response:
    """Submit the corrected revision to review; the note says what was corrected and why."""
    if not note.strip():
        return _correction_page(request, live, slug, error="请填写更正说明（必填）", status=400)
    ReviewService(room_of(request)).submit(slug, live.identity.username, comment=note.strip())
    return redirect(request, f"/articles/{slug}/correction", msg="更正已提交审核")
