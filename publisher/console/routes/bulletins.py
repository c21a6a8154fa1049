"""公报: the printed bulletins' issues, built or not; an editor builds one for the printer here, a
leader signs the built file off (签发付印), and anyone on the staff downloads a built issue's PDF.
The same services as `publisher bulletin build` and `sign-off`: the gate decides article by
article, and every refusal is shown with the line of the issue file."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from publisher.auth.permissions import Act, may
from publisher.auth.sessions import LiveSession
from publisher.bulletin.build import BulletinProblems, IssueState, build_issue, find_issue, issue_states
from publisher.bulletin.signoff import SignOffRefused, sign_off, signed_off
from publisher.console.web import acting, page, permitted, redirect, room_of, staff
from publisher.errors import NotFound, Problem, PublisherError
from publisher.timeutil import show

router = APIRouter()


def _when(value: object, tz: ZoneInfo) -> str:
    try:
        return show(datetime.fromisoformat(str(value)), tz) if value else ""
    except ValueError:
        return ""


def _row(state: IssueState, tz: ZoneInfo) -> dict[str, Any]:
    issue, record, signature = state.issue, state.record or {}, signed_off(state)
    return {
        "bulletin": issue.bulletin.key,
        "key": issue.key,
        "title": issue.bulletin.settings.short_title,
        "number": issue.settings.number,
        "date": f"{issue.settings.date.year}年{issue.settings.date.month}月{issue.settings.date.day}日",
        "articles": sum(len(s.articles) for s in issue.settings.sections),
        "built": state.pdf is not None,
        "pages": record.get("pages"),
        "sha": str(record.get("sha256", ""))[:12],
        "built_by": record.get("built_by", ""),
        "built_at": _when(record.get("built_at"), tz),
        "signed_by": (signature or {}).get("by", ""),
        "signed_at": _when((signature or {}).get("at"), tz),
    }


def _listing(
    request: Request,
    live: LiveSession,
    *,
    status: int = 200,
    problems: list[Problem] | None = None,
    error: str = "",
) -> Response:
    room = room_of(request)
    states, declared = issue_states(room)
    return page(
        request,
        "bulletins/list.html",
        status=status,
        rows=[_row(s, room.settings.tz) for s in states],
        declared=declared,
        problems=problems or [],
        error=error,
        may_print=may(live.identity, Act.PRINT),
        may_sign=may(live.identity, Act.SIGN_OFF_PRINT),
    )


@router.get("/bulletins", response_class=HTMLResponse)
def bulletins_page(request: Request, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    return _listing(request, live)


@router.get("/bulletins/{bulletin}/{key}.pdf")
def download(
    request: Request, bulletin: str, key: str, live: Annotated[LiveSession, Depends(staff)]
) -> Response:
    state = find_issue(room_of(request), bulletin, key)
    if state is None or state.pdf is None:
        raise NotFound("没有这一期，或尚未编印")
    return FileResponse(state.pdf, media_type="application/pdf", filename=f"{bulletin}-{key}.pdf")


@router.post("/bulletins/{bulletin}/{key}/build")
def build(
    request: Request,
    bulletin: str,
    key: str,
    live: Annotated[LiveSession, Depends(acting)],
    replace: Annotated[str, Form()] = "",
) -> Response:
    permitted(live, Act.PRINT)
    room = room_of(request)
    state = find_issue(room, bulletin, key)
    if state is None:
        raise NotFound("没有这一期")
    try:
        built = build_issue(room, state.path, live.identity.username, replace=replace == "yes")
    except BulletinProblems as exc:
        return _listing(request, live, status=422, problems=exc.problems, error="这一期不能付印，原因如下")
    except PublisherError as exc:
        return _listing(request, live, status=409, error=str(exc))
    name = f"{built.issue.bulletin.settings.short_title} {built.issue.settings.number}"
    if built.unchanged:
        return redirect(request, "/bulletins", msg=f"{name} 内容未变，无需重新编印")
    return redirect(request, "/bulletins", msg=f"已编印 {name}：{built.pages} 页")


@router.post("/bulletins/{bulletin}/{key}/sign-off")
def sign(
    request: Request,
    bulletin: str,
    key: str,
    live: Annotated[LiveSession, Depends(acting)],
) -> Response:
    permitted(live, Act.SIGN_OFF_PRINT)
    room = room_of(request)
    state = find_issue(room, bulletin, key)
    if state is None:
        raise NotFound("没有这一期")
    try:
        signature, new = sign_off(room, state, live.identity.username)
    except SignOffRefused as exc:
        return _listing(request, live, status=409, error=str(exc))
    name = f"{state.issue.bulletin.settings.short_title} {state.issue.settings.number}"
    if not new:
        return redirect(request, "/bulletins", msg=f"{name} 已签发")
    return redirect(request, "/bulletins", msg=f"已签发付印 {name}（{signature['sha256'][:12]}）")
