"""An authenticated actor: the only thing a face hands to a service as "who did this"."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from publisher.review.users import roles_of
from publisher.store.tables import StaffUser

SERVICE_ACCOUNT = "engine"  # the delivery engine's account (migration 0012 creates it)


class Via(StrEnum):
    PASSWORD = "password"
    TOKEN = "token"
    SESSION = "session"
    SERVICE = "service"


class UserKind(StrEnum):
    PERSON = "person"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Identity:
    username: str
    display_name: str
    roles: tuple[str, ...]
    via: Via

    @classmethod
    def of(cls, user: StaffUser, via: Via) -> Identity:
        return cls(user.username, user.display_name, tuple(roles_of(user)), via)

    def has_any(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


def service_identity() -> Identity:
    """The engine and cron: named in the audit log, never a reviewer (review/workflow refuses it)."""
    return Identity(SERVICE_ACCOUNT, "发布引擎（服务账号）", (), Via.SERVICE)
