"""wechatpy, made safe for unattended work.

`ApiClient` is wechatpy's own `WeChatClient` (2.0.0a26: the release with `draft` and
`freepublish`), pointed at a configurable API base, with three of its behaviours replaced:

- The access token lives in a store every worker shares (`DatabaseTokenStore`: one row per
  account). It is fetched with `stable_token`, under a lock, and only when the stored one is
  missing, about to expire, or is exactly the one WeChat just refused: twenty workers that hit
  40001 at once cause one refresh, not twenty (and a plain `token` call would invalidate the
  token every other worker holds).
- Retries are bounded. wechatpy retries 40001/42001 by calling itself with no limit, so a server
  that keeps answering 42001 recurses until RecursionError; here a token error is retried once
  after one refresh, and 45009 (API quota) is raised at once as `ApiQuotaExhausted`: the quota is
  daily, so waiting inside a call (which would outlive a worker's lease) cannot help; the caller
  defers to the next day instead.
- A retried multipart upload sends the whole file. wechatpy re-sends the same file object, which
  the first attempt has read to the end, so the retry uploads an empty file; here files are read
  into bytes once and every attempt sends those bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from publisher.store.engine import advisory_xact_lock, write_session
from publisher.store.tables import WechatToken

TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid, malformed, expired access token
QUOTA_ERROR = 45009
EXPIRY_MARGIN = 120.0  # seconds: refresh a little before WeChat would refuse the token

Fetch = Callable[[bool], tuple[str, int]]  # force_refresh -> (token, expires_in)


class ApiQuotaExhausted(Exception):
    """45009: today's API quota is used up. Try again tomorrow (a deferral, not a failure)."""

    def __init__(self) -> None:
        super().__init__("微信接口今日调用额度已用尽（45009） / today's API quota is used up")


class TokenStore(Protocol):
    def get(self, app_id: str) -> str | None: ...

    def refresh(self, app_id: str, rejected: str | None, force: bool, fetch: Fetch) -> str: ...


class MemoryTokenStore:
    """For one process (the preview, tools); the database store is the one workers share."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self.fetches = 0

    def get(self, app_id: str) -> str | None:
        found = self._tokens.get(app_id)
        if found and found[1] - EXPIRY_MARGIN > self._clock():
            return found[0]
        return None

    def refresh(self, app_id: str, rejected: str | None, force: bool, fetch: Fetch) -> str:
        with self._lock:
            found = self._tokens.get(app_id)
            if found and found[0] != rejected and found[1] - EXPIRY_MARGIN > self._clock():
                return found[0]
            token, expires_in = fetch(force)
            self.fetches += 1
            self._tokens[app_id] = (token, self._clock() + expires_in)
            return token


def _lock_key(app_id: str) -> int:
    return int(hashlib.sha256(f"wechat-token:{app_id}".encode()).hexdigest()[:15], 16)


class DatabaseTokenStore:
    """The token in the `wechat_token` table; refreshed under a lock so that it happens once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, app_id: str) -> str | None:
        with write_session(self.engine) as session:
            row = session.get(WechatToken, app_id)
            if row and row.expires_at - timedelta(seconds=EXPIRY_MARGIN) > datetime.now(UTC):
                return row.access_token
        return None

    def refresh(self, app_id: str, rejected: str | None, force: bool, fetch: Fetch) -> str:
        # SQLite: the write transaction starts with BEGIN IMMEDIATE, so refreshers queue on it.
        # PostgreSQL: an advisory lock per account (the row may not exist yet to lock).
        with write_session(self.engine) as session:
            advisory_xact_lock(session, _lock_key(app_id))
            row = session.get(WechatToken, app_id, with_for_update=True)
            now = datetime.now(UTC)
            if (
                row is not None
                and row.access_token != rejected
                and row.expires_at - timedelta(seconds=EXPIRY_MARGIN) > now
            ):
                return row.access_token  # another worker refreshed it while we waited
            token, expires_in = fetch(force and row is not None and row.access_token == rejected)
            if row is None:
                row = WechatToken(
                    app_id=app_id, access_token=token, expires_at=now, fetched_at=now, fetches=0
                )
            row.access_token = token
            row.expires_at = now + timedelta(seconds=expires_in)
            row.fetched_at = now
            row.fetches += 1
            session.add(row)
            return token


