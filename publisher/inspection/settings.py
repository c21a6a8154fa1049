"""review/inspection.toml: the inspection's rules and thresholds, validated like every settings file
(line-numbered, bilingual problems through `tomlproblems`).

The defaults here are the checklist's values, the same as the shipped file, so a newsroom without
the file is inspected by the checklist and one with it may change any value.
"""

from __future__ import annotations

import re
import tomllib
from enum import StrEnum
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from publisher.errors import ConfigError, Problem, display_path
from publisher.tomlproblems import TomlSource, did_you_mean, validation_problems

FILE = "inspection.toml"


class Severity(StrEnum):
    VETO = "veto"  # 单项否决: the site fails whatever its score
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    severity: Severity
    deduct: float = Field(default=0, ge=0, le=100)
    cap: float | None = Field(default=None, ge=0, le=100)  # most this rule takes off in all
    due_days: int = Field(default=7, ge=0, le=365)


def _rule(severity: Severity, deduct: float = 0, cap: float | None = None, due_days: int = 7) -> Rule:
    return Rule(severity=severity, deduct=deduct, cap=cap, due_days=due_days)


V, H, M, L = Severity.VETO, Severity.HIGH, Severity.MEDIUM, Severity.LOW
RULES: dict[str, Rule] = {
    "site.tampered": _rule(V, due_days=1),
    "site.injected": _rule(V, due_days=1),
    "site.missing": _rule(H, 2, 10, 1),
    "site.hidden-link": _rule(V, due_days=1),
    "site.retracted-live": _rule(V, due_days=1),
    "site.unreachable": _rule(V, due_days=1),
    "content.secrecy": _rule(V, due_days=1),
    "content.leader-name": _rule(V, due_days=1),
    "content.terminology": _rule(M, 1, 5, 7),
    "content.personal-data": _rule(H, 5, 20, 1),
    "content.backdated": _rule(V, due_days=3),
    "freshness.homepage": _rule(V, due_days=3),
    "freshness.column": _rule(M, 2, 10, 7),
    "freshness.columns": _rule(V, due_days=7),
    "freshness.blank-column": _rule(M, 2, 10, 7),
    "freshness.blank-columns": _rule(V, due_days=7),
    "wechat.stale": _rule(V, due_days=3),
    "wechat.foreign-post": _rule(V, due_days=1),
    "wechat.tampered": _rule(V, due_days=1),
    "wechat.retracted-live": _rule(V, due_days=1),
    "wechat.missing": _rule(H, 5, 20, 1),
    "wechat.unreachable": _rule(H, 5, 5, 1),
    "partner.retracted-live": _rule(V, due_days=1),
    "partner.unapproved": _rule(V, due_days=1),
    "partner.outdated": _rule(M, 1, 5, 3),
    "links.broken": _rule(M, 1, 10, 7),
    "meta.missing": _rule(L, 1, 5, 14),
    "a11y.issue": _rule(L, 0.5, 5, 30),
    "consultation.overdue": _rule(V, due_days=7),
}


class Freshness(_Strict):
    homepage_days: int = Field(default=14, ge=1)
    news_days: int = Field(default=14, ge=1)
    notice_days: int = Field(default=183, ge=1)
    stale_columns_veto: int = Field(default=5, ge=1)
    unupdated_columns_veto: int = Field(default=10, ge=1)
    blank_columns_veto: int = Field(default=5, ge=1)
    wechat_days: int = Field(default=14, ge=1)


class Backdate(_Strict):
    grace_hours: float = Field(default=72, ge=0)


class SiteRules(_Strict):
    allowed_domains: list[str] = []


class Links(_Strict):
    per_host: int = Field(default=2, ge=1, le=2)  # the checklist's politeness: never more than 2
    timeout_seconds: float = Field(default=15, gt=0, le=120)
    cache_hours: float = Field(default=24, ge=0)
    check_external: bool = True


class Uptime(_Strict):
    probes_per_day: int = Field(default=20, ge=1)
    timeout_seconds: float = Field(default=15, gt=0)
    failure_ratio: float = Field(default=0.05, gt=0, lt=1)
    days: int = Field(default=7, ge=1)


class Consultations(_Strict):
    # 留言办理: a valid comment unanswered this many months is a single veto (the checklist: 3).
    answer_months: int = Field(default=3, ge=1, le=24)


class InspectionSettings(_Strict):
    pass_mark: float = Field(default=60, ge=0, le=100)
    # A newsroom whose story is set at a fixed time (the demo copy `publisher demo` makes, a training
    # room) is judged as of that moment: its freshness and ages do not go stale with the calendar.
    # A real newsroom leaves it out and is judged by the clock.
    as_of: AwareDatetime | None = None
    freshness: Freshness = Freshness()
    backdate: Backdate = Backdate()
    site: SiteRules = SiteRules()
    links: Links = Links()
    uptime: Uptime = Uptime()
    consultation: Consultations = Consultations()
    rules: dict[str, Rule] = {}

    def rule(self, rule_id: str) -> Rule:
        return self.rules.get(rule_id) or RULES[rule_id]


def load_inspection(review_dir: Path, root: Path) -> InspectionSettings:
    """The file's settings over the checklist's defaults; every problem at once, with its line."""
    path = review_dir / FILE
    shown = display_path(path, root)
    if not path.is_file():
        return InspectionSettings()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise ConfigError(
            [Problem(shown, f"无法读取 / cannot read: {exc}", line=int(line.group(1)) if line else None)]
        ) from None
    source = TomlSource(shown, text)
    problems: list[Problem] = []
    try:
        settings = InspectionSettings.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, source, InspectionSettings)
        settings = InspectionSettings()
    for rule_id in (data.get("rules") or {}) if isinstance(data.get("rules"), dict) else {}:
        if rule_id not in RULES:
            problems.append(
                source.problem(
                    f"未知的检查规则 / unknown rule {rule_id!r}{did_you_mean(rule_id, RULES)}",
                    ("rules", rule_id),
                )
            )
    if problems:
        raise ConfigError(problems)
    return settings
