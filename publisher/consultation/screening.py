"""Screening a comment with the newsroom's own checks: secrecy markings, terminology and personal
data (身份证号 by checksum, mobile numbers). Findings are stored with the comment for handling
staff; they never block a citizen's comment. Anything shown beyond the handling staff goes through
`publisher.review.personal.masked_text`, the one masking rule."""

from __future__ import annotations

import json
from dataclasses import dataclass

from publisher.review.checks import SecrecyList, Subject, TermList, check_secrecy, check_terms
from publisher.review.personal import check_personal, masked_text


@dataclass(frozen=True, slots=True)
class Screener:
    secrecy: SecrecyList
    terms: TermList

    def screen(self, text: str) -> list[dict[str, object]]:
        # The checks read a text as written and as rendered: a marking split by emphasis in a
        # comment is still found.
        subject = Subject(meta={}, body=text)
        findings = (
            check_secrecy(subject, self.secrecy) + check_terms(subject, self.terms) + check_personal(subject)
        )
        return [
            {"check": f.check, "severity": f.severity, "code": f.code, "message": f.message, "line": f.line}
            for f in findings
        ]

    def screening_json(self, text: str) -> str:
        return json.dumps(self.screen(text), ensure_ascii=False, separators=(",", ":"))


def public_text(text: str) -> str:
    """A comment's text as shown beyond the staff who handle it."""
    return masked_text(text)
