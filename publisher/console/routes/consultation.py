"""征求意见: the consultations with their counts; a consultation's comments, filtered and paged; one
comment's handling form (moderate, classify, dispose, assign, answer; to its whole near-duplicate
group at once); statistics by clause, commenter type and day; exports for the legislative committee.

Every member of staff may read; handling, names, contacts and the internal export need Act.CONSULT.
Readers without it see the text masked (personal.masked_text), as anything beyond the handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from publisher.auth.permissions import Act, may
from publisher.auth.sessions import LiveSession
from publisher.console.web import acting, now_of, page, permitted, redirect, room_of, staff
from publisher.consultation import handling
from publisher.consultation.clauses import WHOLE, clause_label, clauses
from publisher.consultation.exports import Format, Scope, export
from publisher.consultation.queries import (
    Filter,
    comments,
    contacts_of,
    get_consultation,
    group_sizes,
    stats,
    summaries,
    window,
)
from publisher.consultation.states import CommenterType, Disposition, Moderation
from publisher.errors import NotFound
from publisher.inspection.settings import load_inspection
from publisher.newsroom import Newsroom
from publisher.review.personal import masked_text
from publisher.store.engine import read_session
from publisher.store.tables import ConsultationAttachment, ConsultationComment
from publisher.timeutil import show

router = APIRouter()

BAR_HEIGHT = 18
LABEL_WIDTH = 150
CHART_WIDTH = 360
ACTS = {a.value: a for a in handling.HandlingAct}


def _months(room: Newsroom) -> int:
    """The 3-month rule's threshold, as the inspection keeps it (review/inspection.toml)."""
    return load_inspection(room.root / room.settings.paths.review, room.root).consultation.answer_months


def _text(body: str, handler: bool) -> str:
    return body if handler else masked_text(body)


