"""The console over real HTTP on 127.0.0.1: a server per test, signed-in clients per person."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from publisher.console.app import create_console_app
from publisher.engine.clock import Clock
from publisher.newsroom import Newsroom
from publisher.review.users import get_user, list_users, set_password
from publisher.store.engine import write_session
from publisher.web.testing import serving
from tests.review_helpers import seed_users

PASSWORD = "jianglan-demo-2026"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')


def seed_staff(room: Newsroom, password: str = PASSWORD) -> None:
    """The newsroom's [[users]], all with one known password: one real argon2 hash, stored for
    each (hashing is deliberately slow, ~0.2 s here, and twenty of them would dominate a test)."""
    seed_users(room)
    with write_session(room.engine) as session:
        set_password(session, room.settings.users[0].username, password, actor="test")
        first = get_user(session, room.settings.users[0].username)
        for user in list_users(session):
            user.password_hash = first.password_hash
            session.add(user)


@contextmanager
def console_server(room: Newsroom, clock: Clock | None = None) -> Iterator[str]:
    with serving(room, create_console_app(room, clock=clock)) as base:
        yield base


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(base: str, username: str, password: str = PASSWORD) -> tuple[httpx.Client, str]:
    """A browser-like client signed in as `username`, and its CSRF token."""
    client = httpx.Client(base_url=base, follow_redirects=True, timeout=30)
    form = client.get("/login")
    found = _LOGIN_CSRF.search(form.text)
    assert found, form.text[:500]
    landed = client.post(
        "/login",
        data={"username": username, "password": password, "login_csrf": found.group(1), "next": "/account"},
    )
    assert landed.status_code == 200, landed.text[:800]
    return client, csrf_of(landed.text)
