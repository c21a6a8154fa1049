"""The clauses a consultation's comments may name, as stored from the draft's 第X条 headings."""

from __future__ import annotations

import json
from dataclasses import dataclass

from publisher.store.tables import Consultation

WHOLE = "全文 / 总体意见"  # a comment on the draft as a whole (clause None)


@dataclass(frozen=True, slots=True)
class Clause:
    key: str
    label: str  # 第三条
    heading: str = ""


def clauses(consultation: Consultation) -> list[Clause]:
    try:
        raw = json.loads(consultation.clauses_json or "[]")
    except ValueError:
        return []
    return [
        Clause(
            str(item.get("key", "")),
            str(item.get("label") or item.get("key", "")),
            str(item.get("heading", "")),
        )
        for item in raw
        if isinstance(item, dict) and item.get("key") is not None
    ]


def clause_label(consultation_clauses: list[Clause], key: str | None) -> str:
    """How a clause is named to staff and in exports: 第三条, or the whole draft."""
    if key is None:
        return WHOLE
    for clause in consultation_clauses:
        if clause.key == key:
            return clause.label
    return key