@router.get("/consultations", response_class=HTMLResponse)
def consultations_page(request: Request, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    room = room_of(request)
    tz, now = room.settings.tz, now_of(request)
    with read_session(room.engine) as session:
        rows = summaries(session, now, tz, _months(room))
    items = [
        {
            "slug": s.consultation.slug,
            "title": s.consultation.title,
            "window": f"{show(s.consultation.opens_at, tz)[:16]} 至 {show(s.consultation.closes_at, tz)[:16]}",
            "state": s.window.label,
            "comments": s.comments,
            "hidden": s.hidden,
            "undisposed": s.undisposed,
            "unanswered": s.unanswered,
            "overdue": s.overdue,
        }
        for s in rows
    ]
    return page(request, "consultation/list.html", items=items)


def _filter(request: Request) -> Filter:
    q = request.query_params
    group = q.get("group", "")
    return Filter(
        clause=q.get("clause") if q.get("clause") not in (None, "*") else None,
        commenter_type=q.get("type") or None,
        moderation=q.get("moderation") or None,
        disposition=q.get("disposition") or None,
        overdue=q.get("overdue") == "1",
        group_id=int(group) if group.isdigit() else None,
    )


@router.get("/consultations/{slug}", response_class=HTMLResponse)
def consultation_page(request: Request, slug: str, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    room = room_of(request)
    tz, now = room.settings.tz, now_of(request)
    handler = may(live.identity, Act.CONSULT)
    chosen = _filter(request)
    number = request.query_params.get("page", "1")
    with read_session(room.engine) as session:
        consultation = get_consultation(session, slug)
        known = clauses(consultation)
        found = comments(
            session, slug, chosen, now, tz, page=int(number) if number.isdigit() else 1, months=_months(room)
        )
    rows = [
        {
            "id": r.comment.id,
            "receipt": r.comment.receipt,
            "received": show(r.comment.received_at, tz)[:16],
            "type": _label(CommenterType, r.comment.commenter_type),
            "clause": clause_label(known, r.comment.clause),
            "text": _text(r.comment.body, handler)[:120],
            "group": r.comment.group_id,
            "group_size": r.group_size,
            "moderation": _label(Moderation, r.comment.moderation),
            "disposition": _label(Disposition, r.comment.disposition) or "未办理",
            "answered": r.comment.answered_at is not None,
            "due": show(r.due_at, tz)[:10],
            "overdue": r.overdue,
        }
        for r in found.rows
    ]
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return page(
        request,
        "consultation/detail.html",
        c=consultation,
        state=window(consultation, now).label,
        rows=rows,
        found=found,
        query=query,
        chosen=chosen,
        clause_options=[("*", "全部条款"), ("", WHOLE), *[(k.key, k.label) for k in known]],
        chosen_clause="*" if chosen.clause is None else chosen.clause,
        types=[(t.value, t.label) for t in CommenterType],
        moderations=[(m.value, m.label) for m in Moderation],
        dispositions=[("none", "未办理"), *[(d.value, d.label) for d in Disposition]],
        handler=handler,
    )


def _label(enum: Any, value: str | None) -> str:
    if value is None:
        return ""
    try:
        return str(enum(value).label)
    except ValueError:
        return value


@router.get("/consultations/{slug}/comments/{comment_id}", response_class=HTMLResponse)
def comment_page(
    request: Request, slug: str, comment_id: str, live: Annotated[LiveSession, Depends(staff)]
) -> Response:
    return _comment_view(request, live, slug, _comment_number(slug, comment_id))


def _comment_view(
    request: Request,
    live: LiveSession,
    slug: str,
    number: int,
    error: str = "",
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The comment and its handling forms; after a refused act, the reason above the forms and
    what the person typed still in them (a long answer is not lost to one missing field)."""
    room = room_of(request)
    tz = room.settings.tz
    handler = may(live.identity, Act.CONSULT)
    with read_session(room.engine) as session:
        consultation = get_consultation(session, slug)
        comment = session.get(ConsultationComment, number)
        if comment is None or comment.slug != slug:
            raise NotFound(f"找不到意见 / no comment {number} in {slug}")
        size = group_sizes(session, slug).get(comment.group_id, 1) if comment.group_id is not None else 1
        contact = contacts_of(session, [number]).get(number) if handler else None
        attachment = session.get(ConsultationAttachment, number)
    known = clauses(consultation)
    return page(
        request,
        "consultation/comment.html",
        c=consultation,
        comment=comment,
        text=_text(comment.body, handler),
        answer=_text(comment.answer or "", handler),
        received=show(comment.received_at, tz),
        answered=show(comment.answered_at, tz) if comment.answered_at else "",
        type=_label(CommenterType, comment.commenter_type),
        clause=clause_label(known, comment.clause),
        clause_options=[("", WHOLE), *[(k.key, f"{k.label} {k.heading}".strip()) for k in known]],
        moderation=_label(Moderation, comment.moderation),
        disposition=_label(Disposition, comment.disposition),
        moderations=[(m.value, m.label) for m in Moderation],
        dispositions=[(d.value, d.label) for d in Disposition],
        committees=room.settings.committees,
        group_size=size,
        contact=contact,
        attachment=attachment,
        handler=handler,
        error=error,
        typed=typed or {},
        status=status,
    )


@router.post("/consultations/{slug}/comments/{comment_id}/{act}")
async def handle(
    request: Request, slug: str, comment_id: str, act: str, live: Annotated[LiveSession, Depends(acting)]
) -> Response:
    permitted(live, Act.CONSULT)
    number = _comment_number(slug, comment_id)
    room = room_of(request)
    chosen = ACTS.get(act)
    if chosen is None:
        raise NotFound(f"未知的办理操作 / unknown act {act!r}")
    form = await request.form()

    def field(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    try:
        done = _act(room, live, chosen, slug, number, field, now_of(request))
    except handling.HandlingRefused as exc:
        typed = {name: field(name) for name in ("disposition", "reason", "answer", "topic") if name in form}
        return _comment_view(request, live, slug, number, error=str(exc), typed=typed, status=400)
    what = {"moderated": "已更新公开摘录状态", "classified": "已归类", "disposed": "已记录办理结果"}
    what |= {"assigned": "已交办", "answered": "已答复"}
    return redirect(
        request,
        f"/consultations/{slug}/comments/{number}",
        msg=f"{what[chosen.value]}（{len(done.receipts)} 条）",
    )


def _act(
    room: Newsroom,
    live: LiveSession,
    chosen: handling.HandlingAct,
    slug: str,
    number: int,
    field: Callable[[str], str],
    now: datetime,
) -> handling.Done:
    group = field("whole_group") == "1"
    who, engine = live.identity, room.engine
    if chosen is handling.HandlingAct.MODERATE:
        to = _choice(Moderation, field("moderation"), "公开摘录 / moderation")
        done = handling.moderate(engine, who, slug, number, to, now, whole_group=group)
    elif chosen is handling.HandlingAct.CLASSIFY:
        done = handling.classify(
            engine, who, slug, number, field("clause"), field("topic"), now, whole_group=group
        )
    elif chosen is handling.HandlingAct.DISPOSE:
        disposition = _choice(Disposition, field("disposition"), "办理结果 / disposition")
        done = handling.dispose(
            engine, who, slug, number, disposition, field("reason"), now, whole_group=group
        )
    elif chosen is handling.HandlingAct.ASSIGN:
        done = handling.assign(
            engine,
            who,
            slug,
            number,
            field("committee"),
            room.settings.committees,
            now,
            whole_group=group,
        )
    else:
        done = handling.answer(engine, who, slug, number, field("answer"), now, whole_group=group)
    return done


def _comment_number(slug: str, comment_id: str) -> int:
    """A comment's number from the path; anything else is a page not found, never a 422."""
    if not comment_id.isdigit() or len(comment_id) > 18:
        raise NotFound(f"找不到意见 / no comment {comment_id!r} in {slug}")
    return int(comment_id)


def _choice(enum: Any, value: str, name: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise handling.HandlingRefused(f"请选择{name}") from None


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    y: int
    width: int
    count: int


def _bars(pairs: list[tuple[str, int]]) -> tuple[list[Bar], int]:
    most = max((n for _, n in pairs), default=0) or 1
    bars = [
        Bar(label, i * (BAR_HEIGHT + 6), round(CHART_WIDTH * n / most), n)
        for i, (label, n) in enumerate(pairs)
    ]
    return bars, max(1, len(bars)) * (BAR_HEIGHT + 6)


@router.get("/consultations/{slug}/stats", response_class=HTMLResponse)
def stats_page(request: Request, slug: str, live: Annotated[LiveSession, Depends(staff)]) -> Response:
    room = room_of(request)
    tz = room.settings.tz
    with read_session(room.engine) as session:
        consultation = get_consultation(session, slug)
        counted = stats(session, slug, tz)
    known = clauses(consultation)
    order: list[str | None] = [k.key for k in known] + [None]
    by_clause = [(clause_label(known, k), counted.by_clause[k]) for k in order if counted.by_clause[k]]
    by_clause += [(clause_label(known, k), n) for k, n in counted.by_clause.items() if k not in order]
    by_type = [(t.label, counted.by_type[t.value]) for t in CommenterType if counted.by_type[t.value]]
    days: list[date] = sorted(counted.by_day)
    by_day = [(d.isoformat(), counted.by_day[d]) for d in days]
    disposition_rows = [
        {
            "clause": clause_label(known, k),
            "counts": [counted.by_clause_disposition[(k, d.value)] for d in Disposition],
            "open": counted.by_clause_disposition[(k, None)],
        }
        for k in order
        if counted.by_clause[k]
    ]
    charts = []
    for title, pairs in (("按条款", by_clause), ("按意见人类型", by_type), ("按日", by_day)):
        bars, height = _bars(pairs)
        charts.append({"title": title, "pairs": pairs, "bars": bars, "height": height})
    return page(
        request,
        "consultation/stats.html",
        c=consultation,
        counted=counted,
        charts=charts,
        disposition_rows=disposition_rows,
        disposition_labels=[d.label for d in Disposition],
        bar_height=BAR_HEIGHT,
        label_width=LABEL_WIDTH,
        chart_width=CHART_WIDTH,
    )


def _download(request: Request, live: LiveSession, slug: str, scope: Scope, fmt: str) -> Response:
    permitted(live, Act.CONSULT)
    room = room_of(request)
    try:
        chosen = Format(fmt)
    except ValueError:
        raise NotFound(f"不支持的导出格式 / no export format {fmt!r}: xlsx 或 csv") from None
    made = export(room.engine, live.identity, slug, scope, chosen, room.settings.tz, now_of(request))
    return Response(
        made.data,
        media_type=made.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{made.filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/consultations/{slug}/export.{fmt}")
def export_public(
    request: Request, slug: str, fmt: str, live: Annotated[LiveSession, Depends(staff)]
) -> Response:
    """The public export (masked, no contacts): a download link."""
    return _download(request, live, slug, Scope.PUBLIC, fmt)


@router.post("/consultations/{slug}/export-internal")
def export_internal(
    request: Request,
    slug: str,
    live: Annotated[LiveSession, Depends(acting)],
    fmt: Annotated[str, Form()] = "xlsx",
) -> Response:
    """The internal export (names and contacts): a form with the CSRF token, audited."""
    return _download(request, live, slug, Scope.INTERNAL, fmt)
