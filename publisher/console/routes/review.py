"""审核: my queue, and one article's review page: the exact revision (its full hash in every form,
so an act is refused if the article changed since), approve with warnings acknowledged by name,
reject with a comment, submit and withdraw, the previews of that revision per target channel in
sandboxed frames, and shareable, expiring, read-only preview links (`/p/{token}`).

ReviewService decides every act; this module only shows its answer."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from publisher.auth.sessions import LiveSession
from publisher.auth.shares import DEFAULT_HOURS, MAX_HOURS, revoke_share, share_preview, shared, shares_of
from publisher.auth.signin import AuthError
from publisher.channels.kinds import ImageLimits
from publisher.channels.long_images import render_for
from publisher.console.previews import PREVIEW_CSP, render_preview, targets
from publisher.console.views.common import people, person
from publisher.console.web import acting, page, redirect, room_of, staff, url
from publisher.content.model import wants_long_image
from publisher.errors import NotFound, PublisherError
from publisher.review.checks import Finding
from publisher.review.queries import eligible, inbox, signing, status
from publisher.review.service import ReviewService
from publisher.store.engine import read_session
from publisher.store.tables import Article, Revision
from publisher.timeutil import show, utc_now

router = APIRouter()

SUBMITTABLE = ("draft", "rejected", "withdrawn")
WITHDRAWABLE = ("in_review", "approved")


@router.get("/review", response_class=HTMLResponse)
def my_queue(request: Request, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    room = room_of(request)
    with read_session(room.engine) as session:
        box = inbox(session, live.identity.username)
    return page(
        request,
        "review/queue.html",
        box=box,
        since=lambda moment: show(moment, room.settings.tz),
    )


def _review_page(
    request: Request,
    live: LiveSession,
    slug: str,
    *,
    error: str = "",
    status_code: int = 200,
    new_link: str = "",
    lasting: int = 0,
) -> Response:
    room = room_of(request)
    now = utc_now()
    with read_session(room.engine) as session:
        about = signing(session, slug)
        state = status(session, slug)
        # May I sign what waits now: the rule asked for this one article, not my whole inbox.
        signers = {user.username for user in eligible(session, slug)}
        shares = [s for s in shares_of(session, slug) if s.live(now)]
        known = people(session)
    acknowledged = set(state.acknowledged)
    open_warnings: list[Finding] = [w for w in state.warnings if w.code not in acknowledged]
    return page(
        request,
        "review/article.html",
        status=status_code,
        s=about,
        review=state,
        error=error,
        may_sign=live.identity.username in signers,
        may_submit=state.status in SUBMITTABLE,
        may_withdraw=state.status in WITHDRAWABLE,
        open_warnings=open_warnings,
        previews=targets(room, state.revision),
        long_image=wants_long_image(json.loads(state.revision.meta_json)),
        shares=[
            {
                "id": s.id,
                "by": s.created_by,
                "until": show(s.expires_at, room.settings.tz),
                "number": s.revision_id == about.revision_id,
            }
            for s in shares
        ],
        new_link=new_link,
        lasting=lasting,
        when=lambda moment: show(moment, room.settings.tz),
        name_of=lambda username: person(known, username).display_name,
        max_hours=MAX_HOURS,
        default_hours=DEFAULT_HOURS,
    )


@router.get("/review/{slug}", response_class=HTMLResponse)
def review_article(request: Request, slug: str, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    return _review_page(request, live, slug)


def _revision_named(revision: str) -> str:
    if not revision.strip():
        raise PublisherError(
            "表单缺少所审版本的哈希，请刷新页面 / the form names no revision: reload the page"
        )
    return revision.strip()


def _revision(slug: str, revision_id: str, request: Request) -> Revision:
    room = room_of(request)
    with read_session(room.engine) as session:
        found = session.exec(
            select(Revision)
            .join(Article, col(Article.id) == col(Revision.article_id))
            .where(Article.slug == slug, Revision.id == revision_id)
        ).first()
    if found is None:
        raise NotFound(f"稿件 {slug} 没有这个版本 / no such revision of {slug}")
    return found


def _preview_response(request: Request, revision: Revision, channel: str) -> Response:
    room = room_of(request)
    with read_session(room.engine) as session:
        body = render_preview(room, session, revision, channel)
    return HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": PREVIEW_CSP,
            "Cache-Control": "no-store",
            "X-Robots-Tag": "noindex",
        },
    )


@router.get("/review/{slug}/preview/{revision_id}/{channel}", response_class=HTMLResponse)
def preview(
    request: Request, slug: str, revision_id: str, channel: str, live: Annotated[LiveSession, Depends(staff)]
) -> Response:
    return _preview_response(request, _revision(slug, revision_id, request), channel)


@router.get("/review/{slug}/long-image/{revision_id}.png")
def long_image(
    request: Request, slug: str, revision_id: str, live: Annotated[LiveSession, Depends(staff)]
) -> Response:
    """The long image (长图) of exactly this revision, as the channels will publish it (cached)."""
    revision = _revision(slug, revision_id, request)
    if not wants_long_image(json.loads(revision.meta_json)):
        raise NotFound(f"{slug} 没有长图 / {slug} has no long image")
    room = room_of(request)
    with read_session(room.engine) as session:
        rendered = render_for(room, session, revision, ImageLimits(format="PNG"))
    return Response(
        rendered.paths[0].read_bytes(),  # no height limit here: one segment
        media_type="image/png",
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.post("/review/{slug}/share")
def share(
    request: Request,
    slug: str,
    live: Annotated[LiveSession, Depends(acting)],
    revision: Annotated[str, Form()] = "",
    hours: Annotated[str, Form()] = str(DEFAULT_HOURS),
) -> Response:
    try:
        lasting = int(hours)
    except ValueError:
        return _review_page(
            request,
            live,
            slug,
            error=f"有效期须为整数小时 / hours must be a whole number, not {hours[:20]!r}",
            status_code=400,
        )
    try:
        raw = share_preview(room_of(request).engine, live.identity, slug, _revision_named(revision), lasting)
    except NotFound:
        raise
    except PublisherError as exc:
        return _review_page(request, live, slug, error=str(exc), status_code=400)
    # Shown in this answer only, never put in a URL: a redirect would leave the token in the
    # browser's history and the server's access log.
    link = str(request.base_url).rstrip("/") + url(request, f"/p/{raw}")
    return _review_page(request, live, slug, new_link=link, lasting=lasting)


@router.post("/review/{slug}/share/{share_id}/revoke")
def revoke(
    request: Request, slug: str, share_id: int, live: Annotated[LiveSession, Depends(acting)]
) -> Response:
    try:
        revoke_share(room_of(request).engine, live.identity, share_id)
    except AuthError as exc:
        return _review_page(request, live, slug, error=str(exc), status_code=403)
    return redirect(request, f"/review/{slug}", msg="预览链接已撤销")


@router.post("/review/{slug}/{act}")
def review_act(
    request: Request,
    slug: str,
    act: str,
    live: Annotated[LiveSession, Depends(acting)],
    revision: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    ack: Annotated[list[str] | None, Form()] = None,
) -> Response:
    service = ReviewService(room_of(request))
    me = live.identity.username
    note = comment.strip() or None
    try:
        named = _revision_named(revision)
        if act == "approve":
            result = service.approve(slug, me, revision_id=named, comment=note, ack=ack or ())
            done = f"已签署「{result.stage}」" + (
                f"，下一环节：{result.next_stage}" if result.next_stage else "，审核全部通过"
            )
        elif act == "reject":
            result = service.reject(slug, me, revision_id=named, comment=comment)
            done = f"已在「{result.stage}」退回，作者将收到您的意见"
        elif act == "submit":
            result = service.submit(slug, me, revision_id=named, comment=note)
            done = f"已提交审核，等待「{result.next_stage}」"
        elif act == "withdraw":
            service.withdraw(slug, me, revision_id=named, comment=note)
            done = "已撤回审核"
        else:
            raise NotFound(f"没有审核动作 {act[:40]} / no review act {act[:40]!r}")
    except NotFound:
        raise
    except PublisherError as exc:
        return _review_page(request, live, slug, error=str(exc), status_code=400)
    return redirect(request, f"/review/{slug}", msg=done)


# -- shared links: no sign-in, read only, for as long as the link lives --------------------------
@router.get("/p/{token}", response_class=HTMLResponse)
def shared_page(request: Request, token: str) -> Response:
    room = room_of(request)
    link = shared(room.engine, token)
    revision = _revision(link.slug, link.revision_id, request)
    meta = json.loads(revision.meta_json)
    with read_session(room.engine) as session:
        current = session.exec(select(Article.current_revision_id).where(Article.slug == link.slug)).first()
    return page(
        request,
        "preview/shared.html",
        token=token,
        revision=revision,
        authors="、".join(meta.get("authors", [])),
        until=show(link.expires_at, room.settings.tz),
        superseded=current != revision.id,
        previews=targets(room, revision),
    )


@router.get("/p/{token}/{channel}", response_class=HTMLResponse)
def shared_preview(request: Request, token: str, channel: str) -> Response:
    link = shared(room_of(request).engine, token)
    return _preview_response(request, _revision(link.slug, link.revision_id, request), channel)
