"""What one exact revision will look like on each channel it targets, for a reviewer's eyes (and a
shared link's): the website's article body as the site renders it, the WeChat article in a phone
frame, the partner's ninjs package as formatted JSON.

Every preview is served alone, inside a sandboxed iframe, under its own strict CSP (`PREVIEW_CSP`):
the rendered HTML is the channel's own, already sanitised by its renderer, and even so it can run
no script, load nothing from elsewhere and submit no form.
"""

from __future__ import annotations

import base64
import html
import json
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from publisher.channels.registry import Channel
from publisher.channels.wechat.preview import phone_preview
from publisher.content.model import channel_allowed
from publisher.errors import NotFound
from publisher.newsroom import Newsroom
from publisher.site import build
from publisher.site.fragments import render_key
from publisher.site.site import MEDIA_URL
from publisher.store.tables import Revision
from publisher.supply.ninjs import Packager, Version, load_sources
from publisher.timeutil import show, utc_now

# No script, no plugin, nothing fetched from anywhere; inline styles only (WeChat's HTML is inline-
# styled, the phone frame carries its own <style>); images only as data URIs.
PREVIEW_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; sandbox"
)


@dataclass(frozen=True, slots=True)
class Target:
    channel: str
    title: str
    kind: str
    label: str  # what the preview shows, in Chinese


Previewer = Callable[[Newsroom, Session, Channel, Revision], str]


def _page(title: str, inner: str, css: str) -> str:
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{css}</style></head><body>{inner}</body></html>\n"
    )


def _data_uri(data: bytes, name: str) -> str:
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


_SITE_CSS = (
    "body{margin:0 auto;max-width:760px;padding:24px;font:16px/1.8 'Noto Sans SC','Microsoft YaHei',"
    "sans-serif;color:#222}h1{font-size:26px;line-height:1.4}.meta{color:#777;font-size:14px}"
    "img{max-width:100%}"
)


def website(room: Newsroom, session: Session, channel: Channel, revision: Revision) -> str:
    fragments = build.fragment_cache(room, channel)
    key = render_key(revision.id, MEDIA_URL)
    fragment, fresh = fragments.render_one(key, revision.body, load_sources(session, revision.id))
    if fresh is not None:
        fragments.add(key, fresh)
        fragments.flush()
    body = fragment.html
    for name in fragment.media:
        # The site's media folder is not served here; the frame may show images only as data URIs.
        path = fragments.media_cache / name
        if path.is_file():
            body = body.replace(f"{MEDIA_URL}{name}", _data_uri(path.read_bytes(), name))
    meta = json.loads(revision.meta_json)
    byline = "、".join(meta.get("authors", []))
    head = (
        f'<h1>{html.escape(revision.title)}</h1><p class="meta">{html.escape(room.column_name(revision.column))}'
        f" · {html.escape(show(revision.dated_at, room.settings.tz))} · {html.escape(byline)}</p>"
    )
    return _page(revision.title, head + body, _SITE_CSS)


def wechat(room: Newsroom, session: Session, channel: Channel, revision: Revision) -> str:
    return phone_preview(room, revision, channel.name)


_JSON_CSS = "body{margin:0;padding:16px;background:#fafafa}pre{white-space:pre-wrap;word-break:break-all;font:13px/1.5 monospace}"


def partner(
    room: Newsroom, session: Session, channel: Channel, revision: Revision, now: datetime | None = None
) -> str:
    packager = Packager(room, channel)
    refusal = packager.refusal(revision)
    if refusal:
        return _page(channel.title, f"<p>{html.escape(refusal)}</p>", _JSON_CSS)
    package = packager.package(
        revision, load_sources(session, revision.id), Version(1, "usable", now or utc_now())
    )
    text = json.dumps(package, ensure_ascii=False, indent=2, sort_keys=True)
    return _page(channel.title, f"<pre>{html.escape(text)}</pre>", _JSON_CSS)


PREVIEWERS: dict[str, tuple[str, Previewer]] = {
    "website": ("网站页面", website),
    "wechat": ("微信公众号（手机）", wechat),
    "partner": ("合作媒体稿件包（ninjs）", partner),
}


def targets(room: Newsroom, revision: Revision) -> list[Target]:
    """The channels this revision goes to that have a preview: the website, WeChat, then partners
    (the order of `PREVIEWERS`), each kind's channels in the matrix's order."""
    meta = json.loads(revision.meta_json)
    kinds = list(PREVIEWERS)
    found = [
        Target(name, channel.title, channel.kind, PREVIEWERS[channel.kind][0])
        for name, channel in room.channels.channels.items()
        if channel.enabled and channel.kind in PREVIEWERS and channel_allowed(meta, name)
    ]
    return sorted(found, key=lambda target: kinds.index(target.kind))


def render_preview(room: Newsroom, session: Session, revision: Revision, channel_name: str) -> str:
    """The preview page of `revision` on `channel_name`; NotFound for a channel it does not target."""
    if channel_name not in {t.channel for t in targets(room, revision)}:
        raise NotFound(
            f"本稿不发往渠道 {channel_name}，没有预览 / no preview of this article on {channel_name}"
        )
    channel = room.channels.channels[channel_name]
    return PREVIEWERS[channel.kind][1](room, session, channel, revision)
