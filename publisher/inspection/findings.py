"""What an inspection finds and how it scores: findings with rule, location, evidence and due date;
the score as the checklist gives it (deductions from 100, single-veto items fail the site)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from publisher.inspection.settings import InspectionSettings, Severity


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str  # a key of settings.RULES
    location: str  # a URL, a file of the release, or a channel item ("wechat:<article id>")
    message: str  # bilingual: what is wrong
    evidence: str = ""
    line: int | None = None
    channel: str = ""

    @property
    def key(self) -> str:
        """Stable across runs: the same problem at the same place is the same finding."""
        text = "\0".join((self.rule, self.channel, self.location, str(self.line or ""), self.evidence))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Scored:
    finding: Finding
    severity: Severity
    deduct: float
    due: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self.finding),
            "key": self.finding.key,
            "severity": self.severity.value,
            "deduct": self.deduct,
            "due": self.due.isoformat(),
        }


@dataclass
class Report:
    started_at: datetime
    findings: list[Scored] = field(default_factory=list)
    score: float = 100.0
    vetoes: int = 0
    passed: bool = True
    checked: dict[str, int] = field(default_factory=dict)  # what was looked at: pages, links, ...
    # The moment the rules judged against when it is not the run's own (inspection.toml `as_of`).
    as_of: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "score": self.score,
            "vetoes": self.vetoes,
            "passed": self.passed,
            "checked": dict(self.checked),
            "findings": [s.as_dict() for s in self.findings],
        }

    def rules(self) -> set[str]:
        return {s.finding.rule for s in self.findings}


def score(findings: list[Finding], settings: InspectionSettings, now: datetime) -> Report:
    """Deductions per rule (each capped), vetoes counted; the site passes with no veto and a score
    at or above the pass mark."""
    report = Report(started_at=now)
    taken: dict[str, float] = defaultdict(float)
    unique = list(dict.fromkeys(findings))
    for finding in unique:
        rule = settings.rule(finding.rule)
        room = rule.deduct if rule.cap is None else max(0.0, min(rule.deduct, rule.cap - taken[finding.rule]))
        taken[finding.rule] += room
        report.findings.append(Scored(finding, rule.severity, room, now + timedelta(days=rule.due_days)))
        if rule.severity is Severity.VETO:
            report.vetoes += 1
    order = list(Severity)
    report.findings.sort(key=lambda s: (order.index(s.severity), s.finding.rule, s.finding.location))
    report.score = max(0.0, round(100.0 - sum(taken.values()), 1))
    report.passed = report.vetoes == 0 and report.score >= settings.pass_mark
    return report
