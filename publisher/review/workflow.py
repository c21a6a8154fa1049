"""The chain a revision must pass: which stages apply to it, and who may act on each."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from publisher.config import ReviewStage
from publisher.errors import PublisherError
from publisher.review.users import bylines_of, committees_of, departments_of, resolve_bylines, roles_of
from publisher.store.tables import StaffUser


class ReviewRefused(PublisherError):
    """An act the rules do not allow; the message says which rule and what to do instead."""


@dataclass(frozen=True, slots=True)
class PlannedStage:
    key: str
    name: str
    role: str  # the role that acts here for this revision (escalated when sensitive)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def applies(stage: ReviewStage, meta: dict[str, Any]) -> bool:
    match stage.when:
        case "always":
            return True
        case "committee":
            return bool(meta.get("committee"))
        case "meeting_report":
            return meta.get("kind") == "meeting_report"
        case "sensitive":
            return bool(meta.get("sensitive"))
    return False


def plan(stages: Sequence[ReviewStage], meta: dict[str, Any]) -> list[PlannedStage]:
    """The stages this revision needs, in order; fixed at submission so a settings change mid-review
    does not move the goalposts of a chain already under way."""
    sensitive = bool(meta.get("sensitive"))
    return [
        PlannedStage(
            stage.key,
            stage.name,
            stage.role_when_sensitive if sensitive and stage.role_when_sensitive else stage.role,
        )
        for stage in stages
        if applies(stage, meta)
    ]


def plan_from_json(text: str) -> list[PlannedStage]:
    return [PlannedStage(**item) for item in json.loads(text)]


def plan_to_json(stages: Sequence[PlannedStage]) -> str:
    return json.dumps([s.as_dict() for s in stages], ensure_ascii=False)


def is_author(user: StaffUser, meta: dict[str, Any]) -> bool:
    """Whether a byline of the article resolves to this user (by identity, not by spelling)."""
    return user.username in resolve_bylines(bylines_of(meta), [user]).usernames


def refusal_to_act(
    user: StaffUser, stage: PlannedStage, meta: dict[str, Any], acted_in_cycle: dict[str, str]
) -> str | None:
    """Why `user` may not act on `stage` of this revision, or None when they may.

    `acted_in_cycle` maps usernames to the stage name they already approved in this cycle.
    """
    if not user.active:
        return f"用户 {user.username} 已停用 / user is disabled"
    return refusal_to_sign(user, stage, meta, acted_in_cycle)


def refusal_to_sign(
    user: StaffUser, stage: PlannedStage, meta: dict[str, Any], acted_in_cycle: dict[str, str]
) -> str | None:
    """Why `user` could not have signed `stage`: the rules of the chain without the account's
    present state, so that the proof of an approval (review/proof.py) still holds a signature made
    by someone who has since left."""
    if user.kind != "person":
        return (
            f"{user.display_name}（{user.username}）是服务账号，不能签署审核 / "
            "a service account never signs a review"
        )
    if stage.role not in roles_of(user):
        return (
            f"「{stage.name}」需要角色 {stage.role}，{user.display_name}（{user.username}）没有该角色 / "
            f"stage {stage.name} needs role {stage.role}"
        )
    if stage.role == "committee_reviewer":
        committee = meta.get("committee")
        if committee not in committees_of(user):
            return (
                f"{user.display_name} 是{'、'.join(committees_of(user)) or '其他'}的审核人，本稿归口{committee} / "
                f"a reviewer of another committee cannot review for {committee}"
            )
    if (
        stage.role == "department_head"
        and departments_of(user)
        and meta.get("department") not in departments_of(user)
    ):
        return (
            f"{user.display_name} 不负责{meta.get('department')}的稿件 / not head of the article's department"
        )
    if is_author(user, meta):
        return (
            f"{user.display_name} 是本稿作者，不能审核自己的稿件 / an author cannot review their own article"
        )
    if user.username in acted_in_cycle:
        return (
            f"{user.display_name} 已在本版本的「{acted_in_cycle[user.username]}」环节签署，同一人不能担任两个环节 / "
            "one person cannot act on two stages of the same revision"
        )
    return None
