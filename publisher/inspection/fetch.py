"""Polite HTTP for an inspection: at most `per_host` requests to one host at a time, a timeout on
each, HEAD first and GET only when HEAD is refused or fails, and a day's cache of external results
(var/inspection/links.json) so a daily run does not knock on the same doors again.

Every request goes through one httpx client; `mounts` lets tests reach "external" hosts that are
servers on 127.0.0.1 (the client's transport mounts), so no test leaves the machine.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx

from publisher.inspection.settings import Links

USER_AGENT = "publisher-inspect/1 (+government website inspection)"
WORKERS = 16  # threads in all; each host still gets at most `per_host` of them at a time
T = TypeVar("T")


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
    """Threads, each request under its host's semaphore: never more than `per_host` at one host."""

    def __init__(self, settings: Links, mounts: Mapping[str, httpx.BaseTransport] | None = None) -> None:
        self.settings = settings
        self.mounts = dict(mounts or {})
        self._hosts: dict[str, threading.BoundedSemaphore] = defaultdict(
            lambda: threading.BoundedSemaphore(settings.per_host)
        )
        self._lock = threading.Lock()

    def _client(self) -> httpx.Client:
        return httpx.Client(
            timeout=self.settings.timeout_seconds,
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
            mounts=self.mounts or None,
            limits=httpx.Limits(max_connections=WORKERS, max_keepalive_connections=WORKERS),
        )

    def _host(self, url: str) -> threading.BoundedSemaphore:
        with self._lock:
            return self._hosts[httpx.URL(url).host]

    def _check(self, client: httpx.Client, url: str) -> Checked:
        with self._host(url):
            try:
                answer = client.head(url)
                if answer.status_code < 400:
                    return Checked(url, answer.status_code)
            except httpx.HTTPError:
                pass
            try:
                with client.stream("GET", url) as answer:
                    return Checked(url, answer.status_code)
            except httpx.HTTPError as exc:
                return Checked(url, None, f"{type(exc).__name__}: {exc}"[:200])

    def _get(self, client: httpx.Client, url: str) -> Fetched:
        with self._host(url):
            try:
                answer = client.get(url)
                return Fetched(url, answer.status_code, answer.content)
            except httpx.HTTPError as exc:
                return Fetched(url, None, b"", f"{type(exc).__name__}: {exc}"[:200])

    def _many(self, work: Callable[[httpx.Client, str], T], urls: list[str]) -> list[T]:
        if not urls:
            return []
        # Hosts interleaved, so that the threads are not all queued at one host's door.
        by_host: dict[str, list[str]] = defaultdict(list)
        for url in urls:
            by_host[httpx.URL(url).host].append(url)
        order = [u for group in itertools.zip_longest(*by_host.values()) for u in group if u is not None]
        workers = min(WORKERS, len(by_host) * self.settings.per_host)
        with self._client() as client, ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda u: work(client, u), order))

    def check(self, urls: Iterable[str], cache: LinkCache | None = None) -> dict[str, Checked]:
        """Each URL's status, HEAD then GET, politely; cached results reused."""
        results: dict[str, Checked] = {}
        todo = []
        for url in sorted(set(urls)):
            hit = cache.get(url) if cache is not None else None
            if hit is not None:
                results[url] = hit
            else:
                todo.append(url)
        for result in self._many(self._check, todo):
            results[result.url] = result
            if cache is not None:
                cache.put(result)
        return results

    def get_all(self, urls: Iterable[str]) -> dict[str, Fetched]:
        """The bytes each URL serves (the live site, page by page)."""
        return {f.url: f for f in self._many(self._get, sorted(set(urls)))}
