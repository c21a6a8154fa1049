"""Apply Alembic migrations: automatically on first use, and by `publisher db upgrade`.

Every command opens the database, and importing Alembic costs a tenth of a second: a database
already at `HEAD` is recognised with one plain query, and Alembic is loaded only to upgrade.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from publisher.store.engine import MIGRATION_LOCK_KEY, schema_xact_lock

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision; a test holds it to what Alembic finds in migrations/versions.
HEAD = "0022"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The schema's revision, or None for a database never migrated."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:
        return None  # no alembic_version table yet
    return rows[0] if len(rows) == 1 else None


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Bring the schema to head; returns (before, after). Safe when several processes start at once."""
    before = current_revision(engine)
    if before == HEAD:
        return before, HEAD
    from alembic import command

    config = alembic_config()
    # Take the write lock before Alembic reads the version, so a racing process waits, then sees head.
    locking = engine.execution_options(sqlite_immediate=True) if engine.dialect.name == "sqlite" else engine
    with locking.begin() as conn:
        schema_xact_lock(conn, MIGRATION_LOCK_KEY)
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, current_revision(engine)
