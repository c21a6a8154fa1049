"""Typeset pages into a print-ready PDF with fpdf2: the items drawn where bulletin/pages.py put them.

Printers refuse files whose fonts are not embedded: Noto Serif SC and Noto Sans SC (the fonts the
long images use, shipped with the install) are embedded as subsets of the glyphs the issue uses,
with their Unicode map, so text can be searched and copied. The bytes depend only on the pages
and the metadata given here (the creation date is the issue's date, not the clock), so building
an unchanged issue again gives the same file and the same hash.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import ImageColor

from publisher.bulletin.pages import Page, Picture, Run, Stroke
from publisher.imaging.fonts import Face, font_path


@dataclass(frozen=True, slots=True)
class Metadata:
    title: str
    author: str
    subject: str
    created: datetime  # timezone-aware


def _rgb(colour: str) -> tuple[int, int, int]:
    red, green, blue = ImageColor.getrgb(colour)[:3]
    return red, green, blue


def write_pdf(pages: list[Page], size: tuple[float, float], meta: Metadata) -> bytes:
    from fpdf import FPDF  # imported here: only a build of an issue pays for it

    pdf: Any = FPDF(unit="pt", format=size)
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_creation_date(meta.created)
    pdf.set_title(meta.title)
    pdf.set_author(meta.author)
    pdf.set_subject(meta.subject)
    pdf.set_creator("publisher")
    pdf.set_producer("publisher")
    pdf.set_lang("zh-CN")
    for face in Face:
        pdf.add_font(face.value, fname=str(font_path(face)))
    for page in pages:
        pdf.add_page()
        for level, title, y in page.marks:
            pdf.set_y(y)
            pdf.start_section(title, level=level)
        for item in page.items:
            match item:
                case Run():
                    pdf.set_font(item.face.value, size=item.size)
                    pdf.set_text_color(*_rgb(item.colour))
                    pdf.text(item.x, item.y, item.text)
                case Stroke():
                    pdf.set_draw_color(*_rgb(item.colour))
                    pdf.set_line_width(item.width)
                    pdf.line(item.x1, item.y1, item.x2, item.y2)
                case Picture():
                    pdf.image(io.BytesIO(item.data), x=item.x, y=item.y, w=item.width, h=item.height)
    return bytes(pdf.output())
