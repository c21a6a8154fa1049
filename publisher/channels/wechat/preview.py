"""`publisher wechat preview SLUG`: the WeChat HTML of an article's current revision in a phone frame.

The preview is one self-contained file: images are embedded as data URIs, so it opens anywhere and
needs neither the sandbox nor WeChat.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from PIL import Image

from publisher import articles
from publisher.channels.wechat.adapter import WechatAdapter
from publisher.channels.wechat.html import UnhostedImage
from publisher.channels.wechat.phone import PhoneArticle, article_page
from publisher.errors import NotFound
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import Revision
from publisher.timeutil import local


def _data_uri(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as probe:
        mime = Image.MIME.get(probe.format or "", "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def preview(room: Newsroom, slug: str, out: Path | None = None, channel_name: str | None = None) -> Path:
    with read_session(room.engine) as session:
        view = articles.get_article(session, slug)
    page = phone_preview(room, view.revision, channel_name)
    target = out or room.var_dir / "preview" / "wechat" / f"{slug}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


def phone_preview(room: Newsroom, revision: Revision, channel_name: str | None = None) -> str:
    """One revision (not necessarily the current one) as a WeChat reader sees it, self-contained."""
    channels = room.channels.channels
    name = channel_name or next((n for n, c in channels.items() if c.kind == "wechat"), None)
    if name is None or name not in channels or channels[name].kind != "wechat":
        raise NotFound(f"没有微信公众号渠道 / no WeChat channel {name or ''}".strip())
    adapter = WechatAdapter(channels[name], room, gate=None)
    slug = json.loads(revision.meta_json)["slug"]
    try:
        rendition = adapter.render(revision)
    except UnhostedImage as exc:
        raise UnhostedImage(
            f"{slug}：{exc}。请把图片放在稿件旁边并用相对路径引用，或删去它 / put the image beside the "
            "article and refer to it by a relative path, or remove it"
        ) from None
    content = rendition.content_with({sha: _data_uri(room.blobs.get(sha)) for sha in rendition.images})
    return article_page(
        PhoneArticle(
            title=rendition.title,
            author=rendition.author,
            account=channels[name].title.split("（")[0],
            date=local(revision.dated_at, room.settings.tz).strftime("%Y-%m-%d %H:%M"),
            content=content,
            source_url=rendition.content_source_url,
        )
    )
