"""稿件: the list with filters and search, an article's page (chain per revision, check results,
deliveries per channel, history) and the side-by-side diff of any two revisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from publisher import articles
from publisher.auth.sessions import LiveSession
from publisher.console.views.article_detail import article_detail
from publisher.console.views.article_list import ArticleFilter, article_list
from publisher.console.views.diff import default_pair, diff_revisions
from publisher.console.web import page, room_of, staff
from publisher.errors import PublisherError
from publisher.review.service import ReviewService
from publisher.review.users import list_users, roles_of
from publisher.standing import ArticleState
from publisher.store.engine import read_session
from publisher.timeutil import show

router = APIRouter()

PAGE_SIZE = 50
STATE_NAMES = {
    ArticleState.DRAFT: "草稿",
    ArticleState.IN_REVIEW: "审核中",
    ArticleState.APPROVED: "已通过",
    ArticleState.SCHEDULED: "已排期",
    ArticleState.LIVE: "已发布",
    ArticleState.CORRECTION_PENDING: "更正待发",
    ArticleState.RETRACTED: "已撤稿",
}
CHECK_NAMES = {"secrecy": "涉密", "terminology": "用语", "meeting": "会议", "channel": "渠道"}


def number_of(field: str, value: str | None, default: int | None = None) -> int | None:
    """A whole number from the query string, or a clear refusal naming the field."""
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        raise PublisherError(
            f"参数 {field} 须为整数 / {field} must be a whole number, not {value[:40]!r}"
        ) from None
    if number < 1:
        raise PublisherError(f"参数 {field} 须大于 0 / {field} must be 1 or more")
    return number


def _blank(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


@router.get("/articles", response_class=HTMLResponse)
def article_index(
    request: Request,
    live: Annotated[LiveSession, Depends(staff)],
    column: Annotated[str | None, Query()] = None,
    department: Annotated[str | None, Query()] = None,
    state: Annotated[str | None, Query()] = None,
    stage: Annotated[str | None, Query()] = None,
    author: Annotated[str | None, Query()] = None,
    q: Annotated[str | None, Query()] = None,
    page_no: Annotated[str | None, Query(alias="page")] = None,
) -> Response:
    room = room_of(request)
    state_value = _blank(state)
    if state_value is not None and state_value not in ArticleState.__members__.values():
        raise PublisherError(f"没有状态 {state_value[:40]} / state: no state {state_value[:40]!r}")
    filters = ArticleFilter(
        column=_blank(column),
        department=_blank(department),
        state=ArticleState(state_value) if state_value else None,
        stage=_blank(stage),
        author=_blank(author),
        text=_blank(q),
    )
    number = number_of("page", page_no, 1) or 1
    with read_session(room.engine) as session:
        found = article_list(session, filters, number, PAGE_SIZE)
        authors = [u for u in list_users(session) if "author" in roles_of(u)]
    query = {
        k: v
        for k, v in {
            "column": filters.column,
            "department": filters.department,
            "state": state_value,
            "stage": filters.stage,
            "author": filters.author,
            "q": filters.text,
        }.items()
        if v
    }
    return page(
        request,
        "articles/list.html",
        found=found,
        query=query,
        columns=room.settings.columns,
        departments=room.settings.departments,
        stages=[s.name for s in room.settings.review.stages],
        states=STATE_NAMES,
        authors=authors,
        column_name=room.column_name,
        changed=lambda moment: show(moment, room.settings.tz),
    )


@router.get("/articles/{slug}", response_class=HTMLResponse)
def article_page(request: Request, slug: str, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    room = room_of(request)
    with read_session(room.engine) as session:
        detail = article_detail(session, slug, room.settings.tz)
        current = articles.get_article(session, slug).revision
    findings = ReviewService(room).findings(current)
    return page(
        request,
        "articles/detail.html",
        a=detail,
        findings=findings,
        check_names=CHECK_NAMES,
        column_name=room.column_name(current.column),
        current=current,
    )


@router.get("/articles/{slug}/diff", response_class=HTMLResponse)
def article_diff(
    request: Request,
    slug: str,
    live: Annotated[LiveSession, Depends(staff)],
    a: Annotated[str | None, Query()] = None,
    b: Annotated[str | None, Query()] = None,
) -> Response:
    room = room_of(request)
    with read_session(room.engine) as session:
        pair = default_pair(session, slug, live.identity.username)
        left = number_of("a", a, pair.left) or pair.left
        right = number_of("b", b, pair.right) or pair.right
        diff = diff_revisions(session, slug, left, right)
        _article, revisions = articles.history(session, slug)
    return page(
        request, "articles/diff.html", d=diff, numbers=[r.number for r in reversed(revisions)], slug=slug
    )
