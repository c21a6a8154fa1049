"""The staffing check: which stages of the configured chain the active staff cannot complete.

One person signs one stage of a revision and nobody signs their own piece (`workflow.refusal_to_sign`),
so a chain of three proofreading passes needs three different proofreaders, a committee stage needs
a reviewer of that committee, and a role only one person holds stops at that person's own articles.
`publisher doctor` and the console's user page both ask this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from publisher.config import ReviewStage
from publisher.review.users import committees_of, roles_of
from publisher.store.tables import StaffUser


class Severity(StrEnum):
    BLOCKING = "blocking"  # some article cannot be approved at all
    WARNING = "warning"  # articles of one kind (a committee's) stop at a stage
    RISK = "risk"  # it works until one person is the author, away or leaves


class Shortage(StrEnum):
    TOO_FEW_PEOPLE = "too_few_people"
    NO_COMMITTEE_REVIEWER = "no_committee_reviewer"
    SINGLE_HOLDER = "single_holder"


@dataclass(frozen=True, slots=True)
class Person:
    """Who may sign: a stored user, or a `[[users]]` entry not yet synced."""

    username: str
    roles: frozenset[str]
    committees: frozenset[str]


@dataclass(frozen=True, slots=True)
class StaffingFinding:
    shortage: Shortage
    severity: Severity
    stages: tuple[str, ...]  # the names of the stages concerned
    message: str  # Chinese / English


def person_of(user: StaffUser) -> Person:
    return Person(user.username, frozenset(roles_of(user)), frozenset(committees_of(user)))


def _chains(stages: Sequence[ReviewStage]) -> list[tuple[str, list[str]]]:
    """The roles of the longest chain, and of its sensitive form when a stage changes role for it."""
    plain: list[str] = [s.role for s in stages]
    sensitive: list[str] = [s.role_when_sensitive or s.role for s in stages]
    chains = [("", plain)]
    if sensitive != plain:
        chains.append(("敏感稿件 / sensitive articles: ", sensitive))
    return chains


def _assign(roles: list[str], people: Sequence[Person]) -> dict[int, int]:
    """Distinct signers for as many stages as possible (a bipartite matching): stage -> person."""
    holder: dict[int, int] = {}  # person index -> stage index

    def place(stage: int, seen: set[int]) -> bool:
        for i, person in enumerate(people):
            if roles[stage] in person.roles and i not in seen:
                seen.add(i)
                if i not in holder or place(holder[i], seen):
                    holder[i] = stage
                    return True
        return False

    for stage in range(len(roles)):
        place(stage, set())
    return {stage: person for person, stage in holder.items()}


def _short_chain(stages: Sequence[ReviewStage], people: Sequence[Person]) -> StaffingFinding | None:
    for label, roles in _chains(stages):
        placed = _assign(roles, people)
        if len(placed) == len(roles):
            continue
        need = {role: roles.count(role) for role in roles}
        have = {role: sum(1 for p in people if role in p.roles) for role in need}
        short = [f"{role} 需要 {n} 人、现有 {have[role]} 人" for role, n in need.items() if have[role] < n]
        detail = "；".join(short) or "同一人不能签两个环节，人手重叠 / people overlap across stages"
        unplaced = tuple(s.name for i, s in enumerate(stages) if i not in placed)
        return StaffingFinding(
            Shortage.TOO_FEW_PEOPLE,
            Severity.BLOCKING,
            unplaced,
            f"{label}{len(roles)} 个环节只能安排 {len(placed)} 名不同的人 / only {len(placed)} distinct "
            f"signers for {len(roles)} stages: {detail}; 在 [[users]] 中补充后运行 publisher users sync，"
            "或 publisher users edit 调整角色",
        )  # the sensitive form shares the plain chain's shortage: one fix, one finding
    return None


def _committees(
    stages: Sequence[ReviewStage], people: Sequence[Person], committees: Iterable[str]
) -> StaffingFinding | None:
    stage = next((s for s in stages if s.role == "committee_reviewer"), None)
    if stage is None:
        return None
    covered = {c for p in people if "committee_reviewer" in p.roles for c in p.committees}
    lonely = [c for c in committees if c not in covered]
    if not lonely:
        return None
    return StaffingFinding(
        Shortage.NO_COMMITTEE_REVIEWER,
        Severity.WARNING,
        (stage.name,),
        f"这些专门委员会没有审核人，其稿件会停在「{stage.name}」 / no reviewer for: {'、'.join(lonely)}",
    )


def _single_holders(stages: Sequence[ReviewStage], people: Sequence[Person]) -> list[StaffingFinding]:
    found: list[StaffingFinding] = []
    for role in dict.fromkeys(r for _label, roles in _chains(stages) for r in roles):
        if role == "committee_reviewer":
            continue  # held per committee: `_committees` speaks for it
        holders = [p.username for p in people if role in p.roles]
        if len(holders) != 1:
            continue  # none is the shortage above; two or more can stand in for each other
        names = tuple(s.name for s in stages if role in (s.role, s.role_when_sensitive))
        found.append(
            StaffingFinding(
                Shortage.SINGLE_HOLDER,
                Severity.RISK,
                names,
                f"只有 {holders[0]} 能签「{'、'.join(names)}」（{role}），其本人撰写的稿件无法完成审核 / "
                f"only {holders[0]} holds {role}: an article they wrote cannot pass {', '.join(names)}",
            )
        )
    return found


def staffing(
    stages: Sequence[ReviewStage], people: Sequence[Person], committees: Iterable[str]
) -> list[StaffingFinding]:
    """Every shortage of the chain with these people, worst first; empty when it is fully staffed."""
    found = [f for f in (_short_chain(stages, people), _committees(stages, people, committees)) if f]
    return found + _single_holders(stages, people)


def active_people(session: Session) -> list[Person]:
    users = session.exec(select(StaffUser).where(col(StaffUser.active).is_(True)).order_by(col(StaffUser.id)))
    return [person_of(u) for u in users]


def check_staffing(
    session: Session, stages: Sequence[ReviewStage], committees: Iterable[str]
) -> list[StaffingFinding]:
    """The chain against the active users in the store (one query)."""
    return staffing(stages, active_people(session), committees)
