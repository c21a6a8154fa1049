"""audit log, audit verify."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from publisher import audit
from publisher.cli.common import (
    JsonOpt,
    NewsroomOpt,
    console,
    err_console,
    open_newsroom,
    print_json,
    staff_errors,
)
from publisher.review import integrity
from publisher.store.engine import read_session
from publisher.timeutil import show

app = typer.Typer(help="审计日志 / the hash-chained audit log.", no_args_is_help=True)


@app.command("log")
def log(
    newsroom: NewsroomOpt = Path("."),
    limit: Annotated[int, typer.Option(help="最近多少条 / how many recent events")] = 30,
    object_id: Annotated[str | None, typer.Option("--object", help="只看一个对象（如稿件 slug）")] = None,
    as_json: JsonOpt = False,
) -> None:
    """最近的审计事件 / recent audit events, newest first."""
    with staff_errors():
        room = open_newsroom(newsroom)
        with read_session(room.engine) as session:
            events = audit.recent(session, limit, object_id)
    if as_json:
        print_json(
            [
                {
                    "seq": e.seq,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "object_type": e.object_type,
                    "object_id": e.object_id,
                    "revision": e.revision_id,
                    "details": e.details_json,
                    "hash": e.hash,
                }
                for e in events
            ]
        )
        return
    table = Table(title="审计日志 / audit log", title_justify="left")
    for label in ("#", "时间 / at", "操作人 / actor", "动作 / action", "对象 / object", "版本 / revision"):
        table.add_column(label, overflow="fold")
    for e in events:
        table.add_row(
            str(e.seq),
            show(e.at, room.settings.tz),
            e.actor,
            e.action,
            e.object_id,
            (e.revision_id or "")[:12],
        )
    console.print(table)


@app.command("verify")
def verify(newsroom: NewsroomOpt = Path("."), as_json: JsonOpt = False) -> None:
    """校验哈希链与审核记录 / verify the hash chain, and the review acts and states against it."""
    with staff_errors():
        room = open_newsroom(newsroom)
        with read_session(room.engine) as session:
            result = integrity.verify(session)
    if as_json:
        print_json(
            {
                "events": result.events,
                "ok": result.ok,
                "breaks": [{"seq": b.seq, "reason": b.reason, "subject": b.subject} for b in result.breaks],
            }
        )
    elif result.ok:
        console.print(
            f"[green]审计链完整[/]：{result.events} 条事件，哈希链无断裂，审核记录与之相符 / "
            "chain intact, review acts and states agree with it."
        )
    else:
        for b in result.breaks:
            where = escape(b.subject) if b.subject else f"第 {b.seq} 条 / event {b.seq}"
            err_console.print(f"[red]{where}:[/] {escape(b.reason)}")
        err_console.print(
            f"[bold red]审计校验未通过 / the audit found the records altered[/]：{len(result.breaks)} 处问题，"
            f"共 {result.events} 条事件 / {len(result.breaks)} problems, {result.events} events."
        )
    if not result.ok:
        raise typer.Exit(1)
