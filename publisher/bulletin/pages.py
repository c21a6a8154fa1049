"""An issue set into pages: every run of text, rule and picture with its place, in points from the
top-left corner of the page. Pure: the PDF writer (bulletin/pdf.py) draws the items as they stand,
and tests read them (no line past the margin, each article on the page the contents give).

This module holds what both kinds of page use: the items, the page geometry, the type styles, the
measuring and setting of text, and `Flow`, the body's cursor across pages; `body.py` sets the
articles, `front.py` the cover and contents.

Text is measured with the same fonts and broken by the same rules as the long images
(imaging/typeset.py: 避头尾, phrases kept whole, Chinese set flush on both sides), at SCALE times
the point size so that rounding a glyph's advance to whole pixels costs nothing visible.

The folios (page numbers, "— 3 —" as official documents print them) count from the first page
of articles, so the contents never move them. Every article starts on a new page; a heading keeps
two lines of what follows on its page, and a paragraph leaves neither a single first line at the
foot of a page nor a single last line at the head of the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Union

from publisher.imaging import blocks as b
from publisher.imaging.fonts import Face, font
from publisher.imaging.glyphs import invisible
from publisher.imaging.typeset import Layout, balanced, typeset

SCALE = 20
MM = 72 / 25.4

BODY_SIZE = 10.5  # 五号, the size official Chinese documents set running text in
BODY_LEADING = BODY_SIZE * 1.8
INK = "#000000"
GREY = "#555555"


@dataclass(frozen=True, slots=True)
class Run:
    """Text on a baseline: x, y are the pen's start and the baseline, in points."""

    x: float
    y: float
    text: str
    face: Face
    size: float
    colour: str = INK


@dataclass(frozen=True, slots=True)
class Stroke:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    colour: str = INK


@dataclass(frozen=True, slots=True)
class Picture:
    x: float
    y: float  # top
    width: float
    height: float
    data: bytes


Item = Union[Run, Stroke, Picture]  # noqa: UP007


