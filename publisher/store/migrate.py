"""Apply Alembic migrations: automatically on first use, and by `publisher db upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from publisher.store.engine import MIGRATION_LOCK_KEY

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Bring the schema to head; returns (before, after). Safe when several processes start at once."""
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    before = current_revision(engine)
    if before == head:
        return before, head
    # Take the write lock before Alembic reads the version, so a racing process waits, then sees head.
    locking = engine.execution_options(sqlite_immediate=True) if engine.dialect.name == "sqlite" else engine
    with locking.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, current_revision(engine)
