"""The normalisation's quick tests (skip NFKC when the text is NFKC already, skip a substitution
when nothing it removes is there) change no result: every view equals the plain definition on
text built from the characters evasions use."""

from __future__ import annotations

import html
import random
import re
import unicodedata

from publisher.review import normalize
from publisher.review.normalize import STAR, STARS, fold, fold_stars, mark_views


def plain_fold(text: str) -> str:
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        text = normalize._FORMAT_CHARS.sub("", unicodedata.normalize("NFKC", text))
    return normalize._SPACE_BETWEEN_CJK.sub("", text)


def plain_fold_stars(text: str) -> str:
    starred = normalize._STAR_RUN.sub(lambda m: STAR * len(m.group()), plain_fold(text))
    return normalize._SPACE_BETWEEN_MARK_CHARS.sub("", starred)


def plain_mark_views(text: str) -> tuple[str, ...]:
    starred = plain_fold_stars(text)
    joined = normalize._STARS_BETWEEN_CJK.sub("", starred)
    return (starred,) if joined == starred else (starred, joined)


def format_characters() -> list[str]:
    found: list[str] = []
    for piece in re.findall(r"\\[uU]([0-9a-f]+)(?:-\\[uU]([0-9a-f]+))?", normalize.FORMAT_CHARS):
        first = int(piece[0], 16)
        last = int(piece[1], 16) if piece[1] else first
        found.extend(chr(c) for c in range(first, min(last, first + 3) + 1))
    return found


ALPHABET = (
    list("机密秘绝内部资料注意保存公开人大常委会𠮷𡈽")  # CJK, two outside the BMP
    + list("，。、：；！？（）【】“”　")  # full-width punctuation and the ideographic space
    + list("ＡＢ１２＊﹡＿～")  # full-width forms NFKC folds
    + list("ab12 *_~&#;\t\n\u00a0\u2009")  # ASCII, spaces of several kinds
    + list(STARS)  # every star-like character, the supplementary ones included
    + format_characters()
    + ["\u0301", "\u0308", "e\u0301", "\u1100\u1161", "&#x2605;", "&amp;", "&#26426;", "ｶﾞ", "㍿", "①"]
)


def test_every_view_is_the_plain_definition_on_evasive_text() -> None:
    rng = random.Random(20261201)
    for _ in range(4000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 24)))
        assert fold(text) == plain_fold(text), ascii(text)
        assert fold_stars(text) == plain_fold_stars(text), ascii(text)
        assert mark_views(text) == plain_mark_views(text), ascii(text)


def test_plain_chinese_prose_takes_the_quick_path_and_is_still_folded() -> None:
    line = "市人大常委会召开第二十九次会议，审议《江澜市物业管理条例（草案）》。"
    assert fold(line) == plain_fold(line) == unicodedata.normalize("NFKC", line)
    assert mark_views("机 密 ★ 一 年") == plain_mark_views("机 密 ★ 一 年")
    assert mark_views("机＊密＊") == ("机★密★", "机密★")