@dataclass(slots=True)
class Page:
    items: list[Item] = field(default_factory=list)
    folio: int | None = None  # the printed page number; None on the cover and the contents
    # Bookmarks (the PDF's outline) that point here: (level, title, y).
    marks: list[tuple[int, str, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Geometry:
    width: float
    height: float
    top: float
    bottom: float
    left: float
    right: float

    @classmethod
    def of(cls, page_mm: tuple[float, float]) -> Geometry:
        w, h = page_mm
        return cls(w * MM, h * MM, 28 * MM, 25 * MM, 24 * MM, 24 * MM)

    @property
    def measure(self) -> float:
        return self.width - self.left - self.right

    @property
    def foot(self) -> float:
        """The lowest a line box may reach."""
        return self.height - self.bottom


@dataclass(frozen=True, slots=True)
class ArticleCopy:
    """One article as the issue prints it."""

    slug: str
    title: str
    byline: str
    blocks: tuple[b.Block, ...]
    pictures: dict[str, bytes]  # ref as written in the body -> the image's bytes


@dataclass(frozen=True, slots=True)
class SectionCopy:
    title: str
    articles: tuple[ArticleCopy, ...]


@dataclass(frozen=True, slots=True)
class Front:
    """What the cover prints besides the contents."""

    title: str
    short_title: str
    number: str  # 2026年第6期（总第86期）
    date: str  # 2026年12月4日
    colophon: tuple[str, ...]
    masthead_colour: str


@dataclass(frozen=True, slots=True)
class Typeset:
    front: list[Page]  # the cover and the contents' further pages
    body: list[Page]
    starts: dict[str, int]  # slug -> folio of the page the article starts on

    @property
    def pages(self) -> list[Page]:
        return [*self.front, *self.body]


def px(points: float) -> int:
    return round(points * SCALE)


def set_text(
    text: str,
    face: Face,
    size: float,
    measure: float,
    leading: float,
    *,
    indent: float = 0,
    justify: bool = True,
    title: bool = False,
) -> Layout:
    measured = font(face, px(size))
    if title:
        return balanced(text, measured, px(measure), px(leading))
    return typeset(text, measured, px(measure), px(leading), first_indent=px(indent), justify=justify)


def baseline(leading: float, size: float) -> float:
    """Where the baseline sits in a line box: the em box centred, 0.88 em of it above the line
    (Noto CJK's ascent)."""
    return (leading - size) / 2 + 0.88 * size


def line_runs(
    layout: Layout,
    lines: Sequence[int],
    left: float,
    top: float,
    face: Face,
    size: float,
    leading: float,
    *,
    colour: str = INK,
    centre: bool = False,
) -> list[Run]:
    """Lines `lines` of a layout as runs, the first of them in the line box at `top`."""
    runs: list[Run] = []
    for n, index in enumerate(lines):
        line = layout.lines[index]
        y = top + n * leading + baseline(leading, size)
        if centre:
            x = left + (layout.measure - line.width) / 2 / SCALE
            runs.extend(spaced(x, y, line.text, face, size, colour))
            continue
        x = left + line.x / SCALE
        spread = layout.spread(line)
        if spread is None:
            runs.extend(spaced(x, y, line.text, face, size, colour))
        else:
            runs.extend(
                Run(x + offset / SCALE, y, unit, face, size, colour)
                for unit, offset in spread
                if not invisible(unit)
            )
    return runs


def spaced(x: float, y: float, text: str, face: Face, size: float, colour: str) -> list[Run]:
    """A run cut at the characters the fonts print as nothing and have no glyph for: the quarter-em
    spaces `autospace` puts between Chinese and Latin or digits (U+2005), other typographic spaces,
    zero-width and format characters. The layout measured them (the shaper makes the space); the PDF
    gets their gap as a position instead of a character."""
    if not any(_gap(char) for char in text):
        return [Run(x, y, text, face, size, colour)]
    runs: list[Run] = []
    start = 0
    for at, char in enumerate(text):
        if _gap(char):
            if text[start:at]:
                runs.append(
                    Run(x + width_of(text[:start], face, size), y, text[start:at], face, size, colour)
                )
            start = at + 1
    if text[start:]:
        runs.append(Run(x + width_of(text[:start], face, size), y, text[start:], face, size, colour))
    return runs


def _gap(char: str) -> bool:
    return char not in " \u3000" and invisible(char)


class Flow:
    """The body pages as they fill: a cursor on the current page, new pages with their furniture."""

    def __init__(self, geometry: Geometry, furniture: Callable[[Page], None]) -> None:
        self.g = geometry
        self.furniture = furniture
        self.pages: list[Page] = []
        self.y = 0.0

    @property
    def page(self) -> Page:
        return self.pages[-1]

    def new_page(self) -> None:
        page = Page(folio=len(self.pages) + 1)
        self.furniture(page)
        self.pages.append(page)
        self.y = self.g.top

    def room(self) -> float:
        return self.g.foot - self.y

    def space(self, points: float) -> None:
        """White space, dropped at the head of a page."""
        if self.y > self.g.top:
            self.y = min(self.y + points, self.g.foot)

    def need(self, points: float) -> None:
        if self.room() < points - 0.01:
            self.new_page()

    def lines(
        self,
        layout: Layout,
        left: float,
        face: Face,
        size: float,
        leading: float,
        *,
        colour: str = INK,
        centre: bool = False,
        keep_together: bool = False,
    ) -> None:
        """A paragraph's lines, across pages as needed: never one line alone at the foot of a page
        or the head of the next (two-line paragraphs move whole)."""
        total = len(layout.lines)
        done = 0
        while done < total:
            fits = int((self.room() + 0.01) // leading)
            left_over = total - done
            take = min(fits, left_over)
            if keep_together and take < left_over:
                take = 0
            if take < left_over:
                if left_over - take == 1:
                    take -= 1  # a lone last line (a widow) overleaf: one more line goes with it
                if done == 0 and take == 1:
                    take = 0  # a lone first line (an orphan) here: the paragraph starts overleaf
            if take <= 0:
                if self.y <= self.g.top:  # not even this fits a fresh page: set what fits
                    take = max(1, min(fits, left_over))
                else:
                    self.new_page()
                    continue
            self.page.items.extend(
                line_runs(
                    layout,
                    range(done, done + take),
                    left,
                    self.y,
                    face,
                    size,
                    leading,
                    colour=colour,
                    centre=centre,
                )
            )
            self.y += take * leading
            done += take
            if done < total:
                self.new_page()


@dataclass(frozen=True, slots=True)
class Style:
    face: Face
    size: float
    leading: float


TITLE = Style(Face.SANS, 16, 16 * 1.5)
SECTION = Style(Face.SANS, 12, 12 * 1.6)
HEADING = {1: Style(Face.SANS, 13, 13 * 1.6), 2: Style(Face.SANS, 13, 13 * 1.6)}
SUBHEADING = Style(Face.SANS, 11, 11 * 1.7)
BODY = Style(Face.SERIF, BODY_SIZE, BODY_LEADING)
SMALL = Style(Face.SERIF, 9, 9 * 1.6)
CELL = Style(Face.SERIF, 9, 9 * 1.5)


def width_of(text: str, face: Face, size: float) -> float:
    return float(font(face, px(size)).getlength(text)) / SCALE
