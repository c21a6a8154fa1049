"""A revision as a WeChat article: pure and deterministic (same revision + settings = same bytes).

Body images cannot have WeChat addresses before they are uploaded, so a rendition names them by
content hash (`wxasset:<sha256>`); delivery uploads each image once and substitutes its address.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import markdown

from publisher.channels.kinds import WechatSettings
from publisher.channels.wechat.html import to_wechat_html

PLACEHOLDER = "wxasset:"
MARKDOWN_EXTENSIONS = ("tables", "footnotes", "toc", "attr_list", "fenced_code", "sane_lists")


def _markdown_html(body: str) -> str:
    """Markdown -> HTML. The one seam where the common rendering pipeline replaces Python-Markdown."""
    return markdown.markdown(body, extensions=list(MARKDOWN_EXTENSIONS), output_format="html")


@dataclass(frozen=True, slots=True)
class ImageRef:
    """One image a revision uses: as written in the body (or the cover), and its content hash."""

    ref: str
    role: str  # "inline" | "cover"
    sha256: str


@dataclass(frozen=True, slots=True)
class WechatRendition:
    """One article ready for draft/add, except for image addresses only an upload can give."""

    slug: str
    revision_id: str
    title: str
    author: str
    digest: str
    content: str  # WeChat-safe HTML; body images as wxasset:<sha256>
    content_source_url: str
    cover_sha256: str | None  # None: the channel's default cover
    images: tuple[str, ...]  # sha256 of every body image, in order of first use
    priority: int = 0  # higher goes first in a bundle
    headline: bool = False  # the 头条: always first
    need_open_comment: bool = False

    @property
    def sha256(self) -> str:
        payload = json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["images"] = list(self.images)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WechatRendition:
        values = dict(data)
        values["images"] = tuple(values.get("images", ()))
        return cls(**values)

    def content_with(self, urls: Mapping[str, str]) -> str:
        """The content with each placeholder replaced by its uploaded address."""
        content = self.content
        for sha in self.images:
            content = content.replace(f"{PLACEHOLDER}{sha}", html_lib.escape(urls[sha], quote=True))
        if PLACEHOLDER in content:
            raise ValueError(f"{self.slug}: 仍有未上传的图片 / an image was not uploaded")
        return content


def author_of(meta: Mapping[str, Any]) -> str:
    return "、".join(str(a) for a in meta.get("authors") or [])


def body_html(body: str, images: Iterable[ImageRef]) -> tuple[str, tuple[str, ...]]:
    """The WeChat HTML of a body, its images as placeholders; and the hashes used, in order."""
    mapping: dict[str, str] = {}
    for image in images:
        if image.role != "inline":
            continue
        mapping[image.ref] = f"{PLACEHOLDER}{image.sha256}"
        # Python-Markdown escapes some characters of a src; accept either spelling.
        mapping[html_lib.escape(image.ref, quote=True)] = mapping[image.ref]
    content = to_wechat_html(_markdown_html(body), mapping)
    used: list[str] = []
    for image in images:
        if image.role == "inline" and f"{PLACEHOLDER}{image.sha256}" in content and image.sha256 not in used:
            used.append(image.sha256)
    return content, tuple(used)


def render_article(
    meta: Mapping[str, Any],
    body: str,
    images: Iterable[ImageRef],
    settings: WechatSettings,
    *,
    revision_id: str = "",
    priority: int = 0,
    headline: bool = False,
) -> WechatRendition:
    images = list(images)
    content, used = body_html(body, images)
    slug = str(meta.get("slug", ""))
    cover = next((i.sha256 for i in images if i.role == "cover"), None)
    return WechatRendition(
        slug=slug,
        revision_id=revision_id,
        title=str(meta.get("title", "")),
        author=author_of(meta),
        digest=str(meta.get("summary") or ""),
        content=content,
        content_source_url=settings.source_url.replace("{slug}", slug) if settings.source_url else "",
        cover_sha256=cover,
        images=used,
        priority=priority,
        headline=headline,
        need_open_comment=settings.open_comment,
    )
