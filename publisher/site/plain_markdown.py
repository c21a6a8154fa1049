"""The common shapes of newsroom Markdown, written straight to HTML, byte for byte as Python-Markdown.

Python-Markdown builds an element tree, runs a dozen processors over it and serialises it again;
for the bodies the newsroom writes (paragraphs of Han characters with bold phrases, links and
footnote references, `##` headings, simple lists, a quotation, a pipe table, footnotes) that is
most of a site build. `render_plain` writes those bodies directly. It recognises only blocks whose
every line has a shape it knows, and inline text holding nothing but plain characters, `**bold**`,
`[text](url)`, `![alt](src)` and `[^label]`; on anything else (an escape, an entity, raw HTML, a
code span, a single `*` or `_`, a stray bracket, an attribute list, trailing spaces, a tab, a
nested or merged list...) it returns None and the caller converts the body with Python-Markdown.

Its output is the converter's, and tests compare the two over generated corpora, the demo newsroom
and hand-written edge cases. Heading ids and the table of contents come from the converter's own
toc processor, so the slugs cannot drift from it. The result is sanitised exactly as the
converter's is: the review gate and the sanitiser see the same HTML whichever path made it.
"""

from __future__ import annotations

import html
import re
from typing import Any, NamedTuple

from markdown import Markdown
from markdown.extensions.footnotes import FootnoteExtension
from markdown.extensions.toc import TocTreeprocessor, nest_toc_tokens, strip_tags, unique

# A paragraph (or list item, or quoted paragraph) with a line that starts like a block of another
# kind (Python-Markdown's processors read these starts); a `|` anywhere, an empty or a trailing
# line are checked apart. The pattern starts with its literal newline so the regex engine skips
# ahead to the line starts instead of trying every character.
_OTHER_START = r"(?:[\n \t#=_+>|<`~:\\\x02-]|\*(?:[ \t]|[* \t]*(?:\n|\Z))|\d+\.|\[(?:\^|[^\[\]]*\][ ]*:))"
_FIRST_LINE = re.compile(_OTHER_START)
_LATER_LINE = re.compile("\n" + _OTHER_START)
# Characters with a meaning to an inline pattern, the serialiser or a processor this module does
# not reproduce; `[`, `]`, `*` and `!` are allowed only inside the constructs `_INLINE` matches.
_SPECIAL = re.compile(r"[\\`*_\[\]!<>&{}~|\"\x02\x03]| \n|///")
# Anything an inline construct or _SPECIAL reacts to; text without any of these is written as it is.
_MARKUP = re.compile(r"[\\`*_\[\]!<>&{}~|\"\x02\x03/]| \n")
_ESCAPED = re.compile(r'[&<>"]')
_URL = r"[A-Za-z0-9/:.%?=#+_-]+"
_TEXT = r"[^\\`*_\[\]!<>&{}~|\"\x02\x03\n]"
_INLINE = re.compile(
    rf"\*\*(?P<strong>(?!\s){_TEXT}+?(?<!\s))\*\*"
    rf"|!\[(?P<alt>{_TEXT}*)\]\((?P<src>{_URL})\)"
    r"|\[\^(?P<note>[A-Za-z0-9-]+)\]"
    rf"|\[(?P<text>{_TEXT}+)\]\((?P<href>{_URL})\)"
)
_HEADING = re.compile(r"(#{1,6})([^#\n]*)#*")
_BULLET = re.compile(r"- (\S.*)")
_NUMBERED = re.compile(r"(\d+)\. (\S.*)")
_QUOTED = re.compile(r">(?: ?)(.*)")
_NOTE_DEF = re.compile(r"\[\^([A-Za-z0-9-]+)\]: ?(\S.*)")
_RULER = re.compile(r":?-+:?")
_ALIGN = {(True, True): ' style="text-align: center;"', (True, False): ' style="text-align: left;"'}
_ALIGN[(False, True)] = ' style="text-align: right;"'


class Plain(NamedTuple):
    """A body rendered by the direct path: the converter's HTML and its table of contents."""

    html: str
    toc: str
    toc_tokens: int  # how many headings the table of contents lists


class _Unknown(Exception):
    """A shape this module does not reproduce: the body goes to Python-Markdown."""


