"""Text set into lines of a fixed measure: the layout exposes its line list, so tests (and the
composer) can read exactly what each line holds and where it stands.

Greedy filling over the break positions of `linebreak`: a line takes the most phrases that fit;
a phrase wider than the whole measure is cut at the allowed character positions; only a run with
no allowed position at all (a line's worth of closing punctuation) is cut where it must be. No
line is ever wider than its measure.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageColor, ImageDraw, ImageFont

from publisher.imaging.linebreak import BREAKABLE_SPACES, autospace, char_breaks, phrase_breaks

_SPACES = "".join(BREAKABLE_SPACES)
_SPACE_IN_CHINESE = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")
_RUNS_OF_SPACE = re.compile(r"[ \t\r\n]+")
# What justification moves as one: a Latin word or number, or a single character.
_UNITS = re.compile(r"[A-Za-z0-9.,'%-]+|.")


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    x: int  # from the left of the measure (a first-line indent)
    y: int  # top of the line box, from the top of the layout
    width: float  # advance of the set text
    justify: bool = False  # spread to the full measure (every line of a paragraph but its last)


@dataclass(frozen=True, slots=True)
class Layout:
    lines: tuple[Line, ...]
    measure: int
    line_height: int
    font: ImageFont.FreeTypeFont

    @property
    def height(self) -> int:
        return len(self.lines) * self.line_height

    def overflows(self) -> list[Line]:
        """Lines that would cross the right margin: always empty, and tests hold it to that."""
        return [line for line in self.lines if line.x + line.width > self.measure + 0.5]

    def spread(self, line: Line) -> list[tuple[str, float]] | None:
        """A justified line's units (a Latin word or number, or one character) and where each
        starts, from the line's left edge; None: the line is set as one run. Chinese text is set
        flush on both sides, the slack shared by every gap alike, unless the gaps would gape
        (more than 0.3 em each: a last line, or a line cut before a long word)."""
        if not line.justify:
            return None
        units = _UNITS.findall(line.text)
        slack = self.measure - line.x - line.width
        if len(units) < 2 or not 0 < slack <= self.font.size * 0.3 * (len(units) - 1):
            return None
        extra, at, placed = slack / (len(units) - 1), 0.0, []
        for unit in units:
            placed.append((unit, at))
            at += _advance(self.font, unit) + extra
        return placed

    def draw(
        self,
        canvas: Image.Image,
        left: int,
        top: int,
        fill: str | int,
        *,
        stroke: int = 0,
        align: str = "left",
    ) -> None:
        """`fill`: a colour on an RGB canvas, or a grey level on an "L" one."""
        draw = ImageDraw.Draw(canvas)
        ascent, descent = self.font.getmetrics()
        baseline = (self.line_height - (ascent + descent)) // 2 + ascent
        ink = fill if isinstance(fill, int) else ImageColor.getrgb(fill)
        for line in self.lines:
            x = left + line.x
            if align == "center":
                x = left + int((self.measure - line.width) / 2)
            y = top + line.y + baseline
            spread = self.spread(line)
            if spread is not None:
                # Each unit is pasted from a cached mask: a thousand lines reuse a few hundred glyphs.
                for unit, offset in spread:
                    mask, dx, dy, _ = _glyph(self.font, unit, stroke)
                    if mask is not None:
                        box = (round(x + offset) + dx, y + dy)
                        canvas.paste(ink, (*box, box[0] + mask.width, box[1] + mask.height), mask)
                continue
            draw.text(
                (x, y),
                line.text,
                font=self.font,
                fill=fill,
                anchor="ls",
                stroke_width=stroke,
                stroke_fill=fill,
            )


@lru_cache(maxsize=8192)
def _advance(font: ImageFont.FreeTypeFont, unit: str) -> float:
    return float(font.getlength(unit))


@lru_cache(maxsize=8192)
def _glyph(
    font: ImageFont.FreeTypeFont, unit: str, stroke: int
) -> tuple[Image.Image | None, int, int, float]:
    """A unit of text as a mask, its offset from the pen on the baseline, and its advance."""
    advance = _advance(font, unit)
    left, top, right, bottom = (int(v) for v in font.getbbox(unit, anchor="ls", stroke_width=stroke))
    if right <= left or bottom <= top:
        return None, 0, 0, advance
    mask = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).text(
        (-left, -top), unit, font=font, fill=255, anchor="ls", stroke_width=stroke, stroke_fill=255
    )
    return mask, left, top, advance


def clean(text: str) -> str:
    """One paragraph's text: runs of whitespace (Markdown's soft line ends) become one space,
    and none between two Chinese characters, where a line end in the source means nothing."""
    text = _RUNS_OF_SPACE.sub(" ", text).strip()
    return _SPACE_IN_CHINESE.sub("", text)


def typeset(
    text: str,
    font: ImageFont.FreeTypeFont,
    measure: int,
    line_height: int,
    *,
    first_indent: int = 0,
    justify: bool = True,
    phrase_slack: float | None = 1.5,
) -> Layout:
    """`phrase_slack`: the most room, in ems, a line may leave empty to keep the next phrase whole;
    past it the phrase is cut at an allowed character (避头尾 still holds), as running Chinese
    text is, so a justified line never gapes. None keeps every phrase whole (titles)."""
    text = autospace(clean(text))
    breaks = list(phrase_breaks(text))
    if not breaks or breaks[-1] != len(text):
        breaks.append(len(text))

    def width(start: int, end: int) -> float:
        return float(font.getlength(text[start:end].rstrip(_SPACES)))

    lines: list[Line] = []
    start, y = 0, 0
    while start < len(text):
        indent = first_indent if not lines else 0
        room = measure - indent
        candidates = breaks[bisect.bisect_right(breaks, start) :]
        end = _farthest(candidates, start, room, width)
        if end is None:  # the next phrase alone is wider than the line: cut it by characters
            inside = [*char_breaks(text, start, candidates[0]), candidates[0]]
            end = _farthest(inside, start, room, width)
        elif (
            phrase_slack is not None
            and end < len(text)
            and room - width(start, end) > phrase_slack * font.size
        ):
            following = breaks[bisect.bisect_right(breaks, end)]
            end = _farthest(char_breaks(text, end, following), start, room, width) or end
        if end is None:  # not one allowed position fits: cut where the measure ends
            end = start + 1
            while end < len(text) and width(start, end + 1) <= room:
                end += 1
        set_text = text[start:end].strip(_SPACES)
        lines.append(
            Line(set_text, indent, y, float(font.getlength(set_text)), justify=justify and end < len(text))
        )
        y += line_height
        start = end
        while start < len(text) and text[start] in BREAKABLE_SPACES:
            start += 1
    return Layout(tuple(lines), measure, line_height, font)


def balanced(text: str, font: ImageFont.FreeTypeFont, measure: int, line_height: int) -> Layout:
    """A title's lines evened out: the narrowest measure that still takes no more lines, so the
    last line is not one lonely character."""
    layout = typeset(text, font, measure, line_height, justify=False, phrase_slack=None)
    if len(layout.lines) < 2:
        return layout
    low, high = measure // 2, measure
    while high - low > 8:
        middle = (low + high) // 2
        if len(typeset(text, font, middle, line_height, justify=False, phrase_slack=None).lines) <= len(
            layout.lines
        ):
            high = middle
        else:
            low = middle
    lines = typeset(text, font, high, line_height, justify=False, phrase_slack=None).lines
    return Layout(lines, measure, line_height, font)


def _farthest(positions: list[int], start: int, room: int, width: Callable[[int, int], float]) -> int | None:
    """The last end position whose line fits the room, by bisection (width grows with the end)."""
    low, high, found = 0, len(positions) - 1, None
    while low <= high:
        middle = (low + high) // 2
        if width(start, positions[middle]) <= room:
            found = positions[middle]
            low = middle + 1
        else:
            high = middle - 1
    return found
