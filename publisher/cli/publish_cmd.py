"""publish (at once, through the engine) and restore-article (lift a retraction)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from publisher.auth.permissions import Act
from publisher.cli.common import JsonOpt, NewsroomOpt, console, open_newsroom, print_json, staff_errors
from publisher.cli.identity import AsOpt, authorized
from publisher.timeutil import show

_SHOWN = {
    "done": "[green]已发布 / done[/]",
    "held": "[red]暂缓 / held[/]",
    "failed": "[red]失败 / failed[/]",
    "pending": "[yellow]待发 / pending[/]",
}


def register(app: typer.Typer) -> None:
    @app.command()
    def publish(
        slug: str,
        channels: Annotated[
            list[str], typer.Option("--channel", "-c", help="渠道（可重复） / a channel (repeatable)")
        ],
        as_: AsOpt = None,
        newsroom: NewsroomOpt = Path("."),
        as_json: JsonOpt = False,
    ) -> None:
        """立即发布（经发布引擎与发布闸门） / publish now, through the engine and its gate.

        Exit 0: done on every channel; 1: a channel held it (the gate's reasons) or failed;
        2: some channels pending (`publisher run` finishes them)."""
        from publisher.engine.publish_now import publish_now  # loads the worker: only when asked

        with staff_errors():
            room = open_newsroom(newsroom)
            user = authorized(room, as_, Act.SCHEDULE).username
            names = [n.strip() for c in channels for n in c.split(",") if n.strip()]
            report = publish_now(room, slug, names, user)
        if as_json:
            print_json(
                {
                    "slug": report.slug,
                    "channels": [
                        {
                            "channel": c.channel,
                            "outcome": c.outcome.value,
                            "detail": c.detail,
                            "next_attempt_at": c.next_attempt_at.isoformat() if c.next_attempt_at else None,
                        }
                        for c in report.channels
                    ],
                    "warnings": report.warnings,
                }
            )
            raise typer.Exit(report.exit_code)
        tz = room.settings.tz
        for c in report.channels:
            line = f"  {_SHOWN[c.outcome.value]}  {slug} → {c.channel}"
            if c.detail:
                line += f"：{escape(c.detail)}"
            if c.next_attempt_at is not None:
                line += f"，下次尝试 / next try {show(c.next_attempt_at, tz)}"
            console.print(line)
        if report.exit_code == 2:
            console.print(
                "  未完成的发布由发布引擎重试：请运行 publisher run / "
                "the engine retries what is pending: run `publisher run`"
            )
        elif report.exit_code == 1:
            console.print(
                "  暂缓或失败的渠道：按上面的原因处理后再次运行 publisher publish / "
                "for a held or failed channel, act on its reason, then run `publisher publish` again"
            )
        raise typer.Exit(report.exit_code)

    @app.command("restore-article")
    def restore_article(
        slug: str,
        reason: Annotated[str, typer.Option("--reason", help="解除撤稿的理由（必填） / why")],
        as_: AsOpt = None,
        newsroom: NewsroomOpt = Path("."),
    ) -> None:
        """解除撤稿：稿件须重新送审，通过后才能再发布 / lift a retraction; the article goes back through review.

        Nothing is published: submit the article again (`publisher review submit`) and approve it,
        then schedule or publish it."""
        from publisher.engine import retraction

        with staff_errors():
            room = open_newsroom(newsroom)
            user = authorized(room, as_, Act.RETRACT).username
            done = retraction.reinstate(room, slug, reason, user)
        tz = room.settings.tz
        console.print(
            f"[green]已解除撤稿 / retraction lifted[/] {slug}（撤稿于 / retracted {show(done.retracted_at, tz)}）："
            f"{escape(done.reason)}"
        )
        if done.voided:
            numbers = "、".join(f"第 {n} 版" for n in done.voided)
            console.print(f"  已结束的审核 / reviews ended: {numbers}")
        console.print(
            "  稿件未发布：请重新送审（publisher review submit），审核通过后再安排发布 / "
            f"nothing was published: submit {slug} again (`publisher review submit`), and once it is "
            "approved schedule or publish it"
        )
