"""publisher doctor: the preflight checks as a table, and an exit code a script can act on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from publisher import doctor as service
from publisher.cli.common import JsonOpt, NewsroomOpt, console, open_newsroom, print_json, staff_errors

LABEL = {
    service.Level.OK: "[green]正常 / OK[/]",
    service.Level.WARNING: "[yellow]警告 / warning[/]",
    service.Level.BLOCKING: "[bold red]阻断 / blocking[/]",
}


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor(
        newsroom: NewsroomOpt = Path("."),
        as_json: JsonOpt = False,
        timeout: Annotated[
            float, typer.Option(help="每个接口的超时（秒） / seconds to wait for each endpoint")
        ] = service.PROBE_TIMEOUT,
    ) -> None:
        """上线前自检：数据库、密钥、接口、日历、审核人员、字体、磁盘 / preflight checks."""
        with staff_errors():
            room = open_newsroom(newsroom)
            findings = service.diagnose(room, timeout=timeout)
        blocked = [f for f in findings if f.level is service.Level.BLOCKING]
        if as_json:
            print_json({"ok": not blocked, "checks": [f.as_dict() for f in findings]})
        else:
            table = Table(title="自检 / doctor", title_justify="left")
            table.add_column("检查 / check")
            table.add_column("结果 / result")
            table.add_column("说明 / detail", overflow="fold")
            for f in findings:
                table.add_row(escape(f.check), LABEL[f.level], escape(f.detail))
            console.print(table)
            if blocked:
                console.print(f"[bold red]{len(blocked)} 项阻断，修复后才能发布 / {len(blocked)} blocking[/]")
            else:
                console.print("[green]可以发布 / ready to publish[/]")
        if blocked:
            raise typer.Exit(1)
