"""Chinese numerals as legislative and meeting texts write them: 第一百零三条, 第十六届, 第三十次.

One reading for every rule that counts in Chinese (clause headings, meeting claims), so the
consultation's 第X条 and the meeting check's 届/次 cannot disagree on what a numeral says.
"""

from __future__ import annotations

DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
UNITS = {"十": 10, "百": 100, "千": 1000}
# The characters a numeral may use, for patterns that find one inside a sentence or heading.
NUMERAL_CHARS = "".join(DIGITS) + "".join(UNITS)


def chinese_number(text: str) -> int:
    """一百二十三 -> 123, 十二 -> 12, 两 -> 2; ASCII digits pass through. A malformed numeral (two
    digits in a row other than after 零, a unit without a value, nothing at all) raises ValueError:
    a rule that reads one decides what an unreadable numeral means for it."""
    if text.isdigit():
        return int(text)
    total, digit = 0, None
    for char in text:
        if char in DIGITS:
            if digit is not None and digit != 0:
                raise ValueError(text)
            digit = DIGITS[char]
        elif char in UNITS:
            total += (1 if digit is None else digit) * UNITS[char]
            digit = None
        else:
            raise ValueError(text)
    total += digit or 0
    if total <= 0:
        raise ValueError(text)
    return total
