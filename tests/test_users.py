"""Staff users: stored in the database, argon2 passwords, roles checked, every change audited."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from publisher.cli import app
from publisher.errors import NotFound
from publisher.newsroom import Newsroom
from publisher.review import users
from publisher.store.engine import write_session
from publisher.store.tables import AuditEvent, StaffUser

runner = CliRunner()


def test_add_hashes_the_password_and_audits(room: Newsroom) -> None:
    with write_session(room.engine) as s:
        users.add_user(
            s, username="zhang", name="张伟", roles=["editor"], password="correct horse", actor="t"
        )
    with Session(room.engine) as s:
        user = users.get_user(s, "zhang")
        event = s.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc())).first()
    assert user.password_hash is not None and user.password_hash.startswith("$argon2")
    assert "correct horse" not in user.password_hash
    assert users.verify_password(user, "correct horse") and not users.verify_password(user, "wrong")
    assert event is not None and (event.action, event.object_id) == ("user.add", "zhang")


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"roles": ["editor", "emperor"]}, "unknown role"),
        ({"roles": []}, "unknown role"),
        ({"roles": ["committee_reviewer"]}, "needs --committee"),
        ({"roles": ["editor"], "committees": ["法制委员会"]}, "only committee reviewers"),
    ],
)
def test_bad_users_are_refused(room: Newsroom, kwargs: dict[str, list[str]], says: str) -> None:
    with pytest.raises(users.UserError, match=says), write_session(room.engine) as s:
        users.add_user(s, username="x", name="某人", actor="t", **kwargs)  # type: ignore[arg-type]
    with Session(room.engine) as s:
        assert s.exec(select(StaffUser).where(StaffUser.kind == "person")).all() == []


def test_duplicate_and_disabled(room: Newsroom) -> None:
    with write_session(room.engine) as s:
        users.add_user(s, username="li", name="李静", roles=["author"], password="pw", actor="t")
    with pytest.raises(users.UserError, match="already exists"), write_session(room.engine) as s:
        users.add_user(s, username="li", name="李静", roles=["author"], actor="t")
    with write_session(room.engine) as s:
        users.disable_user(s, "li", "t")
    with Session(room.engine) as s:
        user = users.get_user(s, "li")
        assert not user.active and not users.verify_password(user, "pw")
        with pytest.raises(NotFound):
            users.get_user(s, "nobody")


def test_sync_creates_then_only_updates_what_changed(room: Newsroom) -> None:
    seeds = room.settings.users
    with write_session(room.engine) as s:
        assert len(users.sync_users(s, seeds, "t")) == len(seeds)
    with write_session(room.engine) as s:
        assert users.sync_users(s, seeds, "t") == []
    changed = [seeds[0].model_copy(update={"roles": ["author", "editor"]}), *seeds[1:]]
    with write_session(room.engine) as s:
        assert users.sync_users(s, changed, "t") == [seeds[0].username]
    with Session(room.engine) as s:
        assert users.roles_of(users.get_user(s, seeds[0].username)) == ["author", "editor"]


def test_sync_writes_a_whole_staff_list_in_a_few_statements_and_audits_each_person_in_order(
    room: Newsroom,
) -> None:
    seeds = room.settings.users
    assert len(seeds) >= 8  # the demo's staff: enough that a statement per person would show
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(room.engine, "before_cursor_execute", count)
    try:
        with write_session(room.engine) as s:
            users.sync_users(s, seeds, "t")
        created = len(statements)
        statements.clear()
        changed = [
            seeds[0].model_copy(update={"name": "改名"}),
            *seeds[1:-1],
            seeds[-1].model_copy(update={"roles": ["author"]}),
        ]
        with write_session(room.engine) as s:
            assert users.sync_users(s, changed, "t") == [seeds[0].username, seeds[-1].username]
        updated = len(statements)
    finally:
        event.remove(room.engine, "before_cursor_execute", count)
    # One read of the users, their inserts (one executemany, or one per row where the driver
    # returns ids row by row: SQLite), the chain's lock and head, the events, the head: far
    # under one round of statements per person.
    assert created <= len(seeds) + 8, created
    assert updated <= 8, updated
    with Session(room.engine) as s:
        acts = s.exec(
            select(AuditEvent).where(col(AuditEvent.object_type) == "user").order_by(col(AuditEvent.seq))
        ).all()
    assert [(a.action, a.object_id) for a in acts] == [
        *(("user.add", seed.username) for seed in seeds),
        ("user.update", seeds[0].username),
        ("user.update", seeds[-1].username),
    ]
    assert json.loads(acts[-1].details_json) == {"roles": ["author"], "committees": seeds[-1].committees}


def test_users_cli(room: Newsroom, db_url: str) -> None:
    env = {
        "PUBLISHER_NEWSROOM": str(room.root),
        "PUBLISHER_DATABASE_URL": db_url,
        "NEW_PW": "a-long-s3cret-phrase",
    }
    result = runner.invoke(
        app,
        [
            "users",
            "add",
            "zhao",
            "--name",
            "赵敏",
            "--role",
            "committee_reviewer",
            "--committee",
            "法制委员会",
            "--password-env",
            "NEW_PW",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(
        app,
        [
            "users",
            "add",
            "qian",
            "--name",
            "钱",
            "--role",
            "committee_reviewer",
            "--committee",
            "不存在委员会",
        ],
        env=env,
    )
    assert result.exit_code == 1 and "undeclared committees" in result.stderr
    result = runner.invoke(app, ["users", "sync"], env=env)
    assert result.exit_code == 0
    result = runner.invoke(app, ["users", "disable", "zhao"], env=env)
    assert result.exit_code == 0
    listed = json.loads(runner.invoke(app, ["users", "list", "--json"], env=env).stdout)
    zhao = next(u for u in listed if u["username"] == "zhao")
    assert zhao == {
        "username": "zhao",
        "name": "赵敏",
        "roles": ["committee_reviewer"],
        "committees": ["法制委员会"],
        "departments": [],
        "active": False,
        "has_password": True,
    }
    assert len(listed) == len(room.settings.users) + 1


def test_the_product_hashes_passwords_with_argon2s_recommended_cost() -> None:
    """The tests hash cheaply (conftest); the product itself must not: asked in a fresh process,
    the hasher uses at least RFC 9106's low-memory profile (argon2id, t=3, 64 MiB)."""
    probe = (
        "from publisher.review.users import _hasher; h = _hasher(); "
        "print(h.type.name, h.time_cost, h.memory_cost, h.parallelism)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    kind, time_cost, memory_kib, _ = out.split()
    assert kind == "ID" and int(time_cost) >= 3 and int(memory_kib) >= 65536
