"""Which characters the fonts the install ships (Noto Sans SC and Noto Serif SC, from the pip
package `pylopdf-fonts-zh-cn`) can draw, read from their cmap tables: no Pillow here, so review's
check (review/checks.check_glyphs) and a delivery worker that loads it stay light. The faces are
named here; imaging/fonts.py opens them for drawing."""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from functools import cache
from pathlib import Path

import pylopdf_fonts_zh_cn


class Face(StrEnum):
    SANS = "sans"
    SERIF = "serif"


def font_path(face: Face) -> Path:
    return pylopdf_fonts_zh_cn.serif_path() if face == Face.SERIF else pylopdf_fonts_zh_cn.sans_path()


# Code points both faces cover (tests/test_bulletin.py checks every one against their cmaps): text
# made of these alone (nearly all Chinese prose) is answered without reading a cmap, so a review
# act in a fresh process pays nothing for the check.
COMMON_RANGES = ((0x20, 0x7E), (0x3000, 0x303F), (0x4E00, 0x9FEF), (0xFF01, 0xFF5E))


@cache
def _covered(face: Face) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # installed with fpdf2; the cmap is read once per face (50 ms)

    with TTFont(str(font_path(face)), lazy=True) as loaded:
        return frozenset(loaded.getBestCmap())


def _common(code: int) -> bool:
    return any(low <= code <= high for low, high in COMMON_RANGES)


def invisible(text: str) -> bool:
    """Whether the text prints as nothing: spaces (set as gaps) and format or control characters
    (U+200B zero width space, U+FEFF, a bidirectional mark)."""
    return all(char.isspace() or unicodedata.category(char) in ("Cf", "Cc") for char in text)


def missing_glyphs(text: str, face: Face) -> list[str]:
    """The characters of `text` the face has no glyph for, in order of first use: in print they
    would come out blank (a rare character of a name, 生僻字, outside the font's sets). Invisible
    characters are never missing."""
    seen: dict[str, None] = {}
    for char in text:
        code = ord(char)
        if code < 0x80 or _common(code) or char in seen or invisible(char):
            continue
        if code not in _covered(face):
            seen.setdefault(char)
    return list(seen)
