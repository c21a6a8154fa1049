"""What every read model shares: pages of a long list, and people by username."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from publisher.errors import PublisherError
from publisher.store.tables import StaffUser

NEWSROOM_TZ = ZoneInfo("Asia/Shanghai")  # the default; a page passes the newsroom's own
MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # 1-based
    size: int
    total: int  # rows across all pages

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def page_request(number: int, size: int) -> tuple[int, int]:
    """A page asked for, checked: a clear error instead of an empty or unbounded page."""
    if number < 1:
        raise PublisherError(f"页码须从 1 开始 / page must be 1 or more, not {number}")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise PublisherError(f"每页条数须在 1 到 {MAX_PAGE_SIZE} 之间 / page size must be 1..{MAX_PAGE_SIZE}")
    return number, size


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    display_name: str


def people(session: Session) -> dict[str, Person]:
    """Every staff member by username (one query: a newsroom has tens of people, not thousands)."""
    return {
        u.username: Person(u.username, u.display_name)
        for u in session.exec(select(StaffUser).order_by(col(StaffUser.id)))
    }


def person(known: dict[str, Person], username: str) -> Person:
    """A username that is not (or no longer) a user, such as the engine's, shows as itself."""
    return known.get(username) or Person(username, username)
