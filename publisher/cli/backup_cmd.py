"""backup, restore: the faces of publisher/backup.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from publisher import backup as service
from publisher.cli.common import (
    JsonOpt,
    NewsroomOpt,
    console,
    err_console,
    open_newsroom,
    print_json,
    staff_errors,
)
from publisher.timeutil import show


@contextmanager
def _store_errors() -> Iterator[None]:
    """A disk or database that fails under us is named, never shown as a traceback."""
    try:
        yield
    except OSError as exc:
        err_console.print(
            f"[bold red]错误 / error:[/] 文件读写失败 / a file operation failed: {escape(str(exc))}"
        )
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        err_console.print(
            f"[bold red]错误 / error:[/] 数据库不可用 / the database failed: {escape(reason)} "
            "(检查 PUBLISHER_DATABASE_URL / check the database URL and that the server is up)"
        )
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    @app.command()
    def backup(
        dest: Annotated[
            Path, typer.Argument(help="备份文件或存放它的文件夹 / the archive to write, or a folder for it")
        ],
        newsroom: NewsroomOpt = Path("."),
        as_json: JsonOpt = False,
    ) -> None:
        """备份数据库、素材和新闻室文件，附哈希清单 / back up the database, blobs and newsroom files."""
        with staff_errors(), _store_errors():
            room = open_newsroom(newsroom)
            try:
                report = service.backup(room, dest)
            finally:
                room.close()
        manifest = report.manifest
        if as_json:
            print_json({"archive": str(report.archive), "sha256": report.sha256, "manifest": manifest})
            return
        created = datetime.fromisoformat(manifest["created"].replace("Z", "+00:00"))
        table = Table(title="备份完成 / backup written", title_justify="left", show_header=False)
        table.add_column()
        table.add_column(overflow="fold")
        table.add_row("档案 / archive", escape(str(report.archive)))
        table.add_row("档案 SHA-256", report.sha256)
        table.add_row("时间 / created", show(created, room.settings.tz))
        table.add_row(
            "数据库 / database", f"{manifest['database']['kind']} @ {manifest['database']['schema_head']}"
        )
        table.add_row(
            "审计链 / audit chain", f"{manifest['audit']['events']} · {manifest['audit']['head_hash'][:16]}…"
        )
        table.add_row("素材 / blobs", str(manifest["blobs"]))
        table.add_row("文件 / files", str(len(manifest["files"])))
        console.print(table)
        console.print("请把档案的 SHA-256 另处保存 / keep the archive's SHA-256 somewhere apart from it.")

    @app.command()
    def restore(
        src: Annotated[Path, typer.Argument(help="备份档案 / the backup archive")],
        target: Annotated[
            Path,
            typer.Argument(
                help="空的目标文件夹 / an empty folder for the restored newsroom", file_okay=False
            ),
        ],
        as_json: JsonOpt = False,
    ) -> None:
        """恢复到空文件夹和空数据库并逐项校验 / restore into an empty folder and database, verified.

        数据库取恢复后的 publisher.toml，或 PUBLISHER_DATABASE_URL / the database is the one the
        restored publisher.toml names, or PUBLISHER_DATABASE_URL."""
        with staff_errors(), _store_errors():
            report = service.restore(src, target)
        if as_json:
            print_json(
                {
                    "target": str(report.target),
                    "files": report.files,
                    "blobs": report.blobs,
                    "audit_events": report.audit_events,
                    "schema_head": report.manifest["database"]["schema_head"],
                    "created": report.manifest["created"],
                }
            )
            return
        console.print(
            f"[green]恢复完成 / restored[/] {escape(str(report.target))}：{report.files} 个文件、"
            f"{report.blobs} 个素材，哈希全部相符；审计链 {report.audit_events} 条事件完整 / every hash "
            f"matches and the audit chain verifies."
        )
        console.print("下一步 / next: publisher build --newsroom " + escape(str(report.target)))
