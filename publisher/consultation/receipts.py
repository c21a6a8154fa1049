"""Receipt numbers (受理编号) and contacts as a commenter writes them.

A receipt reads like `ZQ-2026-7K3F-9Q2M`: the year it was received (Asia/Shanghai) and 40 random
bits in Crockford's base 32 (no I, L, O, U: nothing to misread on the phone). A look-up needs the
receipt and the contact it was sent with, so the number alone reveals nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_RE = re.compile(r"^ZQ-\d{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")
_PHONE_NOISE = re.compile(r"[\s\-()（）]")


def new_receipt(now: datetime, tz: ZoneInfo) -> str:
    # 8 characters of a 32-letter alphabet are 40 random bits: one read of 5 bytes, not one per
    # character (uniform, as 32 is a power of two).
    bits = int.from_bytes(secrets.token_bytes(5), "big")
    code = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(8))
    return f"ZQ-{now.astimezone(tz).year}-{code[:4]}-{code[4:]}"


def normal_receipt(text: str) -> str:
    """As typed: lower case, spaces, O for 0 and I/L for 1 are forgiven."""
    folded = text.strip().upper().replace(" ", "")
    head, _, rest = folded.partition("-")
    rest = rest.translate(str.maketrans("OIL", "011"))
    return f"{head}-{rest}" if rest else folded


@dataclass(frozen=True, slots=True)
class Contact:
    kind: str  # phone | email
    value: str  # as normalised: what is stored
    hash: str  # what rate limits and look-ups compare

    @staticmethod
    def read(text: str) -> Contact | None:
        """A phone number (mainland mobile or landline, +86 allowed) or an e-mail; None if neither."""
        raw = text.strip()
        if "@" in raw:
            if not _EMAIL.match(raw):
                return None
            value = raw.lower()
            kind = "email"
        else:
            digits = _PHONE_NOISE.sub(
                "", raw.translate(str.maketrans("０１２３４５６７８９＋", "0123456789+"))
            )
            digits = digits.removeprefix("+86").removeprefix("0086")
            if not digits.isdigit() or not 7 <= len(digits) <= 12:
                return None
            value = digits
            kind = "phone"
        return Contact(kind, value, hashlib.sha256(f"contact\0{value}".encode()).hexdigest())
