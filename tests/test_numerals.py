"""One reading of Chinese numerals (content/numerals.py) for clause headings and meeting claims."""

from __future__ import annotations

import pytest

from publisher.numerals import chinese_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("两百", 200),
        ("一百零三", 103),
        ("一百一十", 110),
        ("十七", 17),
        ("二十九", 29),
        ("一千零一", 1001),
        ("42", 42),
    ],
)
def test_numerals_as_legislative_texts_write_them(text: str, value: int) -> None:
    assert chinese_number(text) == value


@pytest.mark.parametrize("text", ["", "零", "二二十九", "一二", "十x", "第三"])
def test_a_garbled_numeral_is_refused_not_guessed(text: str) -> None:
    with pytest.raises(ValueError):
        chinese_number(text)
