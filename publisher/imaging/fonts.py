"""The fonts the images are set in: Noto Sans SC and Noto Serif SC (SIL OFL 1.1), shipped by the
pip package `pylopdf-fonts-zh-cn` with their licence. Never a system font, never a download: the
same install sets the same glyphs everywhere, which is what makes renders repeatable."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path

import pylopdf_fonts_zh_cn
from PIL import ImageFont, features


class Face(StrEnum):
    SANS = "sans"
    SERIF = "serif"


def font_path(face: Face) -> Path:
    return pylopdf_fonts_zh_cn.serif_path() if face == Face.SERIF else pylopdf_fonts_zh_cn.sans_path()


def layout_engine() -> ImageFont.Layout:
    """libraqm (shaping, kerning) when Pillow was built with it, else Pillow's basic layout."""
    return ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


@cache
def _covered(face: Face) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # installed with fpdf2; the cmap is read once per face (50 ms)

    with TTFont(str(font_path(face)), lazy=True) as loaded:
        return frozenset(loaded.getBestCmap())


def missing_glyphs(text: str, face: Face) -> list[str]:
    """The characters of `text` the face has no glyph for, in order of first use: in print they
    would come out blank (a rare character of a name, 生僻字, outside the font's sets). Spaces are
    never missing: the layout sets them as gaps."""
    covered = _covered(face)
    seen: dict[str, None] = {}
    for char in text:
        if not char.isspace() and ord(char) not in covered:
            seen.setdefault(char)
    return list(seen)


@cache
def font(face: Face, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(face)), size, layout_engine=layout_engine())
