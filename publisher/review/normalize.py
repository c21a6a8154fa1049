"""One normalisation for every check that reads text, so that no check can be dodged by form.

A marking or a claim may be written in many shapes that look the same to a reader: full-width or
compatibility characters, invisible format characters, spaces inside a Chinese word, character
references, Markdown emphasis inside the word, a line break in the middle, another star-like
character. The checks (secrecy, terminology, meeting claims) and the delivery gate read text
only through this module, in two views:

- as written: the source, line by line, so that a finding names its line;
- as rendered: the plain text of the body's HTML made by the site renderer, block by block, so
  that emphasis, line joins, entities and tags cannot split what the reader will see.

Front-matter fields are plain text shown as written (title, summary, tags, series title...);
every string a channel may show is read, not a fixed list of three.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from lxml import html as lxml_html

from publisher.site.render import render_markdown

# Han (with extensions), kana, CJK symbols and punctuation, full-width forms, Hangul.
_CJK = (
    r"\u2e80-\u2fff\u3001-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf"
    r"\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f"
)
# Star-like and asterisk characters, after NFKC (which already folds ＊ and ﹡ to *).
STARS = "*★☆⭐⭑⭒✢✣✤✥✦✧✩✪✫✬✭✮✯✰✱✲✳✴✵✶✷✸✹✺✻✼✽❂❃❇❈❉❊❋⁎⁑∗⋆٭⍟✡🌟" + "".join(
    chr(c) for c in range(0x1F7C0, 0x1F7D5)
)
STAR = "★"  # the one star every star-like character is folded to
_STAR_CLASS = "[" + re.escape(STARS) + "]"
_STAR_RUN = re.compile(_STAR_CLASS + "+")
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")
_SPACE_BETWEEN_MARK_CHARS = re.compile(f"(?<=[{_CJK}{STAR}])\\s+(?=[{_CJK}{STAR}])")
_WHITESPACE = re.compile(r"\s")
_STARS_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])(?:{STAR}|\\s)+(?=[{_CJK}])")
# Unicode category Cf (format characters: zero-width spaces and joiners, word joiner, BOM, soft
# hyphen, bidirectional controls, tag characters...) as of Unicode 14, written out so that no
# command pays for a scan of every code point at import; a test holds it equal to the scan.
FORMAT_CHARS = (
    r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    r"\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_FORMAT_CHARS = re.compile(f"[{FORMAT_CHARS}]")
# Quick tests before the substitutions: a class holding supplementary-plane characters is slow to
# search, so the look-ups take the Basic Multilingual Plane's ones and any supplementary character
# (a line with one, rare, gets the full substitution).
_ASTRAL = "\U00010000-\U0010ffff"
_MAYBE_FORMAT_CHAR = re.compile("[" + FORMAT_CHARS.split(r"\U", 1)[0] + _ASTRAL + "]")
_MAYBE_STAR = re.compile("[" + re.escape("".join(c for c in STARS if ord(c) < 0x10000)) + _ASTRAL + "]")
# Markdown's emphasis syntax in the source; the rendered view sees what it becomes.
_EMPHASIS_SYNTAX = re.compile(r"[*_~]")

_BLOCKS = frozenset(
    {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "figcaption", "caption", "pre"}
)
_CONTAINERS = frozenset({"ul", "ol", "dl", "blockquote", "div", "figure"})

# Front-matter fields that name things for machines (paths, keys, times), never shown as text.
_MACHINE_FIELDS = frozenset(
    {"slug", "date", "embargo", "kind", "column", "cover", "channels", "sensitive", "department",
     "committee", "id", "stage", "url", "duration", "start", "end", "passed", "approved",
     "effective", "term", "session", "body", "part"}
)  # fmt: skip
TITLE_LABEL = "标题 / title"
MEETING_NAME_LABEL = "会议名称 / meeting name"
_FIELD_LABELS = {
    "title": TITLE_LABEL,
    "summary": "摘要 / summary",
    "tags": "标签 / tags",
    "authors": "作者 / byline",
    "editor": "编辑 / editor",
    "series.title": "系列标题 / series title",
    "meeting.name": MEETING_NAME_LABEL,
    "regulation.name": "法规名称 / regulation name",
}


def fold(text: str) -> str:
    """The text as a reader takes it: references decoded, compatibility forms folded (NFKC),
    invisible format characters (Unicode category Cf) removed, no whitespace inside CJK runs."""
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        # Each step only where it can change something: the checks fold every line of every body
        # the gate reads (a thousand articles on a build's first look), and most lines are already
        # NFKC with no format character (the quick check is fifty times cheaper than normalising).
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        if _MAYBE_FORMAT_CHAR.search(text):
            text = _FORMAT_CHARS.sub("", text)
    # The patterns below open with a lookbehind, which the regex engine tries at every position:
    # a line without whitespace (most Chinese prose) has nothing for them to remove.
    return _SPACE_BETWEEN_CJK.sub("", text) if _WHITESPACE.search(text) else text


def fold_stars(text: str) -> str:
    """`fold`, then every star-like or asterisk character is the one star, with no space beside it
    inside a marking."""
    text = fold(text)
    if _MAYBE_STAR.search(text):
        text = _STAR_RUN.sub(_one_star_each, text)
    return _SPACE_BETWEEN_MARK_CHARS.sub("", text) if _WHITESPACE.search(text) else text


def _one_star_each(run: re.Match[str]) -> str:
    return STAR * len(run.group())


def mark_views(text: str) -> tuple[str, ...]:
    """The readings a marking is looked for in: stars folded, and also with stars and spaces
    between two CJK characters dropped (机*密*★, 机★密★ are 机密★ to a reader)."""
    starred = fold_stars(text)
    if STAR not in starred and not _WHITESPACE.search(starred):
        return (starred,)
    joined = _STARS_BETWEEN_CJK.sub("", starred)
    return (starred,) if joined == starred else (starred, joined)


def source_view_text(line: str) -> str:
    """One source line as written, without Markdown's emphasis syntax (机*密*★ is 机密★ as
    written; a literal asterisk left over is seen by the rendered view)."""
    return _EMPHASIS_SYNTAX.sub("", line)


def rendered_html(body: str) -> str:
    return render_markdown(body)[0]


# What one line of plain prose may hold and still render as itself: letters and digits of any
# script, the space and CJK/full-width punctuation that Markdown gives no meaning to. No ASCII
# punctuation (no emphasis, links, lists, headings, HTML, entities, tables), no line break, no
# invisible or other character: anything else goes through the renderer.
_PLAIN_PUNCTUATION = frozenset(" ，。、；：？！（）《》〈〉“”‘’【】〔〕「」『』—…·～")


def _plain_line(body: str) -> bool:
    return all(c.isalnum() or c in _PLAIN_PUNCTUATION for c in body)


@lru_cache(maxsize=512)
def rendered_blocks(body: str) -> tuple[str, ...]:
    """The plain text of the rendered body, one entry per block (paragraph, list item, heading,
    caption, table row with each cell after its heading), then each image's alt and title text."""
    if _plain_line(body):
        # One paragraph of plain prose renders as itself (a public comment, usually): the
        # renderer and the HTML parse would cost most of the screening's time for nothing.
        return (" ".join(body.split()),) if body.strip() else ()
    fragment = rendered_html(body)
    if not fragment.strip():
        return ()
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    blocks: list[str] = []
    _collect(root, blocks)
    for image in root.iter("img"):
        blocks.extend(image.get(name) or "" for name in ("alt", "title"))
    return tuple(" ".join(b.split()) for b in blocks if b and b.strip())


