"""One revision's body to safe, Chinese-ready HTML: Markdown, an allow-list sanitiser, images.

Everything here is a pure function of (body, image records, settings), so a fragment can be cached
under the revision's hash and rendered in any worker process with the same result.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import nh3
from markdown.extensions.toc import slugify_unicode

from publisher.site.media import Derivative, Source, ensure, plan
from publisher.site.quick_markdown import QuickMarkdown
from publisher.store.blobs import BlobStore

# Bump when the output of this module changes for the same input, so cached fragments are redone.
RENDER_VERSION = "1"
CONTENT_WIDTH = 760

EXTENSIONS = ["tables", "footnotes", "toc", "attr_list", "fenced_code", "sane_lists"]
EXTENSION_CONFIGS: dict[str, dict[str, Any]] = {
    "toc": {"slugify": slugify_unicode, "permalink": False, "toc_depth": "2-3"},
    "footnotes": {"BACKLINK_TITLE": "返回正文第 %d 处", "SUPERSCRIPT_TEXT": "{}"},
}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div",
    "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang"},
    "a": {"href"},
    "abbr": {"title"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start", "type"},
    "li": {"value"},
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "style", "scope"},
    "col": {"span"},
    "q": {"cite"},
}
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style", "template", "noscript", "iframe", "object", "svg", "math"},
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes={"http", "https", "mailto", "tel"},
    link_rel="noopener noreferrer",
    strip_comments=True,
    # Python-Markdown aligns table cells with an inline style; nothing else may style content.
    filter_style_properties={"text-align"},
)

# Han, kana, full-width forms and CJK punctuation (including the curly quotes Chinese text uses).
CJK_RANGES = ((0x2E80, 0x9FFF), (0xF900, 0xFAFF), (0x3000, 0x303F), (0xFF00, 0xFFEF))
CJK_EXTRA = "\u2018\u2019\u201c\u201d\u2014\u2026\u00b7"
_CJK_CHARS = frozenset(chr(c) for low, high in CJK_RANGES for c in range(low, high + 1)) | frozenset(
    CJK_EXTRA
)
_PRE = re.compile(r"(<pre\b.*?</pre>)", re.DOTALL)
_IMG = re.compile(r'<img\b((?:[^>"]|"[^"]*")*)>')
_ATTR = re.compile(r'([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)"')
_LONE_IMAGE = re.compile(r'<p>(<img\b(?:[^>"]|"[^"]*")*>)</p>')

_md: QuickMarkdown | None = None
# The converter is built once and converts one body at a time: it keeps a conversion's state (reset,
# convert, its table of contents) on itself, and the engine's lanes render side by side. Unlocked,
# the fifty lanes of a release to fifty partners each built one in the first round (35 ms apiece).
_md_lock = threading.RLock()


def markdown_converter() -> QuickMarkdown:
    # One converter per process: building the extension set costs more than a small conversion.
    global _md
    with _md_lock:
        if _md is None:
            _md = QuickMarkdown(
                extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="html"
            )
        return _md


@dataclass(frozen=True, slots=True)
class Picture:
    src: str
    width: int
    height: int
    srcset: str


@dataclass(frozen=True, slots=True)
class Fragment:
    """A rendered body: sanitised HTML with site-relative URLs, its table of contents, its images."""

    html: str
    toc: str
    media: tuple[str, ...]
    cover: Picture | None


def sanitise(fragment: str) -> str:
    return _CLEANER.clean(fragment)


def join_cjk_lines(fragment: str) -> str:
    """A line break between two CJK characters is not a space in Chinese; browsers would show one.

    The break goes with the spaces and tabs around it; text inside `<pre>` keeps its lines."""
    parts = _PRE.split(fragment)
    return "".join(part if part.startswith("<pre") else _join_lines(part) for part in parts)


def _join_lines(text: str) -> str:
    # Line by line rather than one regex with a lookbehind: sre cannot skip ahead to the newlines
    # for such a pattern and tests it at every character, four times slower on article bodies.
    if "\n" not in text:
        return text
    cjk = _CJK_CHARS
    lines = text.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        before = out[-1].rstrip(" \t")
        after = line.lstrip(" \t")
        if before and after and before[-1] in cjk and after[0] in cjk:
            out[-1] = before + after
        else:
            out.append(line)
    return "\n".join(out)


def picture(derivatives: Sequence[Derivative], media_url: str) -> Picture:
    fit = next((d for d in derivatives if d.width <= CONTENT_WIDTH), derivatives[-1])
    srcset = ", ".join(f"{media_url}{d.name} {d.width}w" for d in reversed(derivatives))
    return Picture(src=f"{media_url}{fit.name}", width=fit.width, height=fit.height, srcset=srcset)


def _img_tag(attrs: dict[str, str], pic: Picture | None) -> str:
    alt = attrs.get("alt", "")
    if pic is None:
        src = attrs.get("src", "")
        return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}" loading="lazy" decoding="async">'
    return (
        f'<img src="{pic.src}" srcset="{pic.srcset}" sizes="(max-width: 800px) 100vw, {CONTENT_WIDTH}px" '
        f'width="{pic.width}" height="{pic.height}" alt="{html.escape(alt)}" loading="lazy" decoding="async">'
    )


def rewrite_images(fragment: str, pictures: dict[str, Picture]) -> str:
    """Point every local image at its derivatives with its size (no layout shift) and lazy loading."""

    def one(match: re.Match[str]) -> str:
        attrs = {k: html.unescape(v) for k, v in _ATTR.findall(match.group(1))}
        src = attrs.get("src", "")
        pic = pictures.get(src) or pictures.get(unquote(src))
        if pic is None and not src.startswith(("http://", "https://")):
            # Not an image the revision recorded: show nothing rather than a broken or foreign file.
            return html.escape(attrs.get("alt", ""))
        return _img_tag(attrs, pic)

    out = _IMG.sub(one, fragment)

    def figure(match: re.Match[str]) -> str:
        alt = re.search(r'alt="([^"]*)"', match.group(1))
        caption = f"<figcaption>{alt.group(1)}</figcaption>" if alt and alt.group(1) else ""
        return f"<figure>{match.group(1)}{caption}</figure>"

    return _LONE_IMAGE.sub(figure, out)


def render_markdown(body: str) -> tuple[str, str]:
    """(body HTML, table-of-contents HTML), both sanitised; raw HTML in the body is allowed-listed."""
    with _md_lock:
        md = markdown_converter()
        md.reset()
        converted = md.convert(body)
        tokens = getattr(md, "toc_tokens", [])
        toc = str(getattr(md, "toc", "")) if _count(tokens) >= 3 else ""
    return join_cjk_lines(sanitise(converted)), sanitise(toc)


def _count(tokens: list[dict[str, object]]) -> int:
    total = 0
    for token in tokens:
        total += 1
        children = token.get("children")
        if isinstance(children, list):
            total += _count(children)
    return total


def render_fragment(
    body: str,
    sources: list[Source],
    blobs: BlobStore,
    media_cache: Path,
    media_url: str,
    media_ready: bool = False,
) -> Fragment:
    """The whole body of one revision; derivatives missing from the cache are made on the way
    (`media_ready`: the caller saw every one of them in the cache, so none is looked for)."""
    pictures: dict[str, Picture] = {}
    media: list[str] = []
    cover: Picture | None = None
    for source in sources:
        derivatives = plan(source) if media_ready else ensure(source, blobs, media_cache)
        media.extend(d.name for d in derivatives)
        pic = picture(derivatives, media_url)
        if source.role == "cover":
            cover = pic
        else:
            pictures[source.ref] = pic
    body_html, toc = render_markdown(body)
    return Fragment(
        html=rewrite_images(body_html, pictures),
        toc=toc,
        media=tuple(sorted(set(media))),
        cover=cover,
    )