class _Doc:
    def __init__(self, notes: dict[str, str]) -> None:
        self.notes = notes
        self.order = list(notes)
        self.referenced: set[str] = set()

    def inline(self, text: str) -> str:
        if _MARKUP.search(text) is None:
            return text  # plain text: most of a body
        out: list[str] = []
        at = 0
        for m in _INLINE.finditer(text):
            gap = text[at : m.start()]
            if _SPECIAL.search(gap):
                raise _Unknown
            out.append(gap)
            at = m.end()
            if m["strong"] is not None:
                out.append(f"<strong>{m['strong']}</strong>")
            elif m["src"] is not None:
                out.append(f'<img alt="{m["alt"]}" src="{m["src"]}">')
            elif m["note"] is not None:
                label = m["note"]
                if label not in self.notes or label in self.referenced:
                    raise _Unknown
                self.referenced.add(label)
                number = self.order.index(label) + 1
                out.append(
                    f'<sup id="fnref:{label}"><a class="footnote-ref" href="#fn:{label}">{number}</a></sup>'
                )
            else:
                out.append(f'<a href="{m["href"]}">{m["text"]}</a>')
        rest = text[at:]
        if _SPECIAL.search(rest):
            raise _Unknown
        out.append(rest)
        return "".join(out)


def _paragraph_text(block: str) -> str:
    if (
        not block
        or block[0].isspace()  # the paragraph processor strips it (any Unicode space)
        or block[-1] in " \n"
        or "|" in block
        or _FIRST_LINE.match(block)
        or _LATER_LINE.search(block)
    ):
        raise _Unknown
    return block