class RateLimiter:
    """At most `per_minute` calls in any 60 s window, per account, in this process."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute = per_minute
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            while self._calls and now - self._calls[0] >= 60:
                self._calls.popleft()
            if len(self._calls) >= self.per_minute:
                wait = 60 - (now - self._calls[0])
                self._sleep(wait)
                now = self._clock()
                self._calls.popleft()
            self._calls.append(now)


_LIMITERS: dict[tuple[str, int], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def limiter_for(app_id: str, per_minute: int) -> RateLimiter:
    with _LIMITERS_LOCK:
        return _LIMITERS.setdefault((app_id, per_minute), RateLimiter(per_minute))


def _materialise(value: Any) -> tuple[str, bytes] | tuple[str, bytes, str]:
    """A file argument as bytes, read once, so every attempt can send all of it."""
    if isinstance(value, tuple):
        name, content, *rest = value
        if hasattr(content, "read"):
            content = content.read()
        return (name, bytes(content), *rest) if rest else (name, bytes(content))
    if hasattr(value, "read"):
        name = os.path.basename(str(getattr(value, "name", "") or "media"))
        return (name or "media", value.read())
    if isinstance(value, bytes | bytearray):
        return ("media", bytes(value))
    raise TypeError(f"unsupported file argument {type(value).__name__}")


class ApiClient(WeChatClient):  # type: ignore[misc]
    def __init__(
        self,
        app_id: str,
        secret: str,
        *,
        api_base: str,
        tokens: TokenStore,
        timeout: float = 15.0,
        token_retries: int = 1,
        limiter: RateLimiter | None = None,
    ) -> None:
        # auto_retry off: wechatpy's own retry is the unbounded one replaced by _request below.
        super().__init__(app_id, secret, timeout=timeout, auto_retry=False)
        self.api_base = api_base.rstrip("/")
        self.API_BASE_URL = f"{self.api_base}/cgi-bin/"
        self.tokens = tokens
        self.token_retries = token_retries
        self.limiter = limiter

    # -- the token -----------------------------------------------------------------------------
    @property
    def access_token(self) -> str:
        return self.tokens.get(self.appid) or self.tokens.refresh(self.appid, None, False, self._stable_token)

    def fetch_access_token(self) -> dict[str, Any]:
        token = self.tokens.refresh(self.appid, self.tokens.get(self.appid), True, self._stable_token)
        return {"access_token": token}

    def _stable_token(self, force: bool) -> tuple[str, int]:
        """stable_token: unlike `token`, it does not invalidate what other workers hold."""
        body = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self.secret,
            "force_refresh": force,
        }
        if self.limiter is not None:
            self.limiter.acquire()
        res = self._http.post(
            f"{self.API_BASE_URL}stable_token",
            data=json.dumps(body).encode("utf-8"),
            timeout=self.timeout,
        )
        res.raise_for_status()
        result = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self, response=res)
        return str(result["access_token"]), int(result.get("expires_in", 7200))

    # -- every call ----------------------------------------------------------------------------
    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        if kwargs.get("files"):
            kwargs["files"] = {name: _materialise(value) for name, value in kwargs["files"].items()}
        refreshed = 0
        while True:
            call = dict(kwargs)
            token = self.access_token
            params = call.get("params")
            call["params"] = {**(params if isinstance(params, dict) else {}), "access_token": token}
            if call.get("files"):
                call["files"] = {k: tuple(v) for k, v in call["files"].items()}
            if self.limiter is not None:
                self.limiter.acquire()
            try:
                return super()._request(method, url_or_endpoint, **call)
            except WeChatClientException as exc:
                if exc.errcode in TOKEN_ERRORS and refreshed < self.token_retries:
                    refreshed += 1
                    self.tokens.refresh(self.appid, token, exc.errcode != 42001, self._stable_token)
                    continue
                if exc.errcode == QUOTA_ERROR:
                    raise ApiQuotaExhausted() from exc
                raise


def upload_file(name: str, data: bytes, mime: str) -> tuple[str, io.BytesIO, str]:
    """A file argument for wechatpy's upload helpers."""
    return (name, io.BytesIO(data), mime)


__all__ = [
    "ApiClient",
    "ApiQuotaExhausted",
    "DatabaseTokenStore",
    "MemoryTokenStore",
    "RateLimiter",
    "TokenStore",
    "WeChatClientException",
    "limiter_for",
    "upload_file",
]
