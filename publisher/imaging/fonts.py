"""The fonts the images are set in: Noto Sans SC and Noto Serif SC (SIL OFL 1.1), shipped by the
pip package `pylopdf-fonts-zh-cn` with their licence. Never a system font, never a download: the
same install sets the same glyphs everywhere, which is what makes renders repeatable."""

from __future__ import annotations

from functools import cache

from PIL import ImageFont, features

# The faces are named, and what they can draw is read, without Pillow (imaging/glyphs.py).
from publisher.imaging.glyphs import Face, font_path

__all__ = ["Face", "font", "font_path", "layout_engine"]


def layout_engine() -> ImageFont.Layout:
    """libraqm (shaping, kerning) when Pillow was built with it, else Pillow's basic layout."""
    return ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


@cache
def font(face: Face, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(face)), size, layout_engine=layout_engine())
