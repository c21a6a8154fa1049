"""The chain a revision must pass: which stages apply to it, and who may act on each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_
from sqlmodel import col

from publisher.config import ReviewStage
from publisher.errors import PublisherError
from publisher.review.plan import PlannedStage
from publisher.review.users import (
    bylines_key_pattern,
    bylines_of,
    committees_of,
    departments_of,
    resolve_bylines,
    roles_of,
)
from publisher.store.tables import ReviewAct, ReviewState, Revision, StaffUser


class ReviewRefused(PublisherError):
    """An act the rules do not allow; the message says which rule and what to do instead."""


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


def may_act_where(user: StaffUser, waiting_on: Mapping[str, ColumnElement[bool]]) -> ColumnElement[bool]:
    """`refusal_to_act(...) is None` for the database, over open reviews (`review_state` joined to
    its revision): lets a page count what waits on a person without reading every row.

    `waiting_on` maps a role to the condition that a review's waiting stage needs that role; the
    revision is asked only where a stage needs it (committee, department), so no join. Exact
    where the review's bylines are stored (`ReviewState.bylines`); a review without them, or whose
    bylines may name the user, is left out: the caller asks `refusal_to_act` for those
    (`needs_the_rule`). Kept beside the rule it mirrors, clause by clause;
    tests/test_console_narrowing.py holds the two equal on every open review."""
    if not user.active or user.kind != "person":
        return false()
    roles = set(roles_of(user))
    stages: list[ColumnElement[bool]] = []
    for role, waiting in waiting_on.items():
        if role not in roles:
            continue
        if role == "committee_reviewer":
            waiting = waiting & _revision_where(col(Revision.committee).in_(committees_of(user)))
        if role == "department_head" and departments_of(user):
            waiting = waiting & _revision_where(col(Revision.department).in_(departments_of(user)))
        stages.append(waiting)
    signed_this_cycle = exists().where(
        col(ReviewAct.revision_id) == col(ReviewState.revision_id),
        col(ReviewAct.cycle) == col(ReviewState.cycle),
        col(ReviewAct.act) == "approve",
        col(ReviewAct.username) == user.username,
    )
    return or_(false(), *stages) & ~needs_the_rule(user) & ~signed_this_cycle


def _revision_where(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """`condition` on the review's revision, asked only of the rows that reach it (no join)."""
    return exists().where(col(Revision.id) == col(ReviewState.revision_id), condition)


def needs_the_rule(user: StaffUser) -> ColumnElement[bool]:
    """Reviews the database cannot judge for `user`: bylines not stored, or perhaps naming them."""
    return col(ReviewState.bylines).is_(None) | col(ReviewState.bylines).like(
        bylines_key_pattern(user.display_name), escape="\\"
    )
