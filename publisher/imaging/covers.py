"""Covers and share cards for an article without a cover of its own, from its title and its
column's branding (the column's long-image template): WeChat's cover sheet (the 2.35:1 headline
banner and the 1:1 square, designed apart and laid one above the other, with the crop of each)
and the website's Open Graph image (1200x630).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageColor, ImageDraw

from publisher.imaging.fonts import font
from publisher.imaging.template import Template
from publisher.imaging.typeset import Layout, balanced, typeset

OG_SIZE = (1200, 630)
BANNER_SIZE = (900, 383)  # 2.35:1
SQUARE = 383
# A card has two inks, the banner and its text: it is drawn as the text's coverage of the banner
# (an "L" image, 0 the banner, 255 the text), quantised to LEVELS steps, and saved with a palette
# blending the two colours. Drawn in RGB and quantised by Pillow's octree it came out the same to
# the eye and cost twice the time (a site build draws one per article).
GROUND, INK = 0, 255
LEVELS = 16


@dataclass(frozen=True, slots=True)
class Card:
    data: bytes  # PNG
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class CoverSheet:
    """One image holding both WeChat covers, and where each is: WeChat's "x1_y1_x2_y2" crops."""

    card: Card
    crops: dict[str, str]


def _fitted(title: str, template: Template, measure: int, largest: int, max_lines: int) -> Layout:
    """The title at the largest size (stepping down) that fits in max_lines; cut with … if none does."""
    face = template.settings.fonts.title
    size = largest
    while True:
        f = font(face, size)
        layout = balanced(title, f, measure, round(size * 1.35))
        if len(layout.lines) <= max_lines or size <= 24:
            break
        size -= 4
    if len(layout.lines) > max_lines:
        kept = "".join(line.text for line in layout.lines[:max_lines])
        while kept:
            kept = kept[:-1]
            layout = typeset(kept + "…", f, measure, round(size * 1.35), justify=False)
            if len(layout.lines) <= max_lines:
                break
    return layout


def _panel(
    canvas: Image.Image,
    template: Template,
    box: tuple[int, int, int, int],
    title: str,
    column: str,
    footer: str,
    *,
    largest: int,
    max_lines: int,
) -> None:
    """Draws on a coverage canvas ("L", see GROUND and INK)."""
    left, top, right, bottom = box
    draw = ImageDraw.Draw(canvas)
    width, height = right - left, bottom - top
    margin = max(24, width // 14)
    draw.rectangle((left, top, right - 1, bottom - 1), fill=GROUND)
    small_size = max(18, height // 14)
    small = font(template.settings.fonts.body, small_size)
    draw.text((left + margin, top + margin), column, font=small, fill=INK, anchor="lt")
    rule_y = top + margin + small_size + 14
    draw.rectangle((left + margin, rule_y, left + margin + 64, rule_y + 5), fill=INK)
    layout = _fitted(title, template, width - 2 * margin, largest, max_lines)
    text_top = top + (height - layout.height) // 2 + small_size // 2
    layout.draw(canvas, left + margin, text_top, INK, stroke=1)
    if footer:
        draw.text((left + margin, bottom - margin), footer, font=small, fill=INK, anchor="lb")


def _png(coverage: Image.Image, template: Template) -> Card:
    """The coverage canvas in the template's two colours, as a PNG with a palette of LEVELS."""
    c = template.settings.colours
    ground, ink = ImageColor.getrgb(c.banner)[:3], ImageColor.getrgb(c.banner_text)[:3]
    step = (INK - GROUND) / (LEVELS - 1)
    levels = coverage.point([round((v - GROUND) / step) for v in range(256)])
    palette = [
        round(g + (k - g) * n / (LEVELS - 1)) for n in range(LEVELS) for g, k in zip(ground, ink, strict=True)
    ]
    flat = Image.frombytes("P", coverage.size, levels.tobytes())
    flat.putpalette(palette)
    out = io.BytesIO()
    # zlib's "optimize" pass would cost ten times the drawing.
    flat.save(out, "PNG", compress_level=6)
    return Card(out.getvalue(), coverage.width, coverage.height)


def og_image(title: str, column: str, site: str, template: Template) -> Card:
    image = Image.new("L", OG_SIZE, GROUND)
    _panel(image, template, (0, 0, *OG_SIZE), title, column, site, largest=68, max_lines=3)
    return _png(image, template)


def wechat_cover(title: str, column: str, site: str, template: Template) -> CoverSheet:
    width, banner_height = BANNER_SIZE
    image = Image.new("L", (width, banner_height + SQUARE), GROUND)
    _panel(image, template, (0, 0, width, banner_height), title, column, site, largest=54, max_lines=2)
    _panel(
        image,
        template,
        (0, banner_height, SQUARE, banner_height + SQUARE),
        title,
        column,
        "",
        largest=40,
        max_lines=4,
    )
    total = banner_height + SQUARE
    crops = {
        "pic_crop_235_1": f"0_0_1_{_fraction(banner_height / total)}",
        "pic_crop_1_1": f"0_{_fraction(banner_height / total)}_{_fraction(SQUARE / width)}_1",
    }
    return CoverSheet(_png(image, template), crops)


def _fraction(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"
