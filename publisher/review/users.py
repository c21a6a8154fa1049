"""Staff users and their roles, stored in the database; passwords hashed with argon2.

People are told apart by user identity: a byline is resolved to the users it names through
`normalize_name`, so a name typed with a full-width space or an invisible character is still the
same person, and the rules that compare people compare usernames.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from publisher import audit
from publisher.config import ROLES, UserSeed, check_email
from publisher.errors import NotFound, PublisherError
from publisher.store.tables import StaffUser
from publisher.timeutil import utc_now

if TYPE_CHECKING:
    from argon2 import PasswordHasher


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # argon2 loads its C bindings; made on the first password, not by every command that reads users.
    from argon2 import PasswordHasher

    return PasswordHasher()


class UserError(PublisherError):
    pass


@lru_cache(maxsize=1024)  # the rules ask for one person's roles once per open review
def _names(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


def roles_of(user: StaffUser) -> list[str]:
    return list(_names(user.roles_json))


def committees_of(user: StaffUser) -> list[str]:
    return list(_names(user.committees_json))


def departments_of(user: StaffUser) -> list[str]:
    return list(_names(user.departments_json))


@lru_cache(maxsize=4096)  # a queue compares the same few names thousands of times
def normalize_name(name: str) -> str:
    """A person's name as the rules compare it: compatibility forms folded (NFKC), every space
    (ASCII, ideographic U+3000, no-break) and every invisible format character (Cf: zero-width
    space, joiners, marks of direction) removed. 袁　明, 袁 明 and 袁\u200b明 are all 袁明."""
    folded = unicodedata.normalize("NFKC", name)
    return "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch) != "Cf")


@dataclass(frozen=True, slots=True)
class Bylines:
    """The people an article's bylines name: usernames, and the bylines that name nobody known."""

    usernames: frozenset[str]
    unknown: tuple[str, ...]


def resolve_bylines(bylines: Iterable[str], users: Iterable[StaffUser]) -> Bylines:
    """Every user whose normalised display name is a byline's (namesakes are all named: the rules
    they feed refuse, so a doubt stays on the safe side)."""
    by_name: dict[str, set[str]] = {}
    for user in users:
        by_name.setdefault(normalize_name(user.display_name), set()).add(user.username)
    named: set[str] = set()
    unknown: list[str] = []
    for byline in bylines:
        found = by_name.get(normalize_name(str(byline)))
        if found:
            named |= found
        else:
            unknown.append(str(byline))
    return Bylines(frozenset(named), tuple(unknown))


def bylines_of(meta: dict[str, Any]) -> list[str]:
    """The names an article's front matter gives for the people who wrote it (`authors`)."""
    return [str(a) for a in meta.get("authors") or []]


def bylines_key(meta: dict[str, Any]) -> str:
    """An article's bylines as the author rule compares them, stored beside its review so the
    database can tell who wrote it: each byline `normalize_name`d, between single spaces
    (" 王晓明 李华 "). A normalised name holds no space, so a name can only match whole."""
    return " " + " ".join(normalize_name(b) for b in bylines_of(meta)) + " "


def bylines_key_pattern(display_name: str) -> str:
    """A LIKE pattern (escape character a backslash) for a `bylines_key` naming this person:
    the same equality `resolve_bylines` applies, so `is_author` holds exactly where it matches
    (on SQLite, whose LIKE ignores ASCII case, where it matches or more)."""
    name = normalize_name(display_name)
    escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"% {escaped} %"


