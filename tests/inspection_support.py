"""A built demo site for inspection tests: one recent article in every column, built through a gate
that honours retractions, and a loopback server for the live site and for "external" hosts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.site.build import build_all
from publisher.site.preview import make_server
from tests.factory import base_meta, write_article
from tests.http_thread import serve_in_thread
from tests.site_support import allow_all, honouring_retractions

COLUMNS = {
    "legislation": "良法善治护航发展",
    "supervision": "监督在线·实效追踪",
    "deputies": "代表风采·履职故事",
    "rdsd": "人大视点",
    "news": "工作动态",
}


def local(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def write_demo(root: Path, now: datetime, wechat: str | None = None) -> None:
    """Replace the factory's articles with one recent article per column; the WeChat account is
    the sandbox at `wechat`, or switched off."""
    account = root / "channels" / "wechat.toml"
    text = account.read_text(encoding="utf-8")
    if wechat is None:
        account.write_text("enabled = false\n" + text, encoding="utf-8")
    else:
        account.write_text(text.replace("http://127.0.0.1:8710", wechat), encoding="utf-8")
    content = root / "content"
    for path in content.glob("*.md"):
        path.unlink()
    for n, (key, name) in enumerate(COLUMNS.items()):
        write_article(
            content,
            f"{key}.md",
            base_meta(
                f"{key}-piece", title=f"{name}稿件", column=name, date=local(now - timedelta(hours=2 + n))
            ),
            f"## 小标题\n\n{name}的正文第一段，内容充实。\n\n第二段。\n",
        )


def build(room: Newsroom, now: datetime | None = None) -> None:
    assert ingest(room).ok
    build_all(room, honouring_retractions(allow_all), now=now or datetime.now(UTC))


def add_article(room: Newsroom, slug: str, column: str, body: str, **meta: Any) -> None:
    now = datetime.now(UTC)
    meta.setdefault("date", local(now - timedelta(hours=1)))
    write_article(room.root / "content", f"{slug}.md", base_meta(slug, column=column, **meta), body)


@contextmanager
def serving(root: Path) -> Iterator[str]:
    """A static server on 127.0.0.1 for `root` (a site, or an "external" host's pages)."""
    server = make_server(root, 0)
    serve_in_thread(server)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class ToLoopback(httpx.BaseTransport):
    """An "external" host answered by a server on 127.0.0.1: the request goes there, its Host
    header and path kept, so no test leaves the machine."""

    def __init__(self, base: str) -> None:
        self.target = httpx.URL(base)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(
            scheme=self.target.scheme, host=self.target.host, port=self.target.port
        )
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def copy_release(room: Newsroom, into: Path) -> Path:
    shutil.copytree(room.root / "public", into, symlinks=False)
    return into
