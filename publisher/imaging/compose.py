"""Blocks stacked into a long image, cut into segments a channel takes.

The image is a column of pieces (banner, title, summary, each block, the QR code, the footer),
each a fixed height with its spacing below. A cut falls only between pieces: a list is a piece
per item, a table a piece per row, a paragraph taller than a segment a piece per run of lines,
so no cut ever goes through a line of text. Each segment is painted on its own canvas, which
keeps memory to one segment however long the article.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from publisher.channels.kinds import ImageLimits
from publisher.imaging.blocks import Block, Heading, ListBlock, Paragraph, Picture, Quote, Rule, Table
from publisher.imaging.fonts import Face, font
from publisher.imaging.qr import qr_image
from publisher.imaging.template import Template
from publisher.imaging.typeset import Layout, Line, balanced, typeset

ImageFormat = Literal["PNG", "JPEG"]
PICTURE_STRIP = 120  # pixels: how finely a picture may be cut between segments
Paint = Callable[[Image.Image, ImageDraw.ImageDraw, int], None]  # (canvas, draw, top)


# What a channel takes as one image; declared with the channel kinds, so a kind's settings say it.
SegmentLimits = ImageLimits


@dataclass(frozen=True, slots=True)
class Sheet:
    """What one revision shows in a long image, already read from it."""

    title: str
    column: str
    blocks: tuple[Block, ...]
    summary: str = ""
    byline: str = ""  # date and authors, as shown
    url: str = ""
    footer: Mapping[str, str] = field(default_factory=dict)  # {source}, {editor}, ... for footer lines
    pictures: Mapping[str, bytes] = field(default_factory=dict)  # body ref -> image bytes


@dataclass(frozen=True, slots=True)
class Placed:
    """A layout where it stands on the whole image: for tests and for anyone checking margins."""

    layout: Layout
    left: int
    top: int

    def lines(self) -> list[Line]:
        return list(self.layout.lines)


@dataclass(frozen=True, slots=True)
class Piece:
    height: int
    paint: Paint
    texts: tuple[tuple[Layout, int, int], ...] = ()  # (layout, left, top within the piece)
    photo: bool = False  # holds a picture of the article's own (more colours than type and rules)


@dataclass(frozen=True, slots=True)
class Segment:
    data: bytes
    width: int
    height: int
    format: ImageFormat


@dataclass(frozen=True, slots=True)
class LongImage:
    width: int
    height: int
    segments: tuple[Segment, ...]
    placed: tuple[Placed, ...]

    def lines(self) -> list[Line]:
        return [line for placed in self.placed for line in placed.layout.lines]


class Composer:
    def __init__(self, template: Template) -> None:
        self.template = template
        s = template.settings
        self.s = s
        self.c = s.colours
        self.width = s.width
        self.measure = s.width - 2 * s.margin
        f = s.fonts
        self.body = font(f.body, f.body_size)
        self.small_size = max(16, round(f.body_size * 0.8))
        self.small = font(f.body, self.small_size)
        self.line = round(f.body_size * f.line_height)
        self.small_line = round(self.small_size * f.line_height)
        self.gap = round(f.body_size * f.paragraph_spacing)
        self._segment_height: int | None = None  # set by compose() / place() for one sheet

    # -- pieces ------------------------------------------------------------------------------------
    def _text(
        self,
        text: str,
        *,
        face: Face | None = None,
        size: int | None = None,
        colour: str | None = None,
        indent: int = 0,
        measure: int | None = None,
        line_height: int | None = None,
        stroke: int = 0,
        after: int | None = None,
        align: str = "left",
        balance: bool = False,
    ) -> list[Piece]:
        """A text block as pieces: one, or a run of lines per piece when it is taller than a segment."""
        f = font(face or self.s.fonts.body, size or self.s.fonts.body_size)
        height = line_height or round(f.size * self.s.fonts.line_height)
        width = measure or (self.measure - indent)
        # Titles and headings are balanced and ragged; running text is set flush on both sides.
        layout = (
            balanced(text, f, width, height)
            if balance
            else typeset(text, f, width, height, justify=align == "left")
        )
        fill = colour or self.c.text
        left = self.s.margin + indent
        pieces = []
        chunk = self._max_lines()
        lines = layout.lines
        for start in range(0, len(lines), chunk):
            part = Layout(
                tuple(replace(line, y=line.y - start * height) for line in lines[start : start + chunk]),
                layout.measure,
                height,
                f,
            )
            last = start + chunk >= len(lines)
            pieces.append(
                Piece(
                    part.height + ((self.gap if after is None else after) if last else 0),
                    _painter(part, left, fill, stroke, align),
                    ((part, left, 0),),
                )
            )
        return pieces

    def _max_lines(self) -> int:
        """Lines per piece. When the image is cut into segments, a piece per line: segments are
        shown edge to edge, so a cut may fall after any line and a segment is filled to its
        limit instead of leaving a paragraph's height of blank paper above the next one."""
        return 1 if self._segment_height else 1_000_000

    def banner(self, sheet: Sheet) -> list[Piece]:
        s = self.s
        if s.banner_height == 0:
            return []
        banner = _banner_image(self.template.banner, self.width, s.banner_height)
        label = s.banner_text.replace("{column}", sheet.column)
        f = font(s.fonts.title, max(20, round(s.fonts.heading_size * 1.05)))
        layout = typeset(label, f, self.measure, round(f.size * 1.4))
        top_text = (s.banner_height - layout.height) // 2

        def paint(canvas: Image.Image, draw: ImageDraw.ImageDraw, top: int) -> None:
            if banner is not None:
                canvas.paste(banner, (0, top))
            else:
                draw.rectangle((0, top, self.width, top + s.banner_height - 1), fill=self.c.banner)
                draw.rectangle(
                    (s.margin, top + s.banner_height - 14, s.margin + 120, top + s.banner_height - 8),
                    fill=self.c.banner_text,
                )
            layout.draw(canvas, s.margin, top + top_text, self.c.banner_text, stroke=1)

        return [Piece(s.banner_height + s.padding, paint, ((layout, s.margin, top_text),))]

    def heading(self, block: Heading) -> list[Piece]:
        f = self.s.fonts
        if block.level <= 2:
            pieces = self._text(
                block.text,
                face=f.heading,
                size=f.heading_size,
                colour=self.c.heading,
                indent=24,
                stroke=1,
                balance=True,
                after=round(self.gap * 0.8),
            )
            first = pieces[0]
            bar_height = round(f.heading_size * 1.1)
            line_box = round(f.heading_size * f.line_height)

            def paint(canvas: Image.Image, draw: ImageDraw.ImageDraw, top: int) -> None:
                y = top + (line_box - bar_height) // 2
                draw.rectangle((self.s.margin, y, self.s.margin + 7, y + bar_height), fill=self.c.accent)
                first.paint(canvas, draw, top)

            pieces[0] = Piece(first.height + round(self.gap * 0.6), paint, first.texts)
            return [Piece(round(self.gap * 0.6), _nothing), *pieces]
        return self._text(
            block.text,
            face=f.heading,
            size=round((f.body_size + f.heading_size) / 2),
            colour=self.c.heading,
            stroke=1,
            after=round(self.gap * 0.6),
            balance=True,
        )

    def list_items(self, block: ListBlock) -> list[Piece]:
        pieces: list[Piece] = []
        indent = round(self.s.fonts.body_size * 1.6)
        for number, item in enumerate(block.items, start=block.start):
            marker = f"{number}." if block.ordered else "●"
            item_pieces = self._text(item, indent=indent, after=round(self.gap * 0.5))
            first = item_pieces[0]
            marker_size = self.s.fonts.body_size if block.ordered else round(self.s.fonts.body_size * 0.5)
            marker_font = font(self.s.fonts.body, marker_size)

            def paint(
                canvas: Image.Image,
                draw: ImageDraw.ImageDraw,
                top: int,
                first: Piece = first,
                marker: str = marker,
                marker_font: ImageFont.FreeTypeFont = marker_font,
            ) -> None:
                draw.text(
                    (self.s.margin + 4, top + self.line // 2),
                    marker,
                    font=marker_font,
                    fill=self.c.accent,
                    anchor="lm",
                )
                first.paint(canvas, draw, top)

            pieces.append(Piece(first.height, paint, first.texts))
            pieces.extend(item_pieces[1:])
        if pieces:
            last = pieces[-1]
            pieces[-1] = Piece(last.height + self.gap - round(self.gap * 0.5), last.paint, last.texts)
        return pieces

    def quote(self, block: Quote) -> list[Piece]:
        pad = round(self.s.fonts.body_size * 0.8)
        pieces: list[Piece] = []
        for index, text in enumerate(block.paragraphs):
            last = index == len(block.paragraphs) - 1
            inner = self._text(
                text,
                indent=pad + 8,
                measure=self.measure - 2 * pad - 8,
                colour=self.c.heading,
                after=0,
            )
            for part_index, part in enumerate(inner):
                top_pad = pad if index == 0 and part_index == 0 else 0
                bottom_pad = pad if last and part_index == len(inner) - 1 else 0
                height = top_pad + part.height + bottom_pad

                def paint(
                    canvas: Image.Image,
                    draw: ImageDraw.ImageDraw,
                    top: int,
                    part: Piece = part,
                    top_pad: int = top_pad,
                    height: int = height,
                ) -> None:
                    draw.rectangle(
                        (self.s.margin, top, self.width - self.s.margin - 1, top + height - 1),
                        fill=self.c.quote_background,
                    )
                    draw.rectangle(
                        (self.s.margin, top, self.s.margin + 7, top + height - 1), fill=self.c.accent
                    )
                    part.paint(canvas, draw, top + top_pad)

                texts = tuple((layout, left, y + top_pad) for layout, left, y in part.texts)
                pieces.append(
                    Piece(height + (self.gap if last and part_index == len(inner) - 1 else 0), paint, texts)
                )
        return pieces

    def table(self, block: Table) -> list[Piece]:
        columns = max([len(block.header), *(len(r) for r in block.rows)], default=0)
        if columns == 0:
            return []
        pad = 14
        size = max(16, self.s.fonts.body_size - 6)
        f = font(self.s.fonts.body, size)
        line = round(size * 1.6)
        # Column widths follow how much each column holds, none below a sixth of its share.
        weights = [
            max(1, max((len(row[i]) if i < len(row) else 0) for row in (block.header, *block.rows)))
            for i in range(columns)
        ]
        # A column is at least as wide as its heading; what is left goes by how much each holds.
        floors = [
            int(f.getlength(block.header[i])) + 2 * pad + 4 if i < len(block.header) else 2 * pad + size
            for i in range(columns)
        ]
        spare = self.measure - sum(floors)
        if spare < 0:
            floors, spare = [self.measure // columns] * columns, 0
        widths = [floors[i] + int(spare * w / sum(weights)) for i, w in enumerate(weights)]
        widths[-1] = self.measure - sum(widths[:-1])
        pieces: list[Piece] = []
        rows = ([block.header] if block.header else []) + list(block.rows)
        for index, row in enumerate(rows):
            header = bool(block.header) and index == 0
            layouts = [
                typeset(row[i] if i < len(row) else "", f, max(8, widths[i] - 2 * pad), line)
                for i in range(columns)
            ]
            height = max(1, *(layout.height for layout in layouts)) + 2 * pad
            lefts = [self.s.margin + sum(widths[:i]) for i in range(columns)]
            last = index == len(rows) - 1

            def paint(
                canvas: Image.Image,
                draw: ImageDraw.ImageDraw,
                top: int,
                layouts: list[Layout] = layouts,
                lefts: list[int] = lefts,
                height: int = height,
                header: bool = header,
            ) -> None:
                right = self.s.margin + self.measure - 1
                if header:
                    draw.rectangle((self.s.margin, top, right, top + height), fill=self.c.table_header)
                draw.rectangle((self.s.margin, top, right, top + height), outline=self.c.table_rule, width=2)
                for i, layout in enumerate(layouts):
                    if i:
                        draw.line((lefts[i], top, lefts[i], top + height), fill=self.c.table_rule, width=2)
                    layout.draw(
                        canvas,
                        lefts[i] + pad,
                        top + pad,
                        self.c.heading if header else self.c.text,
                        stroke=int(header),
                    )

            texts = tuple((layout, lefts[i] + pad, pad) for i, layout in enumerate(layouts))
            pieces.append(Piece(height + (self.gap if last else 0), paint, texts))
        return pieces

    def picture(self, block: Picture, sheet: Sheet) -> list[Piece]:
        data = sheet.pictures.get(block.ref)
        if data is None:
            return []
        try:
            with Image.open(io.BytesIO(data)) as opened:
                image = opened.convert("RGBA")
        except (UnidentifiedImageError, OSError):
            return []
        scale = min(self.measure / image.width, 2.0)
        image = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
            Image.Resampling.LANCZOS,
        )
        left = self.s.margin + (self.measure - image.width) // 2
        caption = (
            self._text(block.alt, size=self.small_size, colour=self.c.muted, align="center")
            if block.alt
            else []
        )
        # Cut into strips when the image is cut into segments: a picture is no line of text, and
        # the segments are shown edge to edge, so a strip boundary is never seen.
        strip = PICTURE_STRIP if self._segment_height else image.height
        pieces = []
        for y in range(0, image.height, strip):
            band = image.crop((0, y, image.width, min(image.height, y + strip)))

            def paint(
                canvas: Image.Image, draw: ImageDraw.ImageDraw, top: int, band: Image.Image = band
            ) -> None:
                canvas.paste(band, (left, top), band)

            pieces.append(Piece(band.height, paint, photo=True))
        gap = round(self.gap * 0.4) if caption else self.gap
        last = pieces[-1]
        pieces[-1] = Piece(last.height + gap, last.paint, photo=True)
        return [*pieces, *caption]

    def rule(self) -> list[Piece]:
        def paint(canvas: Image.Image, draw: ImageDraw.ImageDraw, top: int) -> None:
            draw.line(
                (self.s.margin, top + self.gap // 2, self.width - self.s.margin, top + self.gap // 2),
                fill=self.c.table_rule,
                width=2,
            )

        return [Piece(self.gap, paint)]

    def qr(self, sheet: Sheet) -> list[Piece]:
        if not (self.s.qr and sheet.url):
            return []
        code = qr_image(sheet.url, 240)
        caption = self._text(
            self.s.qr_caption, size=self.small_size, colour=self.c.muted, align="center", after=self.gap
        )
        left = (self.width - code.width) // 2

        def paint(canvas: Image.Image, draw: ImageDraw.ImageDraw, top: int) -> None:
            canvas.paste(code, (left, top))

        return [Piece(round(self.gap * 0.5), _nothing), Piece(code.height + 8, paint), *caption]

    def footer(self, sheet: Sheet) -> list[Piece]:
        values = {"review": self.s.review_line, "source": self.s.source, **sheet.footer}
        lines = []
        for template_line in self.s.footer:
            text = template_line
            for key, value in values.items():
                text = text.replace("{" + key + "}", value)
            if "{" not in text and text.strip() and not text.rstrip().endswith("："):
                lines.append(text)

        def rule(canvas: Image.Image, draw: ImageDraw.ImageDraw, top: int) -> None:
            draw.line(
                (self.s.margin, top + 8, self.width - self.s.margin, top + 8), fill=self.c.table_rule, width=2
            )

        pieces = [Piece(24, rule)]
        for text in lines:
            pieces += self._text(
                text, size=self.small_size, colour=self.c.muted, after=0, line_height=self.small_line
            )
        return pieces

    def pieces(self, sheet: Sheet) -> list[Piece]:
        f = self.s.fonts
        out = self.banner(sheet)
        if not out:
            out.append(Piece(self.s.padding, _nothing))
        out += self._text(
            sheet.title,
            face=f.title,
            size=f.title_size,
            colour=self.c.heading,
            stroke=1,
            after=round(self.gap * 0.6),
            balance=True,
            line_height=round(f.title_size * 1.4),
        )
        if sheet.byline:
            out += self._text(
                sheet.byline, size=self.small_size, colour=self.c.muted, line_height=self.small_line
            )
        if sheet.summary:
            out += self.quote(Quote((sheet.summary,)))
        for block in sheet.blocks:
            out += self.block(block, sheet)
        out += self.qr(sheet)
        out += self.footer(sheet)
        out.append(Piece(self.s.padding, _nothing))
        return out

    def block(self, block: Block, sheet: Sheet) -> list[Piece]:
        match block:
            case Heading():
                return self.heading(block)
            case Paragraph():
                return self._text(block.text)
            case ListBlock():
                return self.list_items(block)
            case Quote():
                return self.quote(block)
            case Table():
                return self.table(block)
            case Picture():
                return self.picture(block, sheet)
            case Rule():
                return self.rule()
        return []

    # -- segments ----------------------------------------------------------------------------------
    def compose(self, sheet: Sheet, limits: SegmentLimits = SegmentLimits()) -> LongImage:
        self._segment_height = limits.max_height
        pieces = self.pieces(sheet)
        groups = _cut(pieces, limits.max_height)
        segments: list[Segment] = []
        placed: list[Placed] = []
        offset = 0
        for group in groups:
            for part in _encode_within(self, group, limits):
                segments.append(part[0])
            top = offset
            for piece in group:
                placed += [Placed(layout, left, top + y) for layout, left, y in piece.texts]
                top += piece.height
            offset = top
        return LongImage(self.width, offset, tuple(segments), tuple(placed))

    def place(self, sheet: Sheet, limits: SegmentLimits = SegmentLimits()) -> list[Placed]:
        """Where every line of the image stands, without painting it: the line list alone."""
        self._segment_height = limits.max_height
        placed, top = [], 0
        for piece in self.pieces(sheet):
            placed += [Placed(layout, left, top + y) for layout, left, y in piece.texts]
            top += piece.height
        return placed

    def paint(self, pieces: Sequence[Piece]) -> Image.Image:
        height = max(1, sum(p.height for p in pieces))
        canvas = Image.new("RGB", (self.width, height), self.c.background)
        draw = ImageDraw.Draw(canvas)
        top = 0
        for piece in pieces:
            piece.paint(canvas, draw, top)
            top += piece.height
        return canvas


def _nothing(canvas: Image.Image, draw: ImageDraw.ImageDraw, top: int) -> None:
    return None


def _painter(layout: Layout, left: int, fill: str, stroke: int, align: str) -> Paint:
    def paint(canvas: Image.Image, draw: ImageDraw.ImageDraw, top: int) -> None:
        layout.draw(canvas, left, top, fill, stroke=stroke, align=align)

    return paint


def _cut(pieces: list[Piece], max_height: int | None) -> list[list[Piece]]:
    """Pieces into groups no taller than max_height (a single taller piece stands alone)."""
    if not max_height:
        return [pieces]
    groups: list[list[Piece]] = [[]]
    height = 0
    for piece in pieces:
        if groups[-1] and height + piece.height > max_height:
            if piece.paint is _nothing:
                continue  # blank space at a cut: the segments meet edge to edge, it would show as a gap
            groups.append([])
            height = 0
        groups[-1].append(piece)
        height += piece.height
    return [group for group in groups if group]


def _encode_within(composer: Composer, group: list[Piece], limits: SegmentLimits) -> list[tuple[Segment]]:
    """One group as image bytes under the byte limit: JPEG quality steps down, then the group
    is halved between pieces, then (one piece alone) the image is scaled down."""
    canvas = composer.paint(group)
    if limits.format == "PNG" and not any(piece.photo for piece in group):
        # Type, rules and a QR code hold a few inks and their anti-aliased edges: a 256-colour
        # palette keeps them exact to the eye, and the PNG is a third the size and faster to write.
        # The palette is chosen from every third pixel (a quarter of the cost), then mapped whole.
        sample = canvas.resize(
            (max(1, canvas.width // 3), max(1, canvas.height // 3)), Image.Resampling.NEAREST
        )
        palette = sample.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        canvas = canvas.quantize(palette=palette, dither=Image.Dither.NONE)
    for quality in (90, 82, 74) if limits.format == "JPEG" else (0,):
        data = _encode(canvas, limits.format, quality)
        if limits.max_bytes is None or len(data) <= limits.max_bytes:
            return [(Segment(data, canvas.width, canvas.height, limits.format),)]
    if len(group) > 1:
        middle = len(group) // 2
        return _encode_within(composer, group[:middle], limits) + _encode_within(
            composer, group[middle:], limits
        )
    while True:
        size = (canvas.width * 3 // 4, canvas.height * 3 // 4)
        canvas = canvas.convert("RGB").resize(size, Image.Resampling.LANCZOS)
        data = _encode(canvas, limits.format, 74)
        if limits.max_bytes is None or len(data) <= limits.max_bytes or canvas.width < 64:
            return [(Segment(data, canvas.width, canvas.height, limits.format),)]


def _encode(canvas: Image.Image, fmt: ImageFormat, quality: int) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        canvas.save(out, "JPEG", quality=quality, subsampling=0)
    else:
        canvas.save(out, "PNG", compress_level=3)
    return out.getvalue()


def _banner_image(data: bytes | None, width: int, height: int) -> Image.Image | None:
    if data is None:
        return None
    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGB")
    scale = max(width / image.width, height / image.height)
    image = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))))
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return image.crop((left, top, left + width, top + height))
