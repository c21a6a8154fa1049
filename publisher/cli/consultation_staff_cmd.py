"""The staff's consultation commands: export for the legislative committee, draft the feedback
report, purge contacts. Registered on the `publisher consultation` group."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from publisher.auth.permissions import Act
from publisher.cli.common import NewsroomOpt, console, open_newsroom, staff_errors
from publisher.cli.identity import AsOpt, authorized
from publisher.consultation.exports import Format, Scope, export
from publisher.consultation.purge import purge
from publisher.consultation.report import draft_report
from publisher.timeutil import show

SlugArg = Annotated[str, typer.Argument(help="征求意见的标识 / the consultation's slug")]


def add_to(app: typer.Typer) -> None:
    @app.command(name="export")
    def export_cmd(
        slug: SlugArg,
        output: Annotated[Path, typer.Option("-o", "--output", help="写入此文件 / write here")],
        fmt: Annotated[Format, typer.Option("--format", help="xlsx 或 csv")] = Format.XLSX,
        internal: Annotated[
            bool,
            typer.Option(
                "--internal",
                help="内部版：含姓名与联系方式，记入审计 / internal: with names and contacts, audited",
            ),
        ] = False,
        newsroom: NewsroomOpt = Path("."),
        as_: AsOpt = None,
    ) -> None:
        """导出意见汇总（按条款）供法制委员会使用 / export the comments by clause."""
        with staff_errors():
            room = open_newsroom(newsroom)
            actor = authorized(room, as_, Act.CONSULT)
            scope = Scope.INTERNAL if internal else Scope.PUBLIC
            made = export(room.engine, actor, slug, scope, fmt, room.settings.tz, datetime.now(UTC))
            output.write_bytes(made.data)
        kind = "内部版（含联系方式） / internal" if internal else "公开版（已脱敏） / public"
        console.print(
            f"已导出 {made.rows} 条意见 / {made.rows} comments exported, {kind}: {escape(str(output))}"
        )

    @app.command(name="report")
    def report_cmd(
        slug: SlugArg,
        force: Annotated[
            bool,
            typer.Option("--force", help="未截止或有未办理意见时仍起草，缺项写入稿件 / draft anyway"),
        ] = False,
        newsroom: NewsroomOpt = Path("."),
        as_: AsOpt = None,
    ) -> None:
        """起草采纳情况说明（Markdown 稿件，随后送审） / draft the feedback report as an article."""
        with staff_errors():
            room = open_newsroom(newsroom)
            actor = authorized(room, as_, Act.CONSULT)
            drafted = draft_report(room, actor, slug, datetime.now(UTC), force=force)
        for line in drafted.missing.lines():
            console.print(f"[yellow]缺项 / missing:[/] {escape(line)}")
        console.print(
            f"已起草 / drafted: {escape(str(drafted.path.relative_to(room.root)))} ({drafted.slug})；"
            "下一步 / next: publisher ingest，然后送审 / then submit it for review"
        )

    @app.command(name="purge")
    def purge_cmd(
        slug: Annotated[str | None, typer.Argument(help="只处理这一项 / only this consultation")] = None,
        newsroom: NewsroomOpt = Path("."),
        as_: AsOpt = None,
    ) -> None:
        """删除到期的意见人联系方式（反馈说明发布后） / delete contacts whose retention has run out."""
        with staff_errors():
            room = open_newsroom(newsroom)
            actor = authorized(room, as_, Act.CONSULT)
            days = room.settings.consultation.contact_retention_days
            done, waiting = purge(room.engine, actor, days, datetime.now(UTC), slug=slug)
        for p in done:
            console.print(
                f"{p.slug}: 已删除联系方式 {p.contacts} 条、姓名 {p.names} 个、附件原名 {p.attachments} 个 / "
                f"{p.contacts} contacts, {p.names} names, {p.attachments} attachment names deleted"
            )
        for w in waiting:
            when = (
                show(w.purge_at, room.settings.tz)
                if w.purge_at
                else "反馈说明发布后 / after the feedback report is published"
            )
            console.print(f"{w.slug}: 保留至 / kept until {when}")
        if not done:
            console.print("没有到期的联系方式 / nothing due for deletion")
