"""A faithful local fake of the WeChat official account API, on 127.0.0.1.

It implements what the channel uses, with the real validations and the real asynchrony:
`token`, `stable_token`, `media/uploadimg`, `material/add_material`,
`draft/add|get|update|delete|batchget|count`, `freepublish/submit|get|getarticle|delete|batchget`
and `message/mass/sendall`; access tokens that expire; publishing that answers status 1 first and
0 (or an injected failure) later, with the PUBLISHJOBFINISH event posted to a callback when one is
set; and a phone-width page at `/` that shows what was published.

Tests and staff steer it through `/sandbox/...` (not part of WeChat's API): inject errors
(40001, 42001, 45009, 53503, ...) or slow answers on a path, expire every token, choose the outcome
of the next publication, and read counters.

Error codes follow WeChat's where WeChat documents them; the few it does not are marked.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import itertools
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from PIL import Image, UnidentifiedImageError

from publisher.channels.wechat.html import is_wechat_image
from publisher.channels.wechat.limits import (
    AUTHOR_MAX,
    BODY_IMAGE_MAX_BYTES,
    CONTENT_MAX_BYTES,
    CONTENT_MAX_CHARS,
    DIGEST_MAX,
    TITLE_MAX,
)
from publisher.channels.wechat.phone import ListEntry, PhoneArticle, article_page, list_page

IMAGE_HOST = "http://mmbiz.qpic.cn"
MATERIAL_MAX_BYTES = 10 * 1024 * 1024
TOKEN_TTL = 7200

# Codes as WeChat documents them.
E_INVALID_CREDENTIAL = 40001  # invalid (or superseded) access token / secret
E_INVALID_FILE_TYPE = 40005
E_INVALID_MEDIA_ID = 40007
E_INVALID_IMAGE_SIZE = 40009
E_INVALID_APPID = 40013
E_MISSING_TOKEN = 41001
E_MISSING_MEDIA = 41005
E_TOKEN_EXPIRED = 42001
E_CONTENT_SIZE = 45002
E_TITLE_SIZE = 45003
E_DIGEST_SIZE = 45004
E_API_LIMIT = 45009
E_NO_MASS_QUOTA = 45028
E_CLIENTMSGID_EXISTS = 45065
E_AUTHOR_SIZE = 45110
E_INVALID_CONTENT = 45166
E_INVALID_ARTICLE_ID = 53600  # sandbox: an article_id it never issued
E_INVALID_INDEX = 53601  # sandbox: an index past the post's articles
E_PUBLISH_LIMIT = 53503  # the account cannot publish now (limit or being reviewed)

ERRMSG = {
    E_INVALID_CREDENTIAL: "invalid credential, access_token is invalid or not latest",
    E_TOKEN_EXPIRED: "access_token expired",
    E_API_LIMIT: "reach max api daily quota limit",
    E_PUBLISH_LIMIT: "publish limit: the account cannot publish now",
}

PUBLISH_STATES = {
    0: "成功",
    1: "发布中",
    2: "原创失败",
    3: "常规失败",
    4: "平台审核不通过",
    5: "成功后用户删除所有文章",
    6: "成功后系统封禁所有文章",
}


class ApiError(Exception):
    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(errcode, errmsg)
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "error")


@dataclass
class Fault:
    path: str  # e.g. "freepublish/submit"; "*" for every API call
    errcode: int = 0  # 0: answer normally (after the delay)
    count: int = 1  # how many calls it affects
    delay: float = 0.0  # seconds before answering; the call is still performed
    expire: bool = False  # expire every access token first: the token runs out mid-flow


@dataclass
class PublishJob:
    publish_id: str
    media_id: str
    articles: list[dict[str, Any]]
    submitted_at: float
    ready_at: float
    outcome: int
    fail_idx: list[int]
    status: int = 1
    article_id: str | None = None
    msg_data_id: str = ""


@dataclass
class Post:
    article_id: str
    publish_id: str
    media_id: str
    articles: list[dict[str, Any]]  # each with url and is_deleted
    update_time: int
    banned: bool = False


@dataclass
class State:
    app_id: str
    secret: str | None  # None: any secret is accepted for app_id
    token_ttl: float = TOKEN_TTL
    publish_delay: float = 1.0
    callback_url: str | None = None
    account: str = "江澜人大"
    lock: threading.RLock = field(default_factory=threading.RLock)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at (epoch)
    current_token: str | None = None
    tokens_issued: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    images: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # id -> (bytes, mime)
    materials: dict[str, str] = field(default_factory=dict)  # media_id -> image url
    drafts: dict[str, dict[str, Any]] = field(default_factory=dict)  # media_id -> {news_item, update_time}
    jobs: dict[str, PublishJob] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)
    mass_sends: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    next_outcome: list[tuple[int, list[int]]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        number = next(self.ids)
        return f"{prefix}{hashlib.sha256(f'{self.app_id}:{prefix}:{number}'.encode()).hexdigest()[:24]}"


# -- token -----------------------------------------------------------------------------------------
def _issue(state: State) -> tuple[str, int]:
    token = state.new_id("TOKEN_")
    if state.current_token is not None:
        state.tokens.pop(state.current_token, None)  # a new token supersedes the old one
    state.tokens[token] = time.time() + state.token_ttl
    state.current_token = token
    state.tokens_issued += 1
    return token, int(state.token_ttl)


def _credentials(state: State, appid: str | None, secret: str | None) -> None:
    if appid != state.app_id:
        raise ApiError(E_INVALID_APPID, "invalid appid")
    if state.secret is not None and secret != state.secret:
        raise ApiError(E_INVALID_CREDENTIAL, "invalid appsecret")


def _check_token(state: State, token: str | None) -> None:
    if not token:
        raise ApiError(E_MISSING_TOKEN, "access_token missing")
    expires = state.tokens.get(token)
    if expires is None:
        raise ApiError(E_INVALID_CREDENTIAL)
    if expires <= time.time():
        raise ApiError(E_TOKEN_EXPIRED)


# -- images ----------------------------------------------------------------------------------------
def _image(data: bytes, formats: set[str], limit: int) -> tuple[str, str]:
    if not data:
        raise ApiError(E_MISSING_MEDIA, "media data missing (empty file)")
    if len(data) > limit:
        raise ApiError(E_INVALID_IMAGE_SIZE, f"invalid image size: {len(data)} bytes, limit {limit}")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = (probe.format or "").upper()
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ApiError(E_INVALID_FILE_TYPE, "invalid file type: not an image") from None
    if fmt not in formats:
        raise ApiError(E_INVALID_FILE_TYPE, f"invalid file type: {fmt.lower()}")
    ext = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif", "BMP": "bmp"}[fmt]
    return ext, f"image/{ext}"


def _store_image(state: State, data: bytes, ext: str, mime: str, kind: str) -> str:
    image_id = state.new_id("")
    state.images[image_id] = (data, mime)
    return f"{IMAGE_HOST}/sandbox_{kind}/{image_id}/0?wx_fmt={ext}"


def _local_images(content: str) -> str:
    """WeChat's image addresses -> this server's copy, for the phone page (no internet needed)."""
    return re.sub(r"https?://mmbiz\.qpic\.cn/sandbox_\w+/(\w+)/0\?wx_fmt=\w+", r"/mmbiz/\1", content)


# -- drafts ----------------------------------------------------------------------------------------
_IMG_SRC = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)
_CROP = re.compile(r"^(0(\.\d+)?|1(\.0+)?)(_(0(\.\d+)?|1(\.0+)?)){3}$")


def _validate_article(state: State, article: dict[str, Any]) -> dict[str, Any]:
    title = str(article.get("title") or "")
    if not title:
        raise ApiError(E_TITLE_SIZE, "title missing")
    if len(title) > TITLE_MAX:
        raise ApiError(E_TITLE_SIZE, f"title size out of limit ({len(title)} > {TITLE_MAX})")
    author = str(article.get("author") or "")
    if len(author) > AUTHOR_MAX:
        raise ApiError(E_AUTHOR_SIZE, f"author size out of limit ({len(author)} > {AUTHOR_MAX})")
    digest = str(article.get("digest") or "")
    if len(digest) > DIGEST_MAX:
        raise ApiError(E_DIGEST_SIZE, f"description size out of limit ({len(digest)} > {DIGEST_MAX})")
    content = str(article.get("content") or "")
    if not content:
        raise ApiError(E_CONTENT_SIZE, "content missing")
    if len(content) >= CONTENT_MAX_CHARS or len(content.encode("utf-8")) >= CONTENT_MAX_BYTES:
        raise ApiError(E_CONTENT_SIZE, "content size out of limit")
    for src in _IMG_SRC.findall(content):
        match = re.search(r"/sandbox_\w+/(\w+)/", src)
        if not is_wechat_image(src) or match is None or match.group(1) not in state.images:
            raise ApiError(E_INVALID_CONTENT, f"invalid content: image not on WeChat's host: {src[:80]}")
    if re.search(r"<(script|iframe|form|video|audio)\b", content, re.IGNORECASE):
        raise ApiError(E_INVALID_CONTENT, "invalid content: active element")
    thumb = str(article.get("thumb_media_id") or "")
    if thumb not in state.materials:
        raise ApiError(
            E_INVALID_MEDIA_ID, f"invalid media_id: thumb_media_id {thumb!r} is not a permanent image"
        )
    for key in ("pic_crop_235_1", "pic_crop_1_1"):
        crop = article.get(key)
        if crop and not _CROP.match(str(crop)):
            raise ApiError(40097, f"invalid args: {key}")
    return {
        "title": title,
        "author": author,
        "digest": digest,
        "content": content,
        "content_source_url": str(article.get("content_source_url") or ""),
        "thumb_media_id": thumb,
        "thumb_url": state.materials[thumb],
        "pic_crop_235_1": str(article.get("pic_crop_235_1") or ""),
        "pic_crop_1_1": str(article.get("pic_crop_1_1") or ""),
        "need_open_comment": int(article.get("need_open_comment") or 0),
        "only_fans_can_comment": int(article.get("only_fans_can_comment") or 0),
    }


# -- publishing ------------------------------------------------------------------------------------
def _advance(state: State, job: PublishJob, base_url: str) -> None:
    """Publication is asynchronous: status 1 until it is ready, then its outcome."""
    if job.status != 1 or time.time() < job.ready_at:
        return
    job.status = job.outcome
    if job.outcome == 0:
        article_id = state.new_id("ARTICLE_")
        job.article_id = article_id
        items = []
        for idx, article in enumerate(job.articles, 1):
            item = dict(article)
            item["url"] = f"{base_url}/s/{article_id}/{idx}"
            item["is_deleted"] = False
            items.append(item)
        state.posts[article_id] = Post(article_id, job.publish_id, job.media_id, items, int(time.time()))
        state.drafts.pop(job.media_id, None)  # a published draft leaves the draft box
    if state.callback_url:
        _post_event(state, job)


def _event_xml(state: State, job: PublishJob) -> str:
    detail = ""
    if job.article_id:
        post = state.posts[job.article_id]
        items = "".join(
            f"<item><idx>{i}</idx><article_url><![CDATA[{a['url']}]]></article_url></item>"
            for i, a in enumerate(post.articles, 1)
        )
        detail = f"<article_detail><count>{len(post.articles)}</count>{items}</article_detail>"
    fail = "".join(f"<fail_idx>{i}</fail_idx>" for i in job.fail_idx)
    return (
        f"<xml><ToUserName><![CDATA[gh_{state.app_id}]]></ToUserName>"
        f"<FromUserName><![CDATA[oSandboxSystem]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[PUBLISHJOBFINISH]]></Event>"
        f"<PublishEventInfo><publish_id>{job.publish_id}</publish_id><publish_status>{job.status}</publish_status>"
        f"<article_id><![CDATA[{job.article_id or ''}]]></article_id>{detail}{fail}</PublishEventInfo></xml>"
    )


def _post_event(state: State, job: PublishJob) -> None:
    body = _event_xml(state, job)
    state.events.append(body)
    url = state.callback_url
    assert url is not None

    def send() -> None:
        # A callback that fails is not retried (nor is WeChat's); polling still finds the outcome.
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(url, content=body.encode("utf-8"), headers={"Content-Type": "text/xml"}, timeout=5)

    threading.Thread(target=send, daemon=True).start()


def _job_answer(job: PublishJob, state: State) -> dict[str, Any]:
    answer: dict[str, Any] = {"publish_id": job.publish_id, "publish_status": job.status}
    if job.article_id:
        post = state.posts[job.article_id]
        answer["publish_status"] = (
            6 if post.banned else 5 if all(a["is_deleted"] for a in post.articles) else 0
        )
        answer["article_id"] = job.article_id
        answer["article_detail"] = {
            "count": len(post.articles),
            "item": [{"idx": i, "article_url": a["url"]} for i, a in enumerate(post.articles, 1)],
        }
    if job.fail_idx:
        answer["fail_idx"] = job.fail_idx
    return answer


def _news_item(article: dict[str, Any], no_content: bool) -> dict[str, Any]:
    item = dict(article)
    if no_content:
        item.pop("content", None)
    return item


# -- the app ---------------------------------------------------------------------------------------
def create_app(state: State) -> FastAPI:
    app = FastAPI(title="WeChat sandbox", docs_url=None, redoc_url=None, openapi_url=None)

    async def _payload(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw:
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError(47001, "data format error") from None
        if not isinstance(data, dict):
            raise ApiError(47001, "data format error")
        return data

    async def _media(request: Request) -> bytes:
        form = await request.form()
        upload = form.get("media")
        if upload is None or isinstance(upload, str):
            return b""  # refused after the token check, as WeChat does (41005)
        data: bytes = await upload.read()
        return data

    async def _fault(path: str) -> None:
        with state.lock:
            fault = next((f for f in state.faults if f.path in (path, "*") and f.count > 0), None)
            if fault is not None:
                fault.count -= 1
                state.faults = [f for f in state.faults if f.count > 0]
        if fault is None:
            return
        if fault.expire:
            with state.lock:
                for token in state.tokens:
                    state.tokens[token] = time.time() - 1
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.errcode:
            raise ApiError(fault.errcode)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"errcode": exc.errcode, "errmsg": exc.errmsg})

    @app.api_route("/cgi-bin/{path:path}", methods=["GET", "POST"])
    async def api(path: str, request: Request) -> JSONResponse:
        base_url = str(request.base_url).rstrip("/")
        with state.lock:
            state.calls[path] += 1
        query = request.query_params
        if path == "token":
            await _fault(path)
            with state.lock:
                _credentials(state, query.get("appid"), query.get("secret"))
                token, ttl = _issue(state)
            return JSONResponse({"access_token": token, "expires_in": ttl})
        if path == "stable_token":
            data = await _payload(request)
            await _fault(path)
            with state.lock:
                _credentials(state, data.get("appid"), data.get("secret"))
                current = state.current_token
                remaining = state.tokens.get(current or "", 0) - time.time()
                if current and remaining > 0 and not data.get("force_refresh"):
                    return JSONResponse({"access_token": current, "expires_in": int(remaining)})
                token, ttl = _issue(state)
            return JSONResponse({"access_token": token, "expires_in": ttl})

        # Read the request first: a slow answer (a fault's delay) still performs the call, as when
        # WeChat did the work but the answer was lost on the way back.
        uploading = path in ("media/uploadimg", "material/add_material")
        media = await _media(request) if uploading else b""
        data = {} if uploading else await _payload(request)
        await _fault(path)
        with state.lock:
            _check_token(state, query.get("access_token"))
            if path == "media/uploadimg":
                state.uploads.append({"path": path, "size": len(media)})
                ext, mime = _image(media, {"JPEG", "PNG"}, BODY_IMAGE_MAX_BYTES)
                return JSONResponse({"url": _store_image(state, media, ext, mime, "body")})
            if path == "material/add_material":
                kind = query.get("type")
                state.uploads.append({"path": path, "size": len(media)})
                if kind not in ("image", "thumb"):
                    raise ApiError(E_INVALID_FILE_TYPE, f"sandbox: material type {kind!r} is not supported")
                ext, mime = _image(media, {"JPEG", "PNG", "GIF", "BMP"}, MATERIAL_MAX_BYTES)
                url = _store_image(state, media, ext, mime, "material")
                media_id = state.new_id("MEDIA_")
                state.materials[media_id] = url
                return JSONResponse({"media_id": media_id, "url": url})
            return JSONResponse(_json_api(state, path, data, base_url))

    @app.get("/mmbiz/{image_id}")
    def image(image_id: str) -> Response:
        with state.lock:
            found = state.images.get(image_id)
        if found is None:
            return Response(status_code=404)
        return Response(content=found[0], media_type=found[1])

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> str:
        base_url = str(request.base_url).rstrip("/")
        with state.lock:
            for job in state.jobs.values():
                _advance(state, job, base_url)
            entries = []
            for post in sorted(state.posts.values(), key=lambda p: -p.update_time):
                when = datetime.fromtimestamp(post.update_time, UTC).strftime("%Y-%m-%d %H:%M UTC")
                for idx, article in enumerate(post.articles, 1):
                    entries.append(
                        ListEntry(
                            title=article["title"],
                            url=f"/s/{post.article_id}/{idx}",
                            sub=f"{'头条' if idx == 1 else f'第 {idx} 条'} · {when}",
                            cover=_local_images(article["thumb_url"]) if idx == 1 else "",
                            state="已删除" if article["is_deleted"] else "",
                        )
                    )
            pending = sum(1 for j in state.jobs.values() if j.status == 1)
        heading = "已发表" + (f"（另有 {pending} 条发布中）" if pending else "")
        return list_page(state.account, heading, entries)

    @app.get("/s/{article_id}/{idx}", response_class=HTMLResponse)
    def article(article_id: str, idx: int) -> Response:
        with state.lock:
            post = state.posts.get(article_id)
            if post is None or not 1 <= idx <= len(post.articles):
                return HTMLResponse("<h1>404</h1>", status_code=404)
            item = post.articles[idx - 1]
            when = datetime.fromtimestamp(post.update_time, UTC).strftime("%Y-%m-%d")
            page = PhoneArticle(
                title=item["title"],
                author=item["author"],
                account=state.account,
                date=when,
                content=_local_images(item["content"]),
                source_url=item["content_source_url"],
                deleted=bool(item["is_deleted"] or post.banned),
            )
        return HTMLResponse(article_page(page))

    # -- steering (not WeChat's API) -------------------------------------------------------------
    @app.post("/sandbox/faults")
    async def add_fault(request: Request) -> dict[str, Any]:
        data = await _payload(request)
        fault = Fault(
            path=str(data["path"]),
            errcode=int(data.get("errcode", 0)),
            count=int(data.get("count", 1)),
            delay=float(data.get("delay", 0.0)),
            expire=bool(data.get("expire", False)),
        )
        with state.lock:
            state.faults.append(fault)
        return {"ok": True}

    @app.post("/sandbox/expire-tokens")
    def expire_tokens() -> dict[str, Any]:
        with state.lock:
            for token in state.tokens:
                state.tokens[token] = time.time() - 1
        return {"ok": True}

    @app.post("/sandbox/publish-outcome")
    async def publish_outcome(request: Request) -> dict[str, Any]:
        data = await _payload(request)
        with state.lock:
            state.next_outcome.append((int(data["status"]), [int(i) for i in data.get("fail_idx", [])]))
            if "delay" in data:
                state.publish_delay = float(data["delay"])
        return {"ok": True}

    @app.post("/sandbox/ban/{article_id}")
    def ban(article_id: str) -> dict[str, Any]:
        with state.lock:
            post = state.posts.get(article_id)
            if post is not None:
                post.banned = True
        return {"ok": post is not None}

    @app.get("/sandbox/state")
    def snapshot() -> dict[str, Any]:
        with state.lock:
            return {
                "tokens_issued": state.tokens_issued,
                "calls": dict(state.calls),
                "uploads": list(state.uploads),
                "drafts": len(state.drafts),
                "jobs": {j.publish_id: j.status for j in state.jobs.values()},
                "posts": {
                    p.article_id: [
                        {"title": a["title"], "url": a["url"], "is_deleted": a["is_deleted"]}
                        for a in p.articles
                    ]
                    for p in state.posts.values()
                },
                "mass_sends": list(state.mass_sends),
                "events": len(state.events),
            }

    return app


def _json_api(state: State, path: str, data: dict[str, Any], base_url: str) -> dict[str, Any]:
    ok: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
    if path == "draft/add":
        articles = data.get("articles")
        if not isinstance(articles, list) or not 1 <= len(articles) <= 8:
            raise ApiError(E_INVALID_CONTENT, "invalid articles: 1 to 8 articles")
        items = [_validate_article(state, a) for a in articles]
        media_id = state.new_id("DRAFT_")
        state.drafts[media_id] = {"news_item": items, "update_time": int(time.time())}
        return {"media_id": media_id}
    if path == "draft/get":
        draft = state.drafts.get(str(data.get("media_id")))
        if draft is None:
            raise ApiError(E_INVALID_MEDIA_ID, "invalid media_id")
        return {"news_item": draft["news_item"]}
    if path == "draft/update":
        draft = state.drafts.get(str(data.get("media_id")))
        if draft is None:
            raise ApiError(E_INVALID_MEDIA_ID, "invalid media_id")
        index = int(data.get("index", 0))
        if not 0 <= index < len(draft["news_item"]):
            raise ApiError(E_INVALID_INDEX, "invalid index")
        draft["news_item"][index] = _validate_article(state, dict(data.get("articles") or {}))
        draft["update_time"] = int(time.time())
        return ok
    if path == "draft/delete":
        if state.drafts.pop(str(data.get("media_id")), None) is None:
            raise ApiError(E_INVALID_MEDIA_ID, "invalid media_id")
        return ok
    if path == "draft/count":
        return {"total_count": len(state.drafts)}
    if path == "draft/batchget":
        offset, count = int(data.get("offset", 0)), int(data.get("count", 20))
        if not 1 <= count <= 20:
            raise ApiError(40097, "invalid args: count is 1 to 20")
        rows = sorted(state.drafts.items(), key=lambda kv: -kv[1]["update_time"])[offset : offset + count]
        no_content = bool(data.get("no_content"))
        return {
            "total_count": len(state.drafts),
            "item_count": len(rows),
            "item": [
                {
                    "media_id": media_id,
                    "content": {"news_item": [_news_item(a, no_content) for a in draft["news_item"]]},
                    "update_time": draft["update_time"],
                }
                for media_id, draft in rows
            ],
        }
    if path == "freepublish/submit":
        media_id = str(data.get("media_id"))
        draft = state.drafts.get(media_id)
        if draft is None:
            raise ApiError(E_INVALID_MEDIA_ID, "invalid media_id")
        outcome, fail_idx = state.next_outcome.pop(0) if state.next_outcome else (0, [])
        now = time.time()
        job = PublishJob(
            publish_id=state.new_id("PUBLISH_"),
            media_id=media_id,
            articles=[dict(a) for a in draft["news_item"]],
            submitted_at=now,
            ready_at=now + state.publish_delay,
            outcome=outcome,
            fail_idx=fail_idx,
            msg_data_id=state.new_id(""),
        )
        state.jobs[job.publish_id] = job
        return {"errcode": 0, "errmsg": "ok", "publish_id": job.publish_id, "msg_data_id": job.msg_data_id}
    if path == "freepublish/get":
        found = state.jobs.get(str(data.get("publish_id")))
        if found is None:
            raise ApiError(E_INVALID_ARTICLE_ID, "invalid publish_id")
        _advance(state, found, base_url)
        return _job_answer(found, state)
    for job in state.jobs.values():
        _advance(state, job, base_url)
    if path == "freepublish/getarticle":
        post = state.posts.get(str(data.get("article_id")))
        if post is None:
            raise ApiError(E_INVALID_ARTICLE_ID, "invalid article_id")
        return {"news_item": post.articles}
    if path == "freepublish/delete":
        post = state.posts.get(str(data.get("article_id")))
        if post is None:
            raise ApiError(E_INVALID_ARTICLE_ID, "invalid article_id")
        index = int(data.get("index", 0))
        if index == 0:
            for article in post.articles:
                article["is_deleted"] = True
        elif 1 <= index <= len(post.articles):
            post.articles[index - 1]["is_deleted"] = True
        else:
            raise ApiError(E_INVALID_INDEX, f"invalid index {index}")
        return ok
    if path == "freepublish/batchget":
        offset, count = int(data.get("offset", 0)), int(data.get("count", 20))
        if not 1 <= count <= 20:
            raise ApiError(40097, "invalid args: count is 1 to 20")
        posts = sorted(state.posts.values(), key=lambda p: (-p.update_time, p.article_id))
        page = posts[offset : offset + count]
        no_content = bool(data.get("no_content"))
        return {
            "total_count": len(posts),
            "item_count": len(page),
            "item": [
                {
                    "article_id": p.article_id,
                    "content": {"news_item": [_news_item(a, no_content) for a in p.articles]},
                    "update_time": p.update_time,
                }
                for p in page
            ],
        }
    if path == "message/mass/sendall":
        if data.get("msgtype") != "mpnews":
            raise ApiError(40008, "sandbox: only mpnews mass sends are supported")
        media_id = str((data.get("mpnews") or {}).get("media_id"))
        known = media_id in state.drafts or any(p.media_id == media_id for p in state.posts.values())
        if not known:
            raise ApiError(E_INVALID_MEDIA_ID, "invalid media_id")
        client_msg_id = data.get("clientmsgid")
        if client_msg_id and any(m.get("clientmsgid") == client_msg_id for m in state.mass_sends):
            raise ApiError(E_CLIENTMSGID_EXISTS, "clientmsgid exist")
        today = datetime.now(UTC).date().isoformat()
        if any(m["day"] == today for m in state.mass_sends):
            raise ApiError(E_NO_MASS_QUOTA, "has no masssend quota")
        msg_id = state.new_id("")
        state.mass_sends.append(
            {"msg_id": msg_id, "media_id": media_id, "clientmsgid": client_msg_id, "day": today}
        )
        return {
            "errcode": 0,
            "errmsg": "send job submission success",
            "msg_id": msg_id,
            "msg_data_id": msg_id,
        }
    raise ApiError(48001, f"api unauthorized: the sandbox does not implement {path}")


# -- running it ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(state: State, port: int | None = None) -> Iterator[str]:
    """Serve the sandbox in a thread for the duration of the block; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(
        create_app(state), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError(f"沙箱未能启动 / the sandbox did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def serve(state: State, port: int) -> None:
    """Run in the foreground (`publisher sandbox wechat`)."""
    uvicorn.run(create_app(state), host="127.0.0.1", port=port, log_level="info", lifespan="off")