def _collect(element: Any, blocks: list[str]) -> None:
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag == "table":
            blocks.extend(_table_rows(child))
        elif child.tag in _BLOCKS:
            blocks.append(child.text_content())
        elif child.tag in _CONTAINERS:
            _collect(child, blocks)
        else:
            blocks.append(child.text_content())
        if child.tail and child.tail.strip():
            blocks.append(child.tail)


def _table_rows(table: Any) -> list[str]:
    """One block per row, each cell read after its column's heading: a row 《…》 | 通过 under the
    headings 事项 | 表决结果 says 事项《…》 表决结果通过, as a reader of the table takes it."""
    rows = [[" ".join(cell.text_content().split()) for cell in row] for row in table.iter("tr")]
    if not rows:
        return []
    heads = rows[0] if table.find(".//th") is not None else []
    out = [" ".join(rows[0])] if heads else []
    for row in rows[1:] if heads else rows:
        if len(heads) == len(row):
            out.append(" ".join(f"{head}{cell}" for head, cell in zip(heads, row, strict=True)))
        else:
            out.append(" ".join(row))
    return out


def sentences(text: str) -> list[str]:
    """Sentences of folded running text, ended by 。！？ (or ! ?), kept with their end mark."""
    return [s.strip() for s in re.findall(r"[^。！？!?]+[。！？!?]?", text) if s.strip()]


def shown_fields(meta: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(label, text) for every front-matter string a channel may show: title, summary, tags,
    series title, and any other text field (a channel's own title or digest, a caption...)."""
    yield from _walk(meta, "")


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    key = path.rsplit(".", 1)[-1]
    if key in _MACHINE_FIELDS:
        return
    if isinstance(value, str):
        if value.strip():
            yield _FIELD_LABELS.get(path, f"元数据 {path} / front matter {path}"), value
    elif isinstance(value, Mapping):
        for name, item in value.items():
            yield from _walk(item, f"{path}.{name}" if path else str(name))
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, path)
