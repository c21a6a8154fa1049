"""An approval is proven from the signed review acts, never read from a status row.

`review_state.status` is a convenience for queues and listings; anyone with write access to the
database can change it. What cannot be changed unseen is the append-only `review_act` table,
whose every row has its event in the hash-chained audit log. So the publication gate and
`audit verify` both ask this module one question: given the stage plan fixed at submission and
the acts made on one revision, what do the acts prove? The answer is a pure function of its
inputs (no database, no clock), so the gate can batch its reads and the audit can replay it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from publisher.review.plan import PlannedStage
from publisher.review.workflow import refusal_to_sign
from publisher.store.tables import StaffUser


class Standing(StrEnum):
    """Where the acts leave a revision; the values are those `review_state.status` stores."""

    DRAFT = "draft"  # never submitted
    IN_REVIEW = "in_review"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    APPROVED = "approved"


class StatusRow(Protocol):
    """What the status row claims (a `ReviewState`, or the columns of one the gate reads)."""

    @property
    def status(self) -> str: ...

    @property
    def cycle(self) -> int: ...

    @property
    def stage_index(self) -> int: ...

    @property
    def plan_json(self) -> str: ...


class SignedAct(Protocol):
    """What the proof reads of a review act (a `ReviewAct`, or the columns of one the gate reads)."""

    @property
    def id(self) -> int | None: ...

    @property
    def cycle(self) -> int: ...

    @property
    def act(self) -> str: ...

    @property
    def stage_key(self) -> str | None: ...

    @property
    def username(self) -> str: ...

    @property
    def details_json(self) -> str: ...


# The act that ends a cycle, and where it leaves the revision: a later act of the cycle is void.
_ENDS = {"reject": Standing.REJECTED, "withdraw": Standing.WITHDRAWN}


@dataclass(frozen=True, slots=True)
class Proof:
    """What the acts of one revision prove: its standing, in which cycle, how many planned stages
    carry a valid signature (in order), and why an act proves nothing (bilingual)."""

    standing: Standing
    cycle: int = 0
    signed: int = 0
    problems: tuple[str, ...] = ()

    @property
    def approved(self) -> bool:
        return self.standing is Standing.APPROVED

    def disagreement(self, state: StatusRow) -> str | None:
        """How a status row differs from what the acts prove, or None when it agrees."""
        if state.status != self.standing.value:
            return f"状态为 {state.status}，签署记录证明为 {self.standing.value} / status says {state.status}, the acts prove {self.standing.value}"
        if state.cycle != self.cycle:
            return f"轮次为 {state.cycle}，签署记录为 {self.cycle} / cycle says {state.cycle}, the acts are in cycle {self.cycle}"
        if self.standing is Standing.IN_REVIEW and state.stage_index != self.signed:
            return (
                f"待办环节序号为 {state.stage_index}，已签署 {self.signed} 个环节 / "
                f"stage index says {state.stage_index}, {self.signed} stages are signed"
            )
        return None


def _planned_names(submit: SignedAct) -> list[str] | None:
    recorded: dict[str, Any] = json.loads(submit.details_json or "{}")
    names = recorded.get("plan")
    return [str(n) for n in names] if isinstance(names, list) else None


def approval_proven(
    plan: Sequence[PlannedStage],
    acts: Sequence[SignedAct],
    users: Mapping[str, StaffUser],
    meta: Mapping[str, Any],
) -> Proof:
    """What `acts` (every act on one revision, any order) prove against `plan` (the stages fixed
    at submission). Approved only when every planned stage, in order, has an approval in the
    latest cycle by a known user who was eligible for it, is no byline's author and signed no other
    stage, and no reject or withdraw ended that cycle.

    `users` maps usernames to users; `meta` is the revision's front matter (authors, committee,
    department decide eligibility)."""
    ordered = sorted(acts, key=lambda a: a.id or 0)
    submits = [a for a in ordered if a.act == "submit"]
    if not submits:
        return Proof(Standing.DRAFT)
    submit = max(submits, key=lambda a: (a.cycle, a.id or 0))
    cycle = submit.cycle
    # Acts of earlier cycles were voided by the resubmission; acts before the submission are not of it.
    current = [a for a in ordered if a.cycle == cycle and (a.id or 0) > (submit.id or 0)]
    problems: list[str] = []
    if _planned_names(submit) != [s.name for s in plan]:
        problems.append(
            "环节计划与提交时记录的不同 / the stage plan differs from the one recorded at submission"
        )
    if not plan:
        problems.append("没有任何审核环节 / the plan has no stage")
    standing = Standing.IN_REVIEW
    approvals: list[SignedAct] = []
    for act in current:
        if act.act in _ENDS:
            standing = _ENDS[act.act]
            break  # a later act of an ended cycle proves nothing
        if act.act == "approve":
            approvals.append(act)
    signed = 0
    acted: dict[str, str] = {}
    meta_dict = dict(meta)
    for act in approvals:
        if signed >= len(plan):
            problems.append(f"{act.username} 签署了计划之外的环节 / {act.username} signed beyond the plan")
            break
        stage = plan[signed]
        if act.stage_key != stage.key:
            problems.append(
                f"{act.username} 的签署不是待办环节「{stage.name}」 / {act.username} signed "
                f"{act.stage_key!r} where {stage.key!r} was due"
            )
            break
        user = users.get(act.username)
        if user is None:
            problems.append(f"签署人 {act.username} 不是已知用户 / signer {act.username} is no known user")
            break
        why = refusal_to_sign(user, stage, meta_dict, acted)
        if why is not None:
            problems.append(f"「{stage.name}」的签署无效：{why}")
            break
        acted[act.username] = stage.name
        signed += 1
    if standing is Standing.IN_REVIEW and not problems and signed == len(plan):
        standing = Standing.APPROVED
    return Proof(standing, cycle, signed, tuple(problems))
