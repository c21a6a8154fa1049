"""WeChat-safe HTML: what the official account's editor and readers keep intact.

The input is ordinary article HTML (from Markdown); the output is a fragment WeChat accepts as a
draft's `content`:

- every style inline (css-inline), no `<style>`, no class or id attributes;
- no script, iframe, form, video, audio or other active content (nh3 allow-list);
- every `<img>` on WeChat's own image host: sources are replaced through `images`, anything else
  is refused, because WeChat drops foreign images silently;
- links other than `https://mp.weixin.qq.com/...` are not clickable in an article, so they become
  numbered markers with an endnote list (参考资料) that prints the address;
- code blocks keep their spaces and line breaks (WeChat collapses whitespace in `<pre>`);
- list items wrap their text in `<section>` and carry an explicit marker style per level, which is
  what keeps nested lists nested after WeChat's editor re-parses them;
- tables sit in a horizontally scrolling wrapper (a phone is 375 px wide);
- every text element has an explicit colour, so dark mode converts it predictably;
- a restrained theme for a government account: body #333, one deep red accent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import css_inline
import nh3
from lxml import html as lxml_html
from lxml.html import HtmlElement as _Element

from publisher.errors import PublisherError

WECHAT_IMAGE_HOSTS = frozenset({"mmbiz.qpic.cn", "mmbiz.qlogo.cn"})
NOTES_TITLE = "参考资料"
FOOTNOTES_TITLE = "注释"

ACCENT = "#9e1b1b"  # the deep red of government publications, used sparingly
TEXT = "#333333"  # not pure black: WeChat's dark mode maps it to a readable light grey
MUTED = "#666666"

# Elements that carry text: each gets an explicit colour (see _pin_colour).
TEXT_TAGS = frozenset(
    {
        "section",
        "p",
        "li",
        "span",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "s",
        "del",
        "ins",
        "mark",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "td",
        "th",
        "caption",
        "figcaption",
        "code",
        "pre",
        "a",
        "sup",
        "sub",
        "dt",
        "dd",
        "abbr",
    }
)

ALLOWED_TAGS = frozenset(
    TEXT_TAGS
    | {"ul", "ol", "table", "thead", "tbody", "tfoot", "tr", "img", "br", "hr", "div", "figure", "dl", "col"}
    - {"col"}
)
# Dropped with everything inside them: active or embedded content WeChat refuses.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "iframe",
        "form",
        "video",
        "audio",
        "object",
        "embed",
        "noscript",
        "textarea",
        "select",
        "button",
        "svg",
        "math",
        "template",
        "canvas",
    }
)
_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "id", "title"},
    "a": {"href"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "ol": {"start"},
}

THEME_CSS = f"""
.wx-article {{ font-size: 16px; line-height: 1.75; letter-spacing: 0.5px; color: {TEXT};
  font-family: -apple-system, BlinkMacSystemFont, "PingFang SC", "Microsoft YaHei", sans-serif;
  text-align: justify; word-wrap: break-word; }}
p {{ margin: 0 0 1em 0; color: {TEXT}; }}
h1, h2 {{ font-size: 18px; font-weight: bold; color: {ACCENT}; margin: 1.6em 0 0.8em 0;
  padding-left: 10px; border-left: 4px solid {ACCENT}; line-height: 1.5; }}
