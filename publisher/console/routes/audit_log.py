"""审计: the audit log with filters (actor, action prefix, object, local date range), paged by seq
(keyset: the log is the largest table and grows forever), and "verify the chain" (the chain and
the review records checked against it, as `publisher audit verify` does)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from publisher import audit
from publisher.auth.permissions import Act
from publisher.auth.sessions import LiveSession
from publisher.console.web import acting, page, permitted, room_of, staff, url
from publisher.errors import PublisherError
from publisher.review import integrity
from publisher.store.engine import read_session
from publisher.store.tables import AuditEvent
from publisher.timeutil import show

router = APIRouter()

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Filters:
    actor: str = ""
    action: str = ""  # a prefix: "delivery." finds every delivery event
    object: str = ""  # an object id, or type:id
    since: str = ""  # local dates, both included
    until: str = ""

    def query(self) -> dict[str, str]:
        return {
            k: getattr(self, k) for k in ("actor", "action", "object", "since", "until") if getattr(self, k)
        }


def _date(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PublisherError(f"{field} 须为 YYYY-MM-DD / {field} must be YYYY-MM-DD, not {text!r}") from None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def events(session: Any, filters: Filters, before: int | None, tz: Any) -> list[AuditEvent]:
    """One page (newest first) of the events the filters select, plus one to tell if more follow."""
    query = select(AuditEvent)
    if filters.actor:
        query = query.where(AuditEvent.actor == filters.actor)
    if filters.action:
        query = query.where(col(AuditEvent.action).like(_escape_like(filters.action) + "%", escape="\\"))
    if filters.object:
        kind, sep, ident = filters.object.partition(":")
        if sep and kind and ident:
            query = query.where(AuditEvent.object_type == kind, AuditEvent.object_id == ident)
        else:
            query = query.where(AuditEvent.object_id == filters.object)
    since, until = _date(filters.since, "起始日期"), _date(filters.until, "截止日期")
    if since is not None:
        query = query.where(col(AuditEvent.at) >= datetime.combine(since, time(0), tz))
    if until is not None:
        query = query.where(col(AuditEvent.at) < datetime.combine(until + timedelta(days=1), time(0), tz))
    if before is not None:
        query = query.where(col(AuditEvent.seq) < before)
    return list(session.exec(query.order_by(col(AuditEvent.seq).desc()).limit(PAGE_SIZE + 1)))


def _audit_page(
    request: Request, filters: Filters, before: int | None, verification: audit.Verification | None = None
) -> HTMLResponse:
    room = room_of(request)
    tz = room.settings.tz
    with read_session(room.engine) as session:
        found = events(session, filters, before, tz)
    rows = found[:PAGE_SIZE]
    more = len(found) > PAGE_SIZE
    return page(
        request,
        "audit/audit.html",
        filters=filters,
        rows=[
            {
                "seq": e.seq,
                "at": show(e.at, tz),
                "actor": e.actor,
                "action": e.action,
                "object": f"{e.object_type}:{e.object_id}",
                "revision": (e.revision_id or "")[:12],
                "details": _details(e.details_json),
            }
            for e in rows
        ],
        first_page=url(request, "/audit", **filters.query()) if before is not None else "",
        older=url(request, "/audit", before=rows[-1].seq, **filters.query()) if more and rows else "",
        verification=verification,
    )


def _details(raw: str) -> str:
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False, sort_keys=True)
    except ValueError:
        return raw


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    live: Annotated[LiveSession, Depends(staff)],
    actor: Annotated[str, Query()] = "",
    action: Annotated[str, Query()] = "",
    object_: Annotated[str, Query(alias="object")] = "",
    since: Annotated[str, Query()] = "",
    until: Annotated[str, Query()] = "",
    before: Annotated[int | None, Query()] = None,
) -> Response:
    permitted(live, Act.READ_AUDIT)
    filters = Filters(actor.strip(), action.strip(), object_.strip(), since.strip(), until.strip())
    return _audit_page(request, filters, before)


@router.post("/audit/verify", response_class=HTMLResponse)
def verify(request: Request, live: Annotated[LiveSession, Depends(acting)]) -> Response:
    permitted(live, Act.READ_AUDIT)
    with read_session(room_of(request).engine) as session:
        verification = integrity.verify(session)
    return _audit_page(request, Filters(), None, verification)
