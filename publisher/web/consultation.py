"""The public consultation API (征求意见): comments from the website's forms, receipt look-ups and
counts. Plain HTML forms post here and get a small Chinese HTML page back; scripts send JSON (or
a form with `Accept: application/json`) and get JSON. Every rule lives in
`publisher/consultation/intake.py`; this module only translates HTTP.

Client address for the rate limit: the service listens on 127.0.0.1 behind the office's reverse
proxy, so the peer is the proxy; the last `X-Forwarded-For` entry (the one the proxy appends) is
the citizen's address, trusted only from a loopback peer.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile

from publisher.channels.kinds import WebsiteSettings
from publisher.consultation.intake import Accepted, CommentIn, Intake, Refused, Upload
from publisher.newsroom import Newsroom

router = APIRouter(prefix="/consultations", tags=["consultation"])
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def site_origins(room: Newsroom) -> list[str]:
    """The origins whose pages may call this API: the setting, else every website's base_url."""
    configured = room.settings.consultation.allowed_origins
    if configured:
        return list(configured)
    origins = []
    for channel in room.channels.channels.values():
        if isinstance(channel.settings, WebsiteSettings):
            parts = urlsplit(channel.settings.base_url)
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return sorted(set(origins))


def intake_of(request: Request) -> Intake:
    intake: Intake | None = getattr(request.app.state, "consultation_intake", None)
    if intake is None:
        intake = request.app.state.consultation_intake = Intake(request.app.state.room)
    return intake


def now_of(request: Request) -> datetime:
    clock: Callable[[], datetime] | None = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


def client_address(request: Request) -> str | None:
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in LOOPBACK:
        return forwarded.split(",")[-1].strip() or peer
    return peer


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept or request.headers.get("content-type", "").startswith(
        "application/json"
    )


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    text = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:36em;margin:3em auto;padding:0 1em;line-height:1.7}"
        ".receipt{font-size:1.6em;font-weight:bold;letter-spacing:.05em}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}"
        '<p><a href="javascript:history.back()">返回上一页</a></p></body></html>'
    )
    return HTMLResponse(text, status_code=status)


def _refusal(request: Request, refused: Refused) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": refused.message, "field": refused.field}, status_code=refused.status)
    return _page("未能提交 / not received", f"<p>{html.escape(refused.message)}</p>", refused.status)


async def _comment_in(request: Request, slug: str) -> CommentIn:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data: dict[str, Any] = await request.json()
        except ValueError:
            raise Refused("请求不是有效的 JSON / the request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise Refused("请求应为 JSON 对象 / the request body must be a JSON object")
        return CommentIn(
            slug=slug,
            body=str(data.get("body") or ""),
            contact=str(data.get("contact") or ""),
            commenter_type=str(data.get("commenter_type") or "individual"),
            clause=str(data["clause"]) if data.get("clause") not in (None, "") else None,
            name=str(data["name"]) if data.get("name") else None,
            consent=data.get("consent") is True,
            submission_key=str(data["submission_key"]) if data.get("submission_key") else None,
            honeypot=str(data.get("website") or ""),
        )
    limit = request.app.state.room.settings.consultation.max_attachment_bytes
    form = await request.form(max_files=1, max_fields=20)
    upload = None
    file = form.get("attachment")
    if isinstance(file, UploadFile) and file.filename:
        data_bytes = await file.read(limit + 1)
        if data_bytes:
            upload = Upload(file.filename, data_bytes)

    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    return CommentIn(
        slug=slug,
        body=text("body"),
        contact=text("contact"),
        commenter_type=text("commenter_type") or "individual",
        clause=text("clause") or None,
        name=text("name") or None,
        consent=text("consent") in ("on", "yes", "true", "1"),
        submission_key=text("submission_key") or None,
        honeypot=text("website"),  # the honeypot: a field people never see
        attachment=upload,
    )


@router.post("/{slug}/comments", summary="提交意见 / send a comment")
async def post_comment(slug: str, request: Request) -> Response:
    try:
        comment = await _comment_in(request, slug)
        # The checks, screening and grouping sketch are short CPU work: done on the event loop,
        # then the commit is awaited there too. A worker-thread hop and a thread parked per
        # comment cost more CPU than the work itself (bench/consultation.py).
        # An attachment is written to the blob store first: file I/O, so on a worker thread.
        intake, now, address = intake_of(request), now_of(request), client_address(request)
        if comment.attachment is None:
            taken = intake.take(comment, now=now, address=address)
        else:
            taken = await run_in_threadpool(intake.take, comment, now=now, address=address)
        accepted = taken if isinstance(taken, Accepted) else await asyncio.wrap_future(taken)
    except Refused as refused:
        return _refusal(request, refused)
    if _wants_json(request):
        return JSONResponse(
            {
                "receipt": accepted.receipt,
                "received_at": accepted.received_at.isoformat(),
                "repeated": accepted.repeated,
            },
            status_code=200 if accepted.repeated else 201,
        )
    tz = request.app.state.room.settings.tz
    return _page(
        "意见已收到 / comment received",
        f'<p>感谢您提出意见。您的受理编号是：</p><p class="receipt" id="receipt">{html.escape(accepted.receipt)}</p>'
        f"<p>收到时间：{accepted.received_at.astimezone(tz):%Y年%m月%d日 %H:%M}。"
        "请保存受理编号，日后可凭编号和您留下的联系方式查询办理情况。</p>",
        200 if accepted.repeated else 201,
    )


@router.get("/receipts", summary="凭受理编号查询 / look up a comment by its receipt")
async def lookup(
    request: Request,
    receipt: str = Query(max_length=40, description="受理编号 / receipt number"),
    contact: str = Query(max_length=200, description="提交时留下的联系电话或邮箱 / the contact given"),
) -> Response:
    found = await run_in_threadpool(intake_of(request).lookup, receipt, contact)
    json_wanted = "text/html" not in request.headers.get("accept", "")
    if found is None:
        message = "没有找到：请核对受理编号和联系方式 / not found: check the receipt number and the contact"
        if json_wanted:
            return JSONResponse({"error": message}, status_code=404)
        return _page("查询结果 / look-up", f"<p>{html.escape(message)}</p>", 404)
    if json_wanted:
        return JSONResponse(found.as_dict())
    disposition = found.disposition or "已受理，正在研究处理"
    answer = f"<p>答复：{html.escape(found.answer)}</p>" if found.answer else ""
    return _page(
        "查询结果 / look-up",
        f'<p>受理编号：<span class="receipt">{html.escape(found.receipt)}</span></p>'
        f'<p>办理情况：<strong id="disposition">{html.escape(disposition)}</strong></p>{answer}',
    )


@router.get("/{slug}/counts", summary="意见数量 / how many comments")
async def counts(slug: str, request: Request) -> Response:
    try:
        data = await run_in_threadpool(intake_of(request).counts, slug, now_of(request))
    except Refused as refused:
        return JSONResponse({"error": refused.message}, status_code=refused.status)
    return JSONResponse(data, headers={"Cache-Control": "no-cache"})
