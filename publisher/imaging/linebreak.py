"""Where a line of Chinese text may break: the one home of 避头尾 (kinsoku) and phrase keeping.

BudouX proposes phrase boundaries; a boundary is kept only where no rule forbids it:
- 避头 no line starts with closing punctuation (，。、；：！？）》」』 …);
- 避尾 no line ends with opening punctuation (（《「『 …);
- a Latin word or a number is never cut (BudouX cuts "Python" into "Py" + "thon");
- ——, …… stay whole.
`autospace` puts a quarter em (U+2005) between Chinese and Latin letters or digits, as CSS's
text-autospace does, so "第3次" reads 第 3 次 instead of crowding the digit.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import budoux

# Closing punctuation and marks that belong to what precedes them.
NO_LINE_START = frozenset(
    "，。、；：！？）》」』】〕〉〗〙〛｝］”’…‥·・～%‰℃°,.;:!?)]}>»›"
    "ヽヾゝゞ々〻ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)
# Opening punctuation that belongs to what follows it.
NO_LINE_END = frozenset("（《「『【〔〈〖〘〚｛［“‘([{<«‹")
# Marks written doubled as one unit.
INSEPARABLE = frozenset("—…")
# U+2005 FOUR-PER-EM SPACE: the gap between Chinese and Latin or digits.
AUTOSPACE = "\u2005"
BREAKABLE_SPACES = frozenset(" \u2005")

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = r"A-Za-z0-9"
_CJK_THEN_WORD = re.compile(rf"([{_CJK}])([{_WORD}])")
_WORD_THEN_CJK = re.compile(rf"([{_WORD}%])([{_CJK}])")
_WORD_CHAR = re.compile(r"[A-Za-z0-9\-_/.'@#&+=%]")


def autospace(text: str) -> str:
    text = _CJK_THEN_WORD.sub(rf"\1{AUTOSPACE}\2", text)
    return _WORD_THEN_CJK.sub(rf"\1{AUTOSPACE}\2", text)


@cache
def _parser() -> budoux.Parser:
    return budoux.load_default_simplified_chinese_parser()


def may_break(text: str, at: int) -> bool:
    """Whether a line may end before text[at] (between text[at - 1] and text[at])."""
    if at <= 0 or at >= len(text):
        return False
    before, after = text[at - 1], text[at]
    if after in NO_LINE_START or before in NO_LINE_END:
        return False
    if before in INSEPARABLE and after == before:
        return False
    if after in BREAKABLE_SPACES:  # break after the space, never leave one to start a line
        return False
    if before in BREAKABLE_SPACES:
        return True
    return not (_WORD_CHAR.match(before) and _WORD_CHAR.match(after))


@lru_cache(maxsize=4096)
def phrase_breaks(text: str) -> tuple[int, ...]:
    """Positions where a line may end and keep phrases whole: BudouX's boundaries that may_break
    allows. Remembered: a title is set at several sizes and widths before it fits."""
    positions: list[int] = []
    at = 0
    for phrase in _parser().parse(text):
        at += len(phrase)
        if may_break(text, at):
            positions.append(at)
        # Spaces inside a phrase (between Latin words) are break points too.
    for index, char in enumerate(text):
        if char in BREAKABLE_SPACES and may_break(text, index + 1):
            positions.append(index + 1)
    return tuple(sorted(set(positions)))


def char_breaks(text: str, start: int, end: int) -> list[int]:
    """Every allowed position in text[start:end]: the fallback when a phrase is wider than a line."""
    return [at for at in range(start + 1, end) if may_break(text, at)]
