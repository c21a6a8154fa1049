"""ASCII slugs from Chinese titles, by pinyin."""

from __future__ import annotations

import re
import unicodedata

MAX_SLUG = 80


def slugify(title: str, limit: int = MAX_SLUG) -> str:
    """`江澜市养老服务条例施行` -> `jiang-lan-shi-yang-lao-fu-wu-tiao-li-shi-xing`, cut on a word boundary."""
    # Loaded here: pypinyin's phrase dictionary takes a fifth of a second to import, and most
    # articles name their slug (every command would pay for it otherwise).
    from pypinyin import Style, lazy_pinyin

    words: list[str] = []
    for piece in lazy_pinyin(title, style=Style.NORMAL, errors=lambda chars: chars):
        ascii_piece = unicodedata.normalize("NFKD", piece).encode("ascii", "ignore").decode().lower()
        words.extend(w for w in re.split(r"[^a-z0-9]+", ascii_piece) if w)
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or "article"