def _check_roles(roles: Iterable[str]) -> list[str]:
    roles = list(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise UserError(f"未知角色 / unknown role {unknown or '(none)'}; roles: {', '.join(ROLES)}")
    return roles


def get_user(session: Session, username: str) -> StaffUser:
    user = session.exec(select(StaffUser).where(StaffUser.username == username)).first()
    if user is None:
        raise NotFound(f"没有这个用户 / no user {username!r}")
    return user


def add_user(
    session: Session,
    *,
    username: str,
    name: str,
    roles: Iterable[str],
    committees: Iterable[str] = (),
    departments: Iterable[str] = (),
    password: str | None = None,
    email: str | None = None,
    actor: str,
) -> StaffUser:
    if session.exec(select(StaffUser).where(StaffUser.username == username)).first() is not None:
        raise UserError(f"用户已存在 / user {username!r} already exists")
    user, event = _new_user(
        username=username,
        name=name,
        roles=roles,
        committees=committees,
        departments=departments,
        password=password,
        email=email,
        actor=actor,
    )
    session.add(user)
    session.flush()
    audit.append_many(session, [event])
    return user


def _new_user(
    *,
    username: str,
    name: str,
    roles: Iterable[str],
    committees: Iterable[str],
    departments: Iterable[str],
    password: str | None,
    email: str | None,
    actor: str,
) -> tuple[StaffUser, audit.Entry]:
    """A user checked and built, not yet added, with the audit entry of adding them."""
    checked = _check_roles(roles)
    if email is not None:
        try:
            check_email(email)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    committees = list(committees)
    if committees and "committee_reviewer" not in checked:
        raise UserError(
            "只有专委会审核人（committee_reviewer）可以指定专门委员会 / only committee reviewers name committees"
        )
    if "committee_reviewer" in checked and not committees:
        raise UserError(
            "专委会审核人须指定所属专门委员会（--committee） / a committee reviewer needs --committee"
        )
    user = StaffUser(
        username=username,
        display_name=name,
        roles_json=json.dumps(checked, ensure_ascii=False),
        committees_json=json.dumps(committees, ensure_ascii=False),
        departments_json=json.dumps(list(departments), ensure_ascii=False),
        password_hash=_hasher().hash(password) if password else None,
        email=email,
        created_at=utc_now(),
    )
    details = {"name": name, "roles": checked, "committees": committees}
    return user, audit.Entry(actor, "user.add", "user", username, details=details)


def set_password(session: Session, username: str, password: str, actor: str) -> None:
    user = get_user(session, username)
    user.password_hash = _hasher().hash(password)
    session.add(user)
    audit.append(session, actor=actor, action="user.password", object_type="user", object_id=username)


def verify_password(user: StaffUser, password: str) -> bool:
    if not user.active or not user.password_hash:
        return False
    from argon2.exceptions import InvalidHashError, VerifyMismatchError

    try:
        return _hasher().verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def disable_user(session: Session, username: str, actor: str) -> StaffUser:
    user = get_user(session, username)
    if not user.active:
        raise UserError(f"用户已停用 / user {username!r} is already disabled")
    user.active = False
    session.add(user)
    audit.append(session, actor=actor, action="user.disable", object_type="user", object_id=username)
    return user


def _split(values: Iterable[str]) -> list[str]:
    """`--roles editor,proofreader` and repeated options read the same."""
    return list(dict.fromkeys(v.strip() for value in values for v in value.split(",") if v.strip()))


def edit_user(
    session: Session,
    username: str,
    *,
    actor: str,
    roles: Iterable[str] | None = None,
    committees: Iterable[str] | None = None,
    departments: Iterable[str] | None = None,
    active: bool | None = None,
    known_committees: frozenset[str] | None = None,
) -> StaffUser:
    """Change what a user may do; what is not given stays. Past signatures keep the roles they had."""
    user = get_user(session, username)
    new_roles = _check_roles(_split(roles)) if roles is not None else roles_of(user)
    new_committees = _split(committees) if committees is not None else committees_of(user)
    new_departments = _split(departments) if departments is not None else departments_of(user)
    if "committee_reviewer" not in new_roles:
        if committees is not None and new_committees:
            raise UserError(
                "只有专委会审核人（committee_reviewer）可以指定专门委员会 / only committee reviewers name committees"
            )
        new_committees = []  # a committee belongs to the reviewer role: dropping the role drops it
    elif not new_committees:
        raise UserError(
            "专委会审核人须指定所属专门委员会（--committees） / a committee reviewer needs --committees"
        )
    if known_committees is not None:
        unknown = [c for c in new_committees if c not in known_committees]
        if unknown:
            raise UserError(f"未声明的专门委员会 / undeclared committees: {unknown}")
    before = {
        "roles": roles_of(user),
        "committees": committees_of(user),
        "departments": departments_of(user),
        "active": user.active,
    }
    after = {
        "roles": new_roles,
        "committees": new_committees,
        "departments": new_departments,
        "active": user.active if active is None else active,
    }
    if after == before:
        return user
    user.roles_json = json.dumps(new_roles, ensure_ascii=False)
    user.committees_json = json.dumps(new_committees, ensure_ascii=False)
    user.departments_json = json.dumps(new_departments, ensure_ascii=False)
    user.active = bool(after["active"])
    session.add(user)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if after[k] != before[k]}
    audit.append(
        session, actor=actor, action="user.update", object_type="user", object_id=username, details=changed
    )
    return user


def list_users(session: Session, *, service: bool = False) -> list[StaffUser]:
    """The staff; the engine's service account only when asked for (it is nobody's colleague)."""
    query = select(StaffUser).order_by(col(StaffUser.username))
    if not service:
        query = query.where(StaffUser.kind == "person")
    return list(session.exec(query))


def sync_users(session: Session, seeds: Iterable[UserSeed], actor: str) -> list[str]:
    """Create the users `publisher.toml` declares and bring their roles up to date. Returns what changed.

    One read of the users named, one flush and one append of the events (in the seeds' order):
    a newsroom's staff list is written in a few statements, not a few per person."""
    seeds = list(seeds)
    named = [seed.username for seed in seeds]
    known = {u.username: u for u in session.exec(select(StaffUser).where(col(StaffUser.username).in_(named)))}
    changed: list[str] = []
    events: list[audit.Entry] = []
    for seed in seeds:
        user = known.get(seed.username)
        if user is None:
            user, event = _new_user(
                username=seed.username,
                name=seed.name,
                roles=seed.roles,
                committees=seed.committees,
                departments=seed.departments,
                password=None,
                email=seed.email,
                actor=actor,
            )
            session.add(user)
            known[seed.username] = user
            events.append(event)
            changed.append(seed.username)
            continue
        wanted = (
            json.dumps(list(seed.roles), ensure_ascii=False),
            json.dumps(seed.committees, ensure_ascii=False),
            json.dumps(seed.departments, ensure_ascii=False),
            seed.name,
            seed.email,
        )
        held = (user.roles_json, user.committees_json, user.departments_json, user.display_name, user.email)
        if held != wanted:
            (user.roles_json, user.committees_json, user.departments_json, user.display_name, user.email) = (
                wanted
            )
            session.add(user)
            # The address itself stays out of the chain: it is personal data, not an act.
            details = {"roles": list(seed.roles), "committees": seed.committees} | (
                {"email": "changed"} if held[4] != seed.email else {}
            )
            events.append(audit.Entry(actor, "user.update", "user", seed.username, details=details))
            changed.append(seed.username)
    if changed:
        session.flush()
        audit.append_many(session, events)
    return changed
