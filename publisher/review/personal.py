"""Personal data in published text: resident identity numbers (身份证号, checked by their ISO 7064
checksum, so an 18-digit case number is not taken for one) and mainland mobile numbers.

Read through `normalize` (full-width digits fold to ASCII), line by line as written and as
rendered; the evidence shown is masked, so a report does not spread what it found.
"""

from __future__ import annotations

import re

from publisher.review.checks import Finding, Subject
from publisher.review.normalize import fold, rendered_blocks, shown_fields, source_view_text

_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)
_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9A-Za-z])")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_number_valid(number: str) -> bool:
    """The 18th character of a 身份证号 is the checksum of the first 17 (GB 11643)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == number[17].upper()


def mask(value: str) -> str:
    digits = value.replace("-", "").replace(" ", "")
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def masked_text(text: str) -> str:
    """The text with every 身份证号 (valid checksum) and mobile number masked, for anything shown
    beyond the staff who handle it: public excerpts, exports marked public, feedback reports.
    Numbers are found in the folded text, so full-width digits cannot carry one past the mask."""
    folded = fold(text)
    spans = [m.span() for m in _ID.finditer(folded) if id_number_valid(m.group())]
    spans += [m.span() for m in _MOBILE.finditer(folded)]
    # Folding keeps one character per character for digits and punctuation; where it did not,
    # the folded text is shown rather than risk a mask in the wrong place.
    out = list(text if len(folded) == len(text) else folded)
    for start, end in spans:
        positions = [i for i in range(start, end) if folded[i].isalnum()]
        for i in positions[3:-4]:  # as `mask`: the first three and the last four stay readable
            out[i] = "*"
    return "".join(out)


def check_personal(subject: Subject) -> list[Finding]:
    texts: list[tuple[int | None, str]] = [(None, fold(text)) for _, text in shown_fields(subject.meta)]
    texts += [(n, fold(source_view_text(line))) for n, line in enumerate(subject.body.split("\n"), 1)]
    texts += [(None, fold(block)) for block in rendered_blocks(subject.body)]
    seen: dict[tuple[str, str], int | None] = {}
    for line, text in texts:
        for match in _ID.finditer(text):
            if id_number_valid(match.group()):
                key = ("id-number", mask(match.group()))
                if seen.get(key) is None:
                    seen[key] = line
        for match in _MOBILE.finditer(text):
            key = ("mobile", mask(match.group()))
            if seen.get(key) is None:
                seen[key] = line
    said = {
        "id-number": "居民身份证号码 / a resident identity number",
        "mobile": "手机号码 / a mobile number",
    }
    return [
        Finding("personal", "block", code, f"公开文本中含有个人信息：{said[code]} {masked}", line)
        for (code, masked), line in seen.items()
    ]
