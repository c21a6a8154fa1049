"""Polite HTTP for an inspection: at most `per_host` requests to one host at a time, a timeout on
each, HEAD first and GET only when HEAD is refused or fails, and a day's cache of external results
(var/inspection/links.json) so a daily run does not knock on the same doors again.

Every request goes through one httpx client; `mounts` lets tests reach "external" hosts that are
servers on 127.0.0.1 (the client's transport mounts), so no test leaves the machine.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from publisher.inspection.settings import Links

USER_AGENT = "publisher-inspect/1 (+government website inspection)"


@dataclass(frozen=True, slots=True)
class Checked:
    url: str
    status: int | None  # None: no answer (timeout, refused, DNS)
    error: str = ""

    @property
    def broken(self) -> bool:
        return self.status is None or self.status >= 400

    def said(self) -> str:
        return f"HTTP {self.status}" if self.status is not None else f"无法访问 / unreachable: {self.error}"


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    status: int | None
    body: bytes
    error: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


class LinkCache:
    """url -> (status, error, when): external results reused for `hours`."""

    def __init__(self, path: Path | None, hours: float, now: datetime) -> None:
        self.path = path
        self.since = now - timedelta(hours=hours)
        self.now = now
        self.entries: dict[str, list[object]] = {}
        if path is not None and path.is_file():
            try:
                self.entries = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}

    def get(self, url: str) -> Checked | None:
        entry = self.entries.get(url)
        if entry is None or datetime.fromisoformat(str(entry[2])) < self.since:
            return None
        status = entry[0]
        return Checked(url, status if isinstance(status, int) else None, str(entry[1]))

    def put(self, result: Checked) -> None:
        self.entries[result.url] = [result.status, result.error, self.now.isoformat()]

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = {u: e for u, e in self.entries.items() if datetime.fromisoformat(str(e[2])) >= self.since}
        self.path.write_text(json.dumps(fresh, ensure_ascii=False), encoding="utf-8")


class Fetcher:
    def __init__(self, settings: Links, mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> None:
        self.settings = settings
        self.mounts = dict(mounts or {})
        self._hosts: dict[str, asyncio.Semaphore] = {}

    def _client(self) -> httpx.AsyncClient:
        # Semaphores belong to the event loop of one run.
        per_host = self.settings.per_host
        self._hosts = defaultdict(lambda: asyncio.Semaphore(per_host))
        return httpx.AsyncClient(
            timeout=self.settings.timeout_seconds,
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
            mounts=self.mounts or None,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

    async def _check(self, client: httpx.AsyncClient, url: str) -> Checked:
        async with self._hosts[httpx.URL(url).host]:
            try:
                answer = await client.head(url)
                if answer.status_code < 400:
                    return Checked(url, answer.status_code)
            except httpx.HTTPError:
                pass
            try:
                async with client.stream("GET", url) as answer:
                    return Checked(url, answer.status_code)
            except httpx.HTTPError as exc:
                return Checked(url, None, f"{type(exc).__name__}: {exc}"[:200])

    async def _get(self, client: httpx.AsyncClient, url: str) -> Fetched:
        async with self._hosts[httpx.URL(url).host]:
            try:
                answer = await client.get(url)
                return Fetched(url, answer.status_code, answer.content)
            except httpx.HTTPError as exc:
                return Fetched(url, None, b"", f"{type(exc).__name__}: {exc}"[:200])

    def check(self, urls: Iterable[str], cache: LinkCache | None = None) -> dict[str, Checked]:
        """Each URL's status, HEAD then GET, politely; cached results reused."""
        wanted = sorted(set(urls))
        results: dict[str, Checked] = {}
        todo = []
        for url in wanted:
            hit = cache.get(url) if cache is not None else None
            if hit is not None:
                results[url] = hit
            else:
                todo.append(url)

        async def run() -> list[Checked]:
            async with self._client() as client:
                return await asyncio.gather(*(self._check(client, u) for u in todo))

        if todo:
            for result in asyncio.run(run()):
                results[result.url] = result
                if cache is not None:
                    cache.put(result)
        return results

    def get_all(self, urls: Iterable[str]) -> dict[str, Fetched]:
        """The bytes each URL serves (the live site, page by page)."""
        wanted = sorted(set(urls))

        async def run() -> list[Fetched]:
            async with self._client() as client:
                return await asyncio.gather(*(self._get(client, u) for u in wanted))

        return {f.url: f for f in asyncio.run(run())} if wanted else {}
