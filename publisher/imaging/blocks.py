"""A revision's body as the blocks a long image stacks: headings, paragraphs, lists, quotes,
tables, images and rules. Markdown is read with Python-Markdown (the same extensions as the site),
then the HTML tree is walked once; inline emphasis keeps its words and loses its styling, since a
long image sets every paragraph in one weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union
from urllib.parse import unquote

import markdown
from lxml import html as lxml_html

MARKDOWN_EXTENSIONS = ("tables", "attr_list", "sane_lists", "fenced_code")


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str


@dataclass(frozen=True, slots=True)
class ListBlock:
    items: tuple[str, ...]
    ordered: bool
    start: int = 1


@dataclass(frozen=True, slots=True)
class Quote:
    paragraphs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Picture:
    ref: str  # as written in the body: resolved to the revision's asset by the caller
    alt: str


@dataclass(frozen=True, slots=True)
class Rule:
    pass


Block = Union[Heading, Paragraph, ListBlock, Quote, Table, Picture, Rule]  # noqa: UP007


def _text(element: lxml_html.HtmlElement) -> str:
    return " ".join(element.text_content().split()) if element is not None else ""


def _paragraph_blocks(element: lxml_html.HtmlElement) -> list[Block]:
    """A paragraph, split around the images it holds (a lone image is a block of its own)."""
    blocks: list[Block] = []
    images = element.findall(".//img")
    if not images:
        text = _text(element)
        return [Paragraph(text)] if text else []
    for image in images:
        image.drop_tree()
    text = _text(element)
    if text:
        blocks.append(Paragraph(text))
    blocks.extend(Picture(unquote(i.get("src", "")), i.get("alt", "")) for i in images)
    return blocks


def _walk(element: lxml_html.HtmlElement) -> list[Block]:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        text = _text(element)
        return [Heading(int(tag[1]), text)] if text else []
    if tag == "p":
        return _paragraph_blocks(element)
    if tag in ("ul", "ol"):
        items = tuple(_text(li) for li in element.findall("li"))
        start = int(element.get("start", "1")) if element.get("start", "1").isdigit() else 1
        return [ListBlock(tuple(i for i in items if i), tag == "ol", start)]
    if tag == "blockquote":
        parts = [_text(p) for p in element.findall(".//p")] or [_text(element)]
        return [Quote(tuple(p for p in parts if p))]
    if tag == "table":
        header = tuple(_text(th) for th in element.findall(".//thead//th"))
        rows = tuple(
            tuple(_text(cell) for cell in row.findall("td")) for row in element.findall(".//tbody/tr")
        )
        return [Table(header, rows)]
    if tag == "hr":
        return [Rule()]
    if tag == "pre":
        text = element.text_content().strip()
        return [Paragraph(text)] if text else []
    if tag == "div":
        return [block for child in element for block in _walk(child)]
    text = _text(element)
    return [Paragraph(text)] if text else []


def parse_blocks(body: str) -> list[Block]:
    source = markdown.markdown(body, extensions=list(MARKDOWN_EXTENSIONS), output_format="html")
    if not source.strip():
        return []
    root = lxml_html.fragment_fromstring(source, create_parent="div")
    return [block for child in root for block in _walk(child)]
