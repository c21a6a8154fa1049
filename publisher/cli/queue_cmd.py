"""queue: what is due, read as plain rows (publisher/store/listings.py), so that a fresh
`publisher queue` imports neither SQLModel nor the table classes nor the engine's services."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from publisher.cli.common import JsonOpt, NewsroomOpt, console, open_newsroom, print_json, staff_errors
from publisher.delivery.states import DeliveryAction
from publisher.store.listings import due_queue
from publisher.timeutil import show

STATUS = {
    "scheduled": "待发",
    "claimed": "发送中",
    "done": "已发",
    "failed": "失败",
    "held": "暂缓（未审核通过）",
    "missed": "错过",
    "canceled": "已取消",
    "unknown": "结果待核对",
}


def register(app: typer.Typer) -> None:
    @app.command()
    def queue(
        newsroom: NewsroomOpt = Path("."),
        all_: Annotated[bool, typer.Option("--all", help="包括已发出的 / include done")] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """待发队列（按渠道，本地时间） / what is due, per channel, in local time."""
        with staff_errors():
            room = open_newsroom(newsroom)
            with room.engine.connect() as conn:
                rows = due_queue(conn, include_done=all_)
        tz = room.settings.tz
        if as_json:
            print_json(
                [
                    {
                        "delivery": r.delivery.id,
                        "slug": r.slug,
                        "title": r.title,
                        "channel": r.delivery.channel,
                        "due": r.delivery.due_at.isoformat(),
                        "status": r.delivery.status,
                        "action": r.delivery.action,
                        "approved": r.approved,
                        "attempts": r.delivery.attempts,
                        "error": r.delivery.last_error,
                        "campaign": r.delivery.campaign,
                        "slot": r.delivery.slot_number,
                    }
                    for r in rows
                ]
            )
            return
        table = Table(title=f"发布队列 / queue ({len(rows)})", title_justify="left")
        for label in ("渠道", "时间", "标题", "状态", "审核", "说明"):
            table.add_column(label, overflow="fold")
        for r in rows:
            table.add_row(
                r.delivery.channel,
                show(r.delivery.due_at, tz),
                ("【撤下 / takedown】" if r.delivery.action == DeliveryAction.TAKE_DOWN else "") + r.title,
                STATUS.get(r.delivery.status, r.delivery.status),
                "已通过" if r.approved else "[yellow]未通过[/]",
                escape(r.delivery.last_error or ""),
            )
        console.print(table)
