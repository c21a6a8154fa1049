"""A revision as a WeChat article: pure and deterministic (same revision + settings = same bytes).

Body images cannot have WeChat addresses before they are uploaded, so a rendition names them by
content hash (`wxasset:<sha256>`); delivery uploads each image once and substitutes its address.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
from collections.abc import Iterable, Mapping, Sequence
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
    # A generated cover sheet holds both covers apart: WeChat's crops of each (else centred crops).
    cover_crops: tuple[tuple[str, str], ...] = ()

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
        values["cover_crops"] = tuple(tuple(pair) for pair in values.get("cover_crops", ()))
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


@dataclass(frozen=True, slots=True)
class GeneratedCover:
    """A cover drawn for an article without one (publisher/imaging), stored by its hash."""

    sha256: str
    crops: tuple[tuple[str, str], ...]


def render_article(
    meta: Mapping[str, Any],
    body: str,
    images: Iterable[ImageRef],
    settings: WechatSettings,
    *,
    revision_id: str = "",
    priority: int = 0,
    headline: bool = False,
    long_image: Sequence[ImageRef] = (),
    generated_cover: GeneratedCover | None = None,
) -> WechatRendition:
    """`long_image`: the segments of the article's long image, stored by hash. An article of kind
    long_image is posted as that image alone; an article with one attached shows it after its text."""
    images = list(images)
    title = str(meta.get("title", ""))
    if long_image:
        # One paragraph of images: they stack edge to edge as one picture (a lone image would be
        # a figure with a caption and margins, cutting the long image into visible pieces).
        segments = "".join(
            f"![{title}（长图 {n}/{len(long_image)}）]({segment.ref})"
            for n, segment in enumerate(long_image, 1)
        )
        body = segments if meta.get("kind") == "long_image" else f"{body}\n\n{segments}"
        images = [*images, *long_image]
    content, used = body_html(body, images)
    slug = str(meta.get("slug", ""))
    cover = next((i.sha256 for i in images if i.role == "cover"), None)
    crops: tuple[tuple[str, str], ...] = ()
    if cover is None and generated_cover is not None:
        cover, crops = generated_cover.sha256, generated_cover.crops
    return WechatRendition(
        slug=slug,
        revision_id=revision_id,
        title=title,
        author=author_of(meta),
        digest=str(meta.get("summary") or ""),
        content=content,
        content_source_url=settings.source_url.replace("{slug}", slug) if settings.source_url else "",
        cover_sha256=cover,
        images=used,
        priority=priority,
        headline=headline,
        need_open_comment=settings.open_comment,
        cover_crops=crops,
    )
