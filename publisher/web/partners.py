"""The partner API: per-partner pull feeds and the adoption callback.

Pull feeds take the partner's token as `Authorization: Bearer …` (or `?token=` for feed readers
that cannot send headers). The adoption callback takes the same token, or, for push partners,
the same HMAC signature their pushes carry, with our shared secret.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlmodel import Session

from publisher.channels.kinds import PartnerSettings
from publisher.channels.registry import Channel
from publisher.errors import NotFound, PublisherError
from publisher.newsroom import Newsroom
from publisher.supply import feeds, service, signing
from publisher.supply.ninjs import Packager

router = APIRouter(prefix="/partners", tags=["partners"])
Format = Literal["ninjs", "atom", "rss", "json"]
CACHED_FEEDS = 256


class AdoptionIn(BaseModel):
    article: str = Field(description="稿件 slug 或供稿包的 uri / the article's slug or the package uri")
    url: str = Field(description="刊发地址 / where the partner ran it")
    adopted_at: datetime | None = Field(default=None, description="刊发时间（带时区） / when it ran")


class AdoptionOut(BaseModel):
    partner: str
    article: str
    url: str
    adopted_at: datetime
    recorded: bool  # False: recorded before; a repeated callback counts once


def _room(request: Request) -> Newsroom:
    room: Newsroom = request.app.state.room
    return room


def _partner(room: Newsroom, name: str) -> Channel:
    try:
        return service.partner(room, name)
    except NotFound:
        raise HTTPException(404, "没有这个合作媒体 / unknown partner") from None


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(401, reason, headers={"WWW-Authenticate": 'Bearer realm="partner"'})


def _bearer(authorization: str | None, token: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return token


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _feed_cache(request: Request) -> OrderedDict[tuple[str, str, str], bytes]:
    cache: OrderedDict[tuple[str, str, str], bytes] | None = getattr(request.app.state, "feed_cache", None)
    if cache is None:
        cache = OrderedDict()
        request.app.state.feed_cache = cache
    return cache


@router.get(
    "/{partner}/feed.{fmt}",
    summary="拉取订阅源 / the partner's pull feed",
    responses={
        200: {"description": "the feed"},
        304: {"description": "unchanged since If-None-Match / If-Modified-Since"},
        401: {"description": "missing, wrong or revoked token"},
    },
)
def pull_feed(
    request: Request,
    partner: str,
    fmt: Format,
    authorization: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    if_modified_since: Annotated[str | None, Header()] = None,
    token: Annotated[
        str | None, Query(description="供不能发送请求头的阅读器 / for readers without headers")
    ] = None,
) -> Response:
    room = _room(request)
    channel = _partner(room, partner)
    settings: PartnerSettings = channel.settings  # type: ignore[assignment]
    if "pull" not in settings.mode or fmt not in settings.formats:
        raise HTTPException(404, "该合作媒体没有此订阅源 / no such feed for this partner")
    given = _bearer(authorization, token)
    with Session(room.engine) as session:
        if not given or not service.token_valid(session, partner, given):
            raise _unauthorized("令牌无效或已吊销 / invalid or revoked token")
        state = feeds.feed_state(session, channel, fmt, settings.feed_items)
        headers = {"ETag": state.etag, "Cache-Control": "private, no-cache", "Vary": "Authorization"}
        if state.last_modified is not None:
            headers["Last-Modified"] = feeds.http_date(state.last_modified)
        if if_none_match is not None:
            if _matches(if_none_match, state.etag):
                return Response(status_code=304, headers=headers)
        elif if_modified_since and state.last_modified is not None:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                since = None
            if since is not None and since.tzinfo is not None and state.last_modified <= since:
                return Response(status_code=304, headers=headers)
        cache = _feed_cache(request)
        key = (partner, fmt, state.etag)
        body = cache.get(key)
        if body is None:
            self_url = str(request.url.remove_query_params("token"))
            body = feeds.render(session, Packager(room, channel), state, fmt, self_url)
            cache[key] = body
            while len(cache) > CACHED_FEEDS:
                cache.popitem(last=False)
    return Response(body, media_type=feeds.MEDIA_TYPES[fmt], headers=headers)


def _signed_by(channel: Channel, headers: dict[str, str], body: bytes, request: Request) -> bool:
    settings: PartnerSettings = channel.settings  # type: ignore[assignment]
    if signing.SIGNATURE_HEADER.lower() not in {k.lower() for k in headers}:
        return False
    secret = os.environ.get(settings.secret_env or "")
    if not secret:
        raise _unauthorized("此合作媒体未配置签名密钥 / no shared secret for this partner")
    guards: dict[str, signing.ReplayGuard] | None = getattr(request.app.state, "replay_guards", None)
    if guards is None:
        guards = {}
        request.app.state.replay_guards = guards
    guard = guards.setdefault(channel.name, signing.ReplayGuard(settings.replay_window_seconds))
    try:
        signing.verify(secret, headers, body, window=settings.replay_window_seconds, guard=guard)
    except signing.SignatureError as exc:
        raise _unauthorized(str(exc)) from None
    return True


@router.post(
    "/{partner}/adoptions",
    summary="采用回执 / report that the partner ran an article",
    status_code=201,
    response_model=AdoptionOut,
    responses={200: {"description": "already recorded"}, 401: {"description": "not authenticated"}},
)
async def adoption(request: Request, response: Response, partner: str) -> AdoptionOut:
    room = _room(request)
    channel = _partner(room, partner)
    body = await request.body()
    headers = dict(request.headers)
    if not _signed_by(channel, headers, body, request):
        given = _bearer(request.headers.get("authorization"), None)

        def check() -> bool:
            with Session(room.engine) as session:
                return bool(given) and service.token_valid(session, partner, given or "")

        if not await run_in_threadpool(check):
            raise _unauthorized("令牌无效或已吊销 / invalid or revoked token")
    try:
        data = AdoptionIn.model_validate(json.loads(body or b"{}"))
    except ValueError as exc:
        raise HTTPException(422, f"请求体无效 / invalid body: {exc}") from None
    if data.adopted_at is not None and data.adopted_at.tzinfo is None:
        raise HTTPException(422, "adopted_at 须带时区 / adopted_at needs a UTC offset")
    try:
        adopted = await run_in_threadpool(
            service.record_adoption,
            room,
            partner,
            data.article,
            data.url,
            f"partner:{partner}",
            "callback",
            adopted_at=data.adopted_at,
        )
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except PublisherError as exc:
        raise HTTPException(422, str(exc)) from None
    if not adopted.created:
        response.status_code = 200
    return AdoptionOut(
        partner=partner,
        article=adopted.slug,
        url=adopted.url,
        adopted_at=adopted.adopted_at,
        recorded=adopted.created,
    )
