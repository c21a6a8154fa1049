"""What an inspection reads in one HTML page: its links (with their lines), the links a reader
cannot see, the government metadata tags and the basic accessibility facts. Pure: bytes in, facts
out, so the files on disk and the bytes served over HTTP are read the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from lxml import html as lxml_html

# The tags inspections look for (《政府网站网页设计规范》 meta names); article pages carry three more.
SITE_META = ("SiteName", "SiteDomain", "SiteIDCode", "ColumnName", "ColumnType")
ARTICLE_META = ("ArticleTitle", "PubDate", "ContentSource")

# Inline styles that hide an element from a reader (暗链 hide links this way, or push them off-screen).
_HIDING = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d]*[1-9])|opacity\s*:\s*0(?![.\d]*[1-9])"
    r"|(?:left|top|text-indent)\s*:\s*-\s*\d{3,}|(?:height|width)\s*:\s*0(?:px)?\s*(?:;|$)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    line: int | None
    hidden: str = ""  # why a reader cannot see it, or ""


@dataclass
class PageFacts:
    links: list[Link] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    lang: str = ""
    accessibility: list[tuple[int | None, str]] = field(default_factory=list)


def _tiny(size: str | None) -> bool:
    value = (size or "").strip().removesuffix("px")
    return value.isdigit() and int(value) <= 3


def _hidden(element: Any) -> str:
    node = element
    while node is not None and isinstance(node.tag, str):
        if node.get("hidden") is not None:
            return f"<{node.tag} hidden>"
        style = node.get("style") or ""
        match = _HIDING.search(style)
        if match:
            return f'<{node.tag} style="{match.group(0)}">'
        if node.tag == "marquee" and any(_tiny(node.get(a)) for a in ("height", "width")):
            return "<marquee> 0 px"
        node = node.getparent()
    return ""


def read_page(data: bytes) -> PageFacts:
    facts = PageFacts()
    if not data.strip():
        return facts
    try:
        root = lxml_html.document_fromstring(data)
    except (etree.ParserError, ValueError):
        return facts
    facts.lang = (root.get("lang") or "").strip()
    if not facts.lang:
        facts.accessibility.append((root.sourceline, "<html> 缺少 lang 属性 / <html> has no lang"))
    for element in root.iter("a", "link", "img", "script", "iframe", "source", "area"):
        attr = "href" if element.tag in ("a", "link", "area") else "src"
        url = (element.get(attr) or "").strip()
        if element.tag == "link" and (element.get("rel") or "") not in ("stylesheet", "alternate", "icon"):
            continue
        if url:
            facts.links.append(
                Link(
                    url,
                    element.sourceline,
                    _hidden(element) if element.tag in ("a", "area", "iframe") else "",
                )
            )
        if element.tag == "img" and element.get("alt") is None:
            facts.accessibility.append(
                (element.sourceline, f"图片缺少 alt 属性 / an <img> has no alt: {url}")
            )
    for meta in root.iter("meta"):
        name = meta.get("name")
        if name:
            facts.meta[name] = (meta.get("content") or "").strip()
    labelled = {label.get("for") for label in root.iter("label") if label.get("for")}
    for control in root.iter("input", "select", "textarea"):
        if control.get("type") in ("hidden", "submit", "button", "reset", "image"):
            continue
        inside_label = any(parent.tag == "label" for parent in control.iterancestors())
        if not (
            inside_label or control.get("id") in labelled or control.get("aria-label") or control.get("title")
        ):
            facts.accessibility.append(
                (control.sourceline, f"表单控件没有标签 / a form control has no label: <{control.tag!s}>")
            )
    level = 0
    for heading in root.iter("h1", "h2", "h3", "h4", "h5", "h6"):
        n = int(str(heading.tag)[1])
        if level and n > level + 1:
            facts.accessibility.append(
                (heading.sourceline, f"标题层级跳跃 / heading levels skip: h{level} -> h{n}")
            )
        level = n
    return facts
