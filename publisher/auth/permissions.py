"""Who may do which act besides reviewing (review/workflow.py rules the chain): one table."""

from __future__ import annotations

from enum import StrEnum

from publisher.auth.identity import Identity
from publisher.auth.signin import AuthError


class Act(StrEnum):
    SCHEDULE = "schedule"  # plan, move, unschedule, publish now, retry or cancel a release
    RETRACT = "retract"  # 撤稿, and lifting a retraction
    PAUSE = "pause"  # the newsroom-wide emergency stop, and resuming
    SUPPLY = "supply"  # partner supply by hand: adoptions, sync, partner tokens
    MANAGE_USERS = "manage_users"  # add, edit, disable, reset passwords, revoke others' tokens
    READ_AUDIT = "read_audit"  # the audit log and its verification
    INSPECT = "inspect"  # 定期清查: accept a finding with a reason, assign its owner
    # 征求意见: handle comments (moderate, classify, dispose, answer, assign), see contacts, export
    # for the legislative committee, draft the feedback report, purge contacts.
    CONSULT = "consult"
    PRINT = "print"  # 编印公报: build an issue of a printed bulletin for the printer
    SIGN_OFF_PRINT = "sign_off_print"  # 签发付印: sign a built issue's proof off for the printer


_LEADERS = frozenset({"leader", "principal_leader"})
ALLOWED: dict[Act, frozenset[str]] = {
    Act.SCHEDULE: frozenset({"editor", "admin"}) | _LEADERS,
    Act.RETRACT: frozenset({"editor", "department_head", "admin"}) | _LEADERS,
    Act.PAUSE: frozenset({"editor", "admin"}) | _LEADERS,
    Act.SUPPLY: frozenset({"editor", "admin"}),
    Act.MANAGE_USERS: frozenset({"admin"}),
    Act.READ_AUDIT: frozenset({"admin", "department_head"}) | _LEADERS,
    Act.INSPECT: frozenset({"editor", "department_head", "admin"}) | _LEADERS,
    # The legislative affairs office (department heads) and editors handle comments; a special
    # committee's reviewer answers those assigned to it. Authors and proofreaders do not.
    Act.CONSULT: frozenset({"editor", "department_head", "committee_reviewer", "admin"}) | _LEADERS,
    Act.PRINT: frozenset({"editor", "admin"}) | _LEADERS,
    # The leader's final sign-off, as on an article's last review stage.
    Act.SIGN_OFF_PRINT: _LEADERS,
}

_NAMES = {
    Act.SCHEDULE: "排期与发布",
    Act.RETRACT: "撤稿",
    Act.PAUSE: "暂停发布",
    Act.SUPPLY: "供稿管理",
    Act.MANAGE_USERS: "用户管理",
    Act.READ_AUDIT: "查看审计日志",
    Act.INSPECT: "处理清查问题",
    Act.CONSULT: "办理征求意见",
    Act.PRINT: "编印公报",
    Act.SIGN_OFF_PRINT: "签发公报付印",
}


def may(identity: Identity, act: Act) -> bool:
    return identity.has_any(*ALLOWED[act])


def require(identity: Identity, act: Act) -> None:
    if not may(identity, act):
        roles = "、".join(sorted(ALLOWED[act]))
        raise AuthError(
            f"{identity.display_name}（{identity.username}）无权{_NAMES[act]}，需要角色：{roles} / "
            f"{identity.username} may not {act.value}; it needs one of the roles {roles}"
        )