def _lines(block: str, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    found = [pattern.fullmatch(line) for line in block.split("\n")]
    if not all(found):
        raise _Unknown
    return [m for m in found if m is not None]


def _table(block: str, doc: _Doc) -> str:
    rows = block.split("\n")
    if len(rows) < 2 or any(not (r.startswith("| ") and r.endswith(" |")) for r in rows):
        raise _Unknown
    cells = [[c.strip(" ") for c in r[1:-1].split("|")] for r in rows]
    width = len(cells[0])
    if width < 2 or len(rows) < 3 or any(len(r) != width for r in cells):
        raise _Unknown
    if not all(_RULER.fullmatch(c) for c in cells[1]):
        raise _Unknown
    aligns = [_ALIGN.get((c.startswith(":"), c.endswith(":")), "") for c in cells[1]]

    def row(tag: str, texts: list[str]) -> str:
        inner = "\n".join(f"<{tag}{a}>{doc.inline(t)}</{tag}>" for a, t in zip(aligns, texts, strict=True))
        return f"<tr>\n{inner}\n</tr>"

    head = row("th", cells[0])
    body = "\n".join(row("td", r) for r in cells[2:])
    return f"<table>\n<thead>\n{head}\n</thead>\n<tbody>\n{body}\n</tbody>\n</table>"


# The footnote settings whose output this module writes; with any other value it declines.
_NOTE_SETTINGS = {
    "PLACE_MARKER": "///Footnotes Go Here///",
    "UNIQUE_IDS": False,
    "USE_DEFINITION_ORDER": True,
    "SEPARATOR": ":",
    "BACKLINK_TEXT": "&#8617;",
    "SUPERSCRIPT_TEXT": "{}",
}


def _settings_known(toc: TocTreeprocessor, notes: FootnoteExtension) -> bool:
    """The converter is configured the way this module writes: toc without title, anchors,
    permalinks or level shift, its marker `[TOC]` (which holds a `[`, so it is never taken) or
    none, and the footnote settings above."""
    return (
        toc.marker in ("[TOC]", "")
        and not toc.title
        and toc.base_level == 0
        and not toc.use_anchors
        and toc.use_permalinks in (False, None)
        and not _ESCAPED.search(toc.toc_class)
        and all(notes.getConfig(k) == v for k, v in _NOTE_SETTINGS.items())
    )


def render_plain(md: Markdown, source: str) -> Plain | None:
    """`source` rendered as `md.convert` renders it (and its table of contents), or None when it
    holds anything this module does not reproduce. `md` is the converter the caller would use
    (only its toc processor, serialiser and footnote settings are read)."""
    if "\r" in source or "\t" in source or not source.strip():
        return None
    toc = md.treeprocessors["toc"] if "toc" in md.treeprocessors else None  # noqa: SIM401 (no .get)
    notes_ext = next((e for e in md.registeredExtensions if isinstance(e, FootnoteExtension)), None)
    if type(toc) is not TocTreeprocessor or notes_ext is None or not _settings_known(toc, notes_ext):
        return None
    # Python-Markdown's whitespace normalising, then its split into blocks.
    text = re.sub(r"(?<=\n) +\n", "\n", source + "\n\n")
    blocks = [b.lstrip("\n") for b in text.split("\n\n")]
    blocks = [b for b in blocks if b]
    try:
        return _render(md, toc, notes_ext, blocks)
    except _Unknown:
        return None


def _render(md: Markdown, toc: TocTreeprocessor, notes_ext: FootnoteExtension, blocks: list[str]) -> Plain:
    # Footnote definitions first: a reference may come before its definition.
    notes: dict[str, str] = {}
    kinds: list[str] = []
    for block in blocks:
        if block.startswith("[^"):
            for m in _lines(block, _NOTE_DEF):
                if m[1] in notes:
                    raise _Unknown
                notes[m[1]] = m[2]
            kinds.append("notes")
        else:
            kinds.append("")
    doc = _Doc(notes)
    parts: list[str] = []
    headings: list[tuple[int, str, int]] = []  # (level, text, index in parts)
    previous = ""
    for block, kind in zip(blocks, kinds, strict=True):
        if kind == "notes":
            continue  # no element: the block before stays the parser's last child
        first = block[0]
        if first == "#":
            heading = _HEADING.fullmatch(block)
            if heading is None:
                raise _Unknown
            title = heading[2].strip()
            if not title or _SPECIAL.search(title) or _INLINE.search(title):
                raise _Unknown
            headings.append((len(heading[1]), title, len(parts)))
            parts.append("")
            kind = "heading"
        elif first == "|":
            parts.append(_table(block, doc))
            kind = "table"
        elif first == ">":
            if previous == "quote":
                raise _Unknown  # Python-Markdown would merge it into the quotation before
            inner = "\n".join(m[1] for m in _lines(block, _QUOTED))
            paras = inner.split("\n\n")
            body = "\n".join(f"<p>{doc.inline(_paragraph_text(p))}</p>" for p in paras)
            parts.append(f"<blockquote>\n{body}\n</blockquote>")
            kind = "quote"
        elif block.startswith("- ") or _NUMBERED.match(block):
            if previous == "list":
                raise _Unknown  # a list after a list may join it as a loose list
            numbered = first != "-"
            found = _lines(block, _NUMBERED if numbered else _BULLET)
            if numbered and found[0][1] != "1":
                raise _Unknown  # sane_lists would give the list a `start`
            items = "\n".join(f"<li>{doc.inline(_paragraph_text(m[m.lastindex or 0]))}</li>" for m in found)
            tag = "ol" if numbered else "ul"
            parts.append(f"<{tag}>\n{items}\n</{tag}>")
            kind = "list"
        else:
            parts.append(f"<p>{doc.inline(_paragraph_text(block))}</p>")
            kind = "paragraph"
        previous = kind
    if doc.referenced != set(notes):
        raise _Unknown

    # Heading ids and the table of contents, as the toc processor makes them (after the footnote
    # ids are in the document, so they count as taken).
    used: set[str] = {f"fn:{k}" for k in notes} | {f"fnref:{k}" for k in notes}
    counters: dict[str, int] = {}
    tokens: list[Any] = []  # the toc processor's own token dicts
    for level, title, index in headings:
        name = strip_tags(title)
        anchor = unique(toc.slugify(html.unescape(name), toc.sep), used, counters)
        if _ESCAPED.search(anchor):
            raise _Unknown
        parts[index] = f'<h{level} id="{anchor}">{title}</h{level}>'
        if toc.toc_top <= level <= toc.toc_bottom:
            tokens.append({"level": level, "id": anchor, "name": name, "html": title, "data-toc-label": ""})

    if notes:
        title_pattern = notes_ext.getConfig("BACKLINK_TITLE")
        entries: list[str] = []
        for number, (label, note) in enumerate(notes.items(), 1):
            title_attr = title_pattern.format(number)
            if _SPECIAL.search(title_attr):
                raise _Unknown
            entries.append(
                f'<li id="fn:{label}">\n<p>{doc.inline(_paragraph_text(note))}&#160;'
                f'<a class="footnote-backref" href="#fnref:{label}" title="{title_attr}">&#8617;</a></p>\n</li>'
            )
        parts.append('<div class="footnote">\n<hr>\n<ol>\n' + "\n".join(entries) + "\n</ol>\n</div>")

    count = len(tokens)  # before nesting, which consumes the list
    toc_html = f'<div class="{toc.toc_class}">\n{_toc_list(nest_toc_tokens(tokens))}\n</div>\n'
    return Plain("\n".join(parts), toc_html, count)


def _toc_list(tokens: list[Any]) -> str:
    """The toc processor's nested list, as its tree serialises (names and ids are plain text)."""
    if not tokens:
        return "<ul></ul>"
    items = []
    for token in tokens:
        link = f'<a href="#{token["id"]}">{token["name"]}</a>'
        children = token["children"]
        items.append(f"<li>{link}{_toc_list(children)}\n</li>" if children else f"<li>{link}</li>")
    return "<ul>\n" + "\n".join(items) + "\n</ul>"
