"""The articles of an issue set into body pages: section heads, titles, headings, paragraphs,
lists, quotes, tables and pictures, flowed across pages with their running head and folio."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

from PIL import Image as PILImage

from publisher.bulletin.pages import (
    BODY,
    BODY_LEADING,
    BODY_SIZE,
    CELL,
    GREY,
    HEADING,
    INK,
    SCALE,
    SECTION,
    SMALL,
    SUBHEADING,
    TITLE,
    ArticleCopy,
    Flow,
    Front,
    Geometry,
    Page,
    Picture,
    Run,
    SectionCopy,
    Stroke,
    Style,
    baseline,
    line_runs,
    set_text,
    width_of,
)
from publisher.imaging import blocks as b
from publisher.imaging.fonts import Face


class _Setter:
    """Sets one issue's articles into a Flow."""

    def __init__(self, flow: Flow, accent: str) -> None:
        self.flow = flow
        self.g = flow.g
        self.accent = accent

    def paragraph(self, text: str, style: Style = BODY, *, inset: float = 0, colour: str = INK) -> None:
        if not text.strip():
            return
        layout = set_text(
            text, style.face, style.size, self.g.measure - 2 * inset, style.leading, indent=2 * style.size
        )
        self.flow.lines(layout, self.g.left + inset, style.face, style.size, style.leading, colour=colour)

    def heading(self, text: str, level: int) -> None:
        style = HEADING.get(level, SUBHEADING)
        layout = set_text(text, style.face, style.size, self.g.measure, style.leading, justify=False)
        self.flow.space(style.leading * 0.4)
        # A heading keeps two lines of what follows on its page.
        self.flow.need(len(layout.lines) * style.leading + 2 * BODY_LEADING)
        self.flow.lines(layout, self.g.left, style.face, style.size, style.leading, keep_together=True)
        self.flow.space(style.leading * 0.15)

    def section(self, title: str) -> None:
        style = SECTION
        y = self.flow.y
        self.flow.page.items.append(
            Run(
                self.g.left,
                y + baseline(style.leading, style.size),
                title,
                style.face,
                style.size,
                self.accent,
            )
        )
        self.flow.page.items.append(
            Stroke(
                self.g.left,
                y + style.leading + 2,
                self.g.width - self.g.right,
                y + style.leading + 2,
                0.8,
                self.accent,
            )
        )
        self.flow.page.marks.append((0, title, y))
        self.flow.y = y + style.leading + 10

    def article(self, copy: ArticleCopy) -> None:
        style = TITLE
        layout = set_text(
            copy.title, style.face, style.size, self.g.measure * 0.86, style.leading, title=True
        )
        left = self.g.left + self.g.measure * 0.07
        self.flow.page.marks.append((1, copy.title, self.flow.y))
        self.flow.lines(layout, left, style.face, style.size, style.leading, centre=True, keep_together=True)
        if copy.byline:
            by = set_text(
                copy.byline,
                SMALL.face,
                SMALL.size,
                self.g.measure,
                SMALL.leading,
                justify=False,
                title=True,
            )
            self.flow.space(2)
            self.flow.lines(by, self.g.left, SMALL.face, SMALL.size, SMALL.leading, colour=GREY, centre=True)
        self.flow.space(BODY_LEADING * 0.8)
        for block in copy.blocks:
            self.block(block, copy)

    def block(self, block: b.Block, copy: ArticleCopy) -> None:
        match block:
            case b.Heading(level=level, text=text):
                self.heading(text, level)
            case b.Paragraph(text=text):
                self.paragraph(text)
            case b.ListBlock(items=items, ordered=ordered, start=start):
                for n, item in enumerate(items, start):
                    # An ideographic space after the dot: a plain one between two Chinese characters
                    # is taken for a soft line end of the source and dropped.
                    self.paragraph(f"{n}. {item}" if ordered else f"·\u3000{item}")
            case b.Quote(paragraphs=paragraphs):
                for text in paragraphs:
                    self.paragraph(text, inset=2 * BODY_SIZE, colour="#333333")
            case b.Table():
                self.table(block)
            case b.Picture(ref=ref, alt=alt):
                self.picture(copy.pictures[ref], alt)
            case b.Rule():
                self.flow.space(BODY_LEADING * 0.5)
                self.flow.need(2)
                middle = self.g.left + self.g.measure / 2
                y = self.flow.y
                self.flow.page.items.append(
                    Stroke(middle - self.g.measure / 8, y, middle + self.g.measure / 8, y, 0.5, GREY)
                )
                self.flow.space(BODY_LEADING * 0.5)

    def picture(self, data: bytes, alt: str) -> None:
        with PILImage.open(io.BytesIO(data)) as image:
            w, h = image.size
        # At most the measure wide, never under 150 dpi (a small image is not blown up past what
        # prints sharp), at most 45 % of the page high.
        width = min(self.g.measure, w * 72 / 150)
        height = width * h / w
        tallest = (self.g.foot - self.g.top) * 0.45
        if height > tallest:
            width, height = width * tallest / height, tallest
        caption = (
            set_text(alt, SMALL.face, SMALL.size, self.g.measure, SMALL.leading, justify=False, title=True)
            if alt
            else None
        )
        self.flow.space(BODY_LEADING * 0.3)
        self.flow.need(height + (len(caption.lines) * SMALL.leading if caption else 0))
        x = self.g.left + (self.g.measure - width) / 2
        self.flow.page.items.append(Picture(x, self.flow.y, width, height, data))
        self.flow.y += height + 3
        if caption is not None:
            self.flow.lines(
                caption,
                self.g.left,
                SMALL.face,
                SMALL.size,
                SMALL.leading,
                colour=GREY,
                centre=True,
                keep_together=True,
            )
        self.flow.space(BODY_LEADING * 0.3)

    def table(self, table: b.Table) -> None:
        columns = max([len(table.header), *(len(r) for r in table.rows)], default=0)
        if columns == 0:
            return
        pad = 3.0
        rows = ([table.header] if table.header else []) + list(table.rows)
        widths = _column_widths(rows, columns, self.g.measure, pad)
        edges = [self.g.left + sum(widths[:c]) for c in range(columns + 1)]
        self.flow.space(BODY_LEADING * 0.3)
        for n, row in enumerate(rows):
            header = n == 0 and bool(table.header)
            style = Style(Face.SANS, CELL.size, CELL.leading) if header else CELL
            cells = [
                set_text(text, style.face, style.size, widths[c] - 2 * pad, style.leading, justify=False)
                for c, text in enumerate((*row, *[""] * (columns - len(row))))
            ]
            height = max(len(c.lines) for c in cells) * style.leading + 2 * pad
            self.flow.need(height)
            top = self.flow.y
            for c, layout in enumerate(cells):
                left = edges[c]
                self.flow.page.items.extend(
                    line_runs(
                        layout,
                        range(len(layout.lines)),
                        left + pad,
                        top + pad,
                        style.face,
                        style.size,
                        style.leading,
                    )
                )
            right = edges[-1]
            items = self.flow.page.items
            items.append(Stroke(self.g.left, top, right, top, 0.5))
            items.append(Stroke(self.g.left, top + height, right, top + height, 0.5))
            items.extend(Stroke(x, top, x, top + height, 0.5) for x in edges)
            self.flow.y = top + height
        self.flow.space(BODY_LEADING * 0.5)


