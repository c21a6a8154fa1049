"""A QR code to the article's address (segno), as a Pillow image of whole modules."""

from __future__ import annotations

import segno
from PIL import Image, ImageOps


def qr_image(url: str, size: int, *, dark: str = "#000000", light: str = "#ffffff") -> Image.Image:
    """The code at a whole number of pixels per module (sharp edges decode best), at most `size`
    wide when it can be, with the quiet zone of four modules the standard asks for."""
    code = segno.make(url, error="m", micro=False)
    rows = [list(row) for row in code.matrix_iter(scale=1, border=4)]
    modules = len(rows)
    grey = Image.new("L", (modules, modules), 255)
    grey.putdata([0 if cell else 255 for row in rows for cell in row])
    scale = max(1, size // modules)
    grey = grey.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)
    return ImageOps.colorize(grey, black=dark, white=light)
