"""db upgrade."""

from __future__ import annotations

from pathlib import Path

import typer

from publisher.cli.common import NewsroomOpt, console, open_newsroom, staff_errors
from publisher.store import migrate
from publisher.store.engine import make_engine

app = typer.Typer(help="数据库 / the database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(newsroom: NewsroomOpt = Path(".")) -> None:
    """把数据库升级到最新结构 / migrate the database to the newest schema."""
    with staff_errors():
        room = open_newsroom(newsroom)
        if room.database_url.startswith("sqlite:///"):
            room.var_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(room.database_url)
        try:
            before, after = migrate.upgrade(engine)
        finally:
            engine.dispose()
    if before == after:
        console.print(f"数据库已是最新结构 / already at {after}")
    else:
        console.print(f"数据库结构 / schema: {before or '(empty)'} → {after}")