def _column_widths(rows: Sequence[Sequence[str]], columns: int, measure: float, pad: float) -> list[float]:
    """Columns as wide as their longest cell asks, each between a tenth and half of the measure,
    together the whole measure: a column of names gets room, a column of numbers stays narrow."""
    natural = [
        max((width_of(row[c], CELL.face, CELL.size) for row in rows if c < len(row)), default=0) + 2 * pad
        for c in range(columns)
    ]
    low, high = measure / max(10, columns), measure / 2
    clipped = [min(max(w, low), high) for w in natural]
    total = sum(clipped)
    return [measure * w / total for w in clipped]


def _furniture(g: Geometry, front: Front) -> Callable[[Page], None]:
    """The running head (the bulletin's short title, the issue) and the folio of a body page."""

    def add(page: Page) -> None:
        y = g.top - 16
        page.items.append(Run(g.left, y, front.short_title, Face.SANS, 9, GREY))
        number = set_text(front.number, Face.SANS, 9, g.measure, 12, justify=False)
        page.items.append(
            Run(g.width - g.right - number.lines[0].width / SCALE, y, front.number, Face.SANS, 9, GREY)
        )
        page.items.append(Stroke(g.left, y + 5, g.width - g.right, y + 5, 0.5, GREY))
        folio = f"— {page.folio} —"
        width = set_text(folio, Face.SERIF, 10.5, g.measure, 14, justify=False).lines[0].width / SCALE
        page.items.append(
            Run(g.left + (g.measure - width) / 2, g.height - g.bottom + 24, folio, Face.SERIF, 10.5)
        )

    return add


def set_body(
    sections: Sequence[SectionCopy], geometry: Geometry, front: Front
) -> tuple[list[Page], dict[str, int]]:
    flow = Flow(geometry, _furniture(geometry, front))
    setter = _Setter(flow, front.masthead_colour)
    starts: dict[str, int] = {}
    for section in sections:
        for n, article in enumerate(section.articles):
            flow.new_page()
            if n == 0:
                setter.section(section.title)
            starts[article.slug] = flow.page.folio or 0
            setter.article(article)
    return flow.pages, starts
