"""notify send, notify list: the outbox sent now (for cron), and a person's notices."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from publisher.cli.common import JsonOpt, NewsroomOpt, console, open_newsroom, print_json, staff_errors
from publisher.notify import Dispatcher, notices_for, requeue_failed, senders_for
from publisher.notify.senders import close_all
from publisher.review.users import get_user
from publisher.store.engine import read_session, write_session
from publisher.timeutil import show, utc_now

app = typer.Typer(help="通知 / notices to staff, in the console and outward.", no_args_is_help=True)


@app.command("send")
def send(
    newsroom: NewsroomOpt = Path("."),
    again: Annotated[
        bool, typer.Option("--again", help="先把已放弃的消息重新排队 / requeue given-up messages first")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """立即发送到期的外发通知（邮件、群机器人） / send the due outward notices now (for cron)."""
    with staff_errors():
        room = open_newsroom(newsroom)
        owner = f"notify-{socket.gethostname()}-{os.getpid()}"
        requeued = 0
        if again:
            with write_session(room.engine) as session:
                requeued = requeue_failed(session, owner, utc_now())
        senders = senders_for(room.settings.notify)
        try:
            report = Dispatcher(room.engine, room.settings.notify, owner, senders).drain(utc_now())
        finally:
            close_all(senders)
    if as_json:
        print_json(
            {"sent": report.sent, "retried": report.retried, "failed": report.failed, "requeued": requeued}
        )
    else:
        console.print(
            f"已发送 {report.sent}，稍后重试 {report.retried}，放弃 {report.failed}"
            + (f"，重新排队 {requeued}" if again else "")
            + f" / sent {report.sent}, to retry {report.retried}, given up {report.failed}"
        )
    if report.failed:
        raise typer.Exit(1)  # cron mails whoever runs it


@app.command("list")
def list_(
    user: Annotated[str, typer.Option("--user", "-u", help="用户名 / whose notices")],
    unread: Annotated[bool, typer.Option("--unread", help="只看未读 / unread only")] = False,
    limit: Annotated[int, typer.Option(help="最多多少条 / at most this many")] = 50,
    newsroom: NewsroomOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """某人的通知，最新在前 / a person's notices, newest first."""
    with staff_errors():
        room = open_newsroom(newsroom)
        with read_session(room.engine) as session:
            get_user(session, user)  # an unknown name is an error, not an empty list
            notices = notices_for(session, user, unread_only=unread, limit=limit)
    tz = room.settings.tz
    if as_json:
        print_json(
            [
                {
                    "id": n.id,
                    "kind": n.kind.value,
                    "title": n.title,
                    "body": n.body,
                    "link": n.link,
                    "created_at": n.created_at.isoformat(),
                    "read_at": n.read_at.isoformat() if n.read_at else None,
                }
                for n in notices
            ]
        )
        return
    table = Table(title=f"{user} 的通知 / notices")
    for column in ("", "时间 / at", "标题 / title", "链接 / link"):
        table.add_column(column)
    for n in notices:
        table.add_row("●" if n.unread else "", show(n.created_at, tz), escape(n.title), escape(n.link or ""))
    console.print(table)