h3 {{ font-size: 17px; font-weight: bold; color: {ACCENT}; margin: 1.4em 0 0.6em 0; }}
h4, h5, h6 {{ font-size: 16px; font-weight: bold; color: {TEXT}; margin: 1.2em 0 0.6em 0; }}
strong, b {{ font-weight: bold; color: {TEXT}; }}
em, i {{ font-style: italic; color: {TEXT}; }}
a {{ color: #576b95; text-decoration: none; }}
blockquote {{ margin: 1em 0; padding: 10px 14px; border-left: 3px solid #d8b4b4;
  background-color: #faf7f7; color: {MUTED}; }}
blockquote p {{ color: {MUTED}; margin: 0 0 0.5em 0; }}
ul {{ list-style-type: disc; padding-left: 1.4em; margin: 0 0 1em 0; color: {TEXT}; }}
ul ul {{ list-style-type: circle; margin: 0.2em 0; }}
ul ul ul {{ list-style-type: square; }}
ol {{ list-style-type: decimal; padding-left: 1.6em; margin: 0 0 1em 0; color: {TEXT}; }}
ol ol {{ list-style-type: lower-alpha; margin: 0.2em 0; }}
ol ol ol {{ list-style-type: lower-roman; }}
li {{ margin: 0.2em 0; color: {TEXT}; }}
li section {{ color: {TEXT}; }}
li p {{ margin: 0; }}
.wx-pre {{ margin: 1em 0; padding: 12px; background-color: #f6f6f6; border-radius: 4px;
  overflow-x: auto; white-space: pre-wrap; font-size: 13px; line-height: 1.6; color: #2b2b2b;
  font-family: Menlo, Consolas, "Courier New", monospace; }}
.wx-pre code {{ font-family: Menlo, Consolas, "Courier New", monospace; color: #2b2b2b; font-size: 13px;
  padding: 0; background-color: transparent; border-radius: 0; }}
code {{ font-size: 14px; padding: 1px 4px; background-color: #f3f0f0; border-radius: 3px; color: {ACCENT};
  font-family: Menlo, Consolas, "Courier New", monospace; }}
.wx-table-wrap {{ overflow-x: auto; margin: 1em 0; -webkit-overflow-scrolling: touch; }}
table {{ border-collapse: collapse; min-width: 100%; font-size: 14px; color: {TEXT}; }}
th {{ background-color: #f5eeee; font-weight: bold; border: 1px solid #dddddd; padding: 6px 8px;
  color: {TEXT}; white-space: nowrap; }}
td {{ border: 1px solid #dddddd; padding: 6px 8px; color: {TEXT}; }}
hr {{ border: none; border-top: 1px solid #e5e5e5; margin: 1.5em 0; }}
img {{ max-width: 100%; height: auto; display: block; margin: 0 auto; }}
.wx-figure {{ margin: 1em 0; text-align: center; }}
.wx-caption {{ font-size: 14px; color: {MUTED}; text-align: center; margin: 0.5em 0 0 0; }}
sup {{ font-size: 12px; color: {MUTED}; line-height: 0; }}
.wx-mark {{ color: #576b95; }}
.wx-notes {{ margin-top: 2em; padding-top: 0.8em; border-top: 1px solid #e5e5e5; }}
.wx-notes-title {{ font-size: 15px; font-weight: bold; color: {MUTED}; margin: 0 0 0.5em 0; border: none;
  padding: 0; }}
.wx-note {{ font-size: 13px; color: {MUTED}; margin: 0 0 0.3em 0; word-break: break-all; }}
"""


class UnhostedImage(PublisherError, ValueError):
    """An `<img>` whose source is neither mapped nor on WeChat's image host: content the channel
    refuses, so a domain error every face shows as a message (and a ValueError, as it always was)."""


@dataclass(frozen=True, slots=True)
class _Note:
    number: int
    text: str
    href: str


def is_wechat_article_link(href: str) -> bool:
    parts = urlsplit(href)
    return parts.scheme == "https" and parts.hostname == "mp.weixin.qq.com"


def is_wechat_image(src: str) -> bool:
    parts = urlsplit(src)
    return parts.scheme in {"http", "https"} and (parts.hostname or "") in WECHAT_IMAGE_HOSTS


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        strip_comments=True,
    )


def to_wechat_html(
    html: str,
    images: Mapping[str, str],
    *,
    notes_title: str = NOTES_TITLE,
    css: str = THEME_CSS,
) -> str:
    """Article HTML -> a WeChat-safe, inline-styled fragment.

    `images` maps each `<img src>` as written to the address to use (WeChat's, or a placeholder the
    caller replaces after upload). Raises UnhostedImage for any other image.
    """
    root = lxml_html.fragment_fromstring(sanitise(html), create_parent="section")
    root.set("class", "wx-article")
    _images(root, images)
    _footnotes(root)
    notes = _links(root)
    _code_blocks(root)
    _lists(root)
    _tables(root)
    for div in root.iter("div"):
        div.tag = "section"  # WeChat's editor keeps <section>, and rewrites <div> unpredictably
    if notes:
        root.append(_notes_section(notes, notes_title))
    styled = css_inline.inline_fragment(_serialise(root), css)
    final = lxml_html.fragment_fromstring(styled, create_parent="div")
    article = final[0] if len(final) == 1 else final
    for element in article.iter():
        if not isinstance(element.tag, str):
            continue
        element.attrib.pop("class", None)
        element.attrib.pop("id", None)
        element.attrib.pop("title", None)
        if element.tag in TEXT_TAGS:
            _pin_colour(element)
    return _serialise(article)


def _serialise(element: _Element) -> str:
    text: str = lxml_html.tostring(element, encoding="unicode", method="html")
    return text


def _pin_colour(element: _Element) -> None:
    style = element.get("style", "")
    if not re.search(r"(?:^|;)\s*color\s*:", style):
        inherited = _inherited_colour(element)
        element.set("style", f"{style.rstrip('; ')}; color: {inherited}".lstrip("; "))


def _inherited_colour(element: _Element) -> str:
    parent = element.getparent()
    while parent is not None:
        match = re.search(r"(?:^|;)\s*color\s*:\s*([^;]+)", parent.get("style", ""))
        if match:
            return match.group(1).strip()
        parent = parent.getparent()
    return TEXT


def _images(root: _Element, images: Mapping[str, str]) -> None:
    for img in list(root.iter("img")):
        src = img.get("src", "")
        if src in images:
            img.set("src", images[src])
        elif not is_wechat_image(src):
            raise UnhostedImage(
                f"图片不在微信图床上，也未上传：{src} / image is neither uploaded nor on WeChat's host"
            )
        parent = img.getparent()
        alt = (img.get("alt") or "").strip()
        # A photo alone in its paragraph becomes a figure with its caption (图片说明) under it.
        if (
            parent is not None
            and parent.tag == "p"
            and len(parent) == 1
            and not (parent.text or "").strip()
            and not (img.tail or "").strip()
        ):
            parent.tag = "section"
            parent.set("class", "wx-figure")
            if alt:
                caption = lxml_html.Element("p")
                caption.set("class", "wx-caption")
                caption.text = alt
                parent.append(caption)


def _footnotes(root: _Element) -> None:
    """Python-Markdown's footnotes: drop the back links, title the list 注释."""
    for a in list(root.iter("a")):
        if "footnote-backref" in (a.get("class") or ""):
            _remove_keep_tail(a)
    for div in root.iter("div"):
        if "footnote" in (div.get("class") or "").split():
            for hr in list(div.iter("hr")):
                _remove_keep_tail(hr)
            title = lxml_html.Element("p")
            title.set("class", "wx-notes-title")
            title.text = FOOTNOTES_TITLE
            div.insert(0, title)
            div.set("class", "wx-notes")


def _links(root: _Element) -> list[_Note]:
    notes: dict[str, _Note] = {}
    for a in list(root.iter("a")):
        href = (a.get("href") or "").strip()
        if href and is_wechat_article_link(href):
            continue
        if not href or href.startswith("#"):
            _unwrap(a)  # anchors (footnote refs, a table of contents) do not work in an article
            continue
        text = a.text_content().strip()
        note = notes.get(href)
        if note is None:
            note = notes[href] = _Note(len(notes) + 1, text, href)
        mark = lxml_html.Element("sup")
        mark.set("class", "wx-mark")
        mark.text = f"[{note.number}]"
        mark.tail = a.tail
        a.tail = None
        parent = a.getparent()
        assert parent is not None
        parent.insert(parent.index(a) + 1, mark)
        if text == href or text == href.removeprefix("mailto:"):
            # An autolink: the address is printed in the notes, the marker is enough here.
            _remove_keep_tail(a)
            continue
        a.tag = "span"
        a.attrib.pop("href", None)
    return sorted(notes.values(), key=lambda n: n.number)


def _notes_section(notes: list[_Note], title: str) -> _Element:
    section = lxml_html.Element("section")
    section.set("class", "wx-notes")
    heading = lxml_html.Element("p")
    heading.set("class", "wx-notes-title")
    heading.text = title
    section.append(heading)
    for note in notes:
        line = lxml_html.Element("p")
        line.set("class", "wx-note")
        label = note.text if note.text and note.text != note.href else ""
        line.text = f"[{note.number}] {label}{'：' if label else ''}{note.href.removeprefix('mailto:')}"
        section.append(line)
    return section


def _code_blocks(root: _Element) -> None:
    for pre in list(root.iter("pre")):
        source = pre.text_content().rstrip("\n")
        for child in list(pre):
            pre.remove(child)
        pre.text = None
        pre.set("class", "wx-pre")
        pre.attrib.pop("style", None)
        code = lxml_html.Element("code")
        pre.append(code)
        # WeChat collapses runs of spaces and drops newlines inside <pre>: spell both out.
        for number, line in enumerate(source.split("\n")):
            text = line.replace("\t", "    ").replace(" ", "\u00a0")
            if number == 0:
                code.text = text
            else:
                br = lxml_html.Element("br")
                br.tail = text
                code.append(br)


def _lists(root: _Element) -> None:
    for li in list(root.iter("li")):
        # Wrap the item's leading inline content in <section>: WeChat's editor otherwise merges
        # it with a nested list that follows and flattens the levels.
        blocks = {"ul", "ol", "p", "section", "div", "blockquote", "pre", "table", "h1", "h2", "h3", "h4"}
        inline: list[_Element] = []
        for child in li:
            if child.tag in blocks:
                break
            inline.append(child)
        text = li.text or ""
        if not text.strip() and not inline:
            continue
        section = lxml_html.Element("section")
        section.text = text
        li.text = None
        for child in inline:
            section.append(child)  # moves it, with its tail
        li.insert(0, section)
        if len(section):
            tail = section[-1].tail or ""
            section[-1].tail = tail.rstrip("\n") or None


def _tables(root: _Element) -> None:
    for table in list(root.iter("table")):
        parent = table.getparent()
        assert parent is not None
        wrap = lxml_html.Element("section")
        wrap.set("class", "wx-table-wrap")
        parent.replace(table, wrap)
        wrap.append(table)
        wrap.tail, table.tail = table.tail, None


def _unwrap(element: _Element) -> None:
    parent = element.getparent()
    assert parent is not None
    index = parent.index(element)
    children = list(element)
    if element.text:
        if index == 0:
            parent.text = (parent.text or "") + element.text
        else:
            prev = parent[index - 1]
            prev.tail = (prev.tail or "") + element.text
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    _remove_keep_tail(element)


def _remove_keep_tail(element: _Element) -> None:
    parent = element.getparent()
    assert parent is not None
    tail = element.tail or ""
    index = parent.index(element)
    if tail:
        if index == 0:
            parent.text = (parent.text or "") + tail
        else:
            prev = parent[index - 1]
            prev.tail = (prev.tail or "") + tail
    parent.remove(element)
