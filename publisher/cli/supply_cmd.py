"""supply (send, sync, token, adopt, holdings), and the top-level retract and serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import col, select

from publisher.auth.permissions import Act
from publisher.cli.common import (
    JsonOpt,
    NewsroomOpt,
    console,
    ensure_port_free,
    err_console,
    open_newsroom,
    print_json,
    staff_errors,
)
from publisher.cli.engine_cmd import parse_time
from publisher.cli.identity import AsOpt, authorized
from publisher.errors import PublisherError
from publisher.store.engine import read_session
from publisher.store.tables import Article, Supply
from publisher.supply import service
from publisher.timeutil import show

app = typer.Typer(help="合作媒体供稿 / partner supply.", no_args_is_help=True)
token_app = typer.Typer(help="拉取订阅源令牌 / pull-feed tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@app.command()
def send(
    slug: str,
    partners: Annotated[
        str | None,
        typer.Option("--partners", "-p", help="合作媒体，逗号分隔（默认：所有接收此稿的） / partners"),
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="供稿时间（默认：现在） / when")] = None,
    as_: AsOpt = None,
    newsroom: NewsroomOpt = Path("."),
) -> None:
    """向合作媒体供稿（经发布引擎） / schedule an article to the partners that take it."""
    with staff_errors():
        room = open_newsroom(newsroom)
        user = authorized(room, as_, Act.SUPPLY).username
        names = [p.strip() for p in partners.split(",") if p.strip()] if partners else None
        when = parse_time(at, room.settings.tz) if at else None
        plan = service.supply_article(room, slug, user, names=names, at=when)
    for item in plan.scheduled:
        verb = "已安排" if item.created else "已存在"
        console.print(f"{verb}: {slug} → {item.channel} {show(item.due, room.settings.tz)}")
    for name, why in plan.skipped.items():
        console.print(f"[yellow]不供 / skipped[/] {name}: {escape(why)}")
    for warning in plan.warnings:
        console.print(f"[yellow]警告 / warning:[/] {escape(warning)}")


@app.command()
def sync(as_: AsOpt = None, newsroom: NewsroomOpt = Path(".")) -> None:
    """补发更正：把已审核通过的新版本发给持有旧版的合作媒体 / queue corrections not yet queued."""
    with staff_errors():
        room = open_newsroom(newsroom)
        queued = service.follow_corrections(room, authorized(room, as_, Act.SUPPLY).username)
    for partner, slug in queued:
        console.print(f"更正 / correction: {slug} → {partner}")
    console.print(f"已排入 {len(queued)} 项更正 / {len(queued)} corrections queued")


@app.command()
def holdings(
    partner: Annotated[str | None, typer.Argument(help="合作媒体 / partner")] = None,
    newsroom: NewsroomOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """各合作媒体持有的稿件版本 / what each partner holds."""
    with staff_errors():
        room = open_newsroom(newsroom)
        with read_session(room.engine) as session:
            query = (
                select(Supply, Article.slug)
                .join(Article, col(Article.id) == col(Supply.article_id))
                .order_by(col(Supply.partner), col(Supply.updated_at).desc())
            )
            if partner:
                query = query.where(Supply.partner == partner)
            rows = list(session.exec(query).all())
    if as_json:
        print_json(
            [
                {
                    "partner": r.partner,
                    "slug": slug,
                    "version": r.version,
                    "pubstatus": r.pubstatus,
                    "revision": r.revision_id,
                    "remote_id": r.remote_id,
                    "embargoed": r.embargoed.isoformat() if r.embargoed else None,
                    "updated_at": r.updated_at.isoformat(),
                }
                for r, slug in rows
            ]
        )
        return
    table = Table(title=f"供稿持有 / holdings ({len(rows)})", title_justify="left")
    for label in ("合作媒体", "稿件", "版本", "状态", "对方编号", "更新"):
        table.add_column(label, overflow="fold")
    for r, slug in rows:
        status = "可用" if r.pubstatus == "usable" else "[red]已撤稿[/]"
        table.add_row(
            r.partner, slug, str(r.version), status, r.remote_id or "", show(r.updated_at, room.settings.tz)
        )
    console.print(table)


@app.command()
def adopt(
    slug: str,
    partner: str,
    url: Annotated[str, typer.Option("--url", help="刊发地址 / where it ran")],
    at: Annotated[str | None, typer.Option("--at", help="刊发时间（默认：现在） / when it ran")] = None,
    as_: AsOpt = None,
    newsroom: NewsroomOpt = Path("."),
) -> None:
    """登记合作媒体采用 / record that a partner ran an article."""
    with staff_errors():
        room = open_newsroom(newsroom)
        user = authorized(room, as_, Act.SUPPLY).username
        when = parse_time(at, room.settings.tz) if at else None
        adopted = service.record_adoption(room, partner, slug, url, user, "staff", adopted_at=when)
    if adopted.created:
        console.print(f"已登记采用 / recorded: {slug} ← {partner} {adopted.url}")
    else:
        console.print(f"此前已登记 / already recorded: {slug} ← {partner} {adopted.url}")


@token_app.command("issue")
def token_issue(partner: str, as_: AsOpt = None, newsroom: NewsroomOpt = Path(".")) -> None:
    """签发拉取令牌（只显示一次） / issue a pull token (shown once)."""
    with staff_errors():
        room = open_newsroom(newsroom)
        issued = service.issue_token(room, partner, authorized(room, as_, Act.SUPPLY).username)
    err_console.print(f"令牌 #{issued.id} 已签发给 {partner}；只显示这一次，请妥善转交 / shown once:")
    console.print(issued.token)


@token_app.command("revoke")
def token_revoke(
    partner: str,
    token_id: Annotated[int | None, typer.Option("--id", help="只吊销这一个 / only this token")] = None,
    as_: AsOpt = None,
    newsroom: NewsroomOpt = Path("."),
) -> None:
    """吊销令牌（默认：该合作媒体的全部） / revoke tokens (default: all of the partner's)."""
    with staff_errors():
        room = open_newsroom(newsroom)
        count = service.revoke_tokens(room, partner, authorized(room, as_, Act.SUPPLY).username, token_id)
    console.print(f"已吊销 {count} 个令牌 / revoked {count}")


@token_app.command("list")
def token_list(
    partner: Annotated[str | None, typer.Argument()] = None,
    newsroom: NewsroomOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """令牌列表（不含令牌本身） / tokens (never the secret itself)."""
    with staff_errors():
        room = open_newsroom(newsroom)
        with read_session(room.engine) as session:
            rows = service.list_tokens(session, partner)
    if as_json:
        print_json(
            [
                {
                    "id": r.id,
                    "partner": r.partner,
                    "hint": r.hint,
                    "issued_at": r.issued_at.isoformat(),
                    "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
                }
                for r in rows
            ]
        )
        return
    for r in rows:
        state = f"已吊销 {show(r.revoked_at, room.settings.tz)}" if r.revoked_at else "有效"
        console.print(f"#{r.id} {r.partner} {r.hint}… 签发 {show(r.issued_at, room.settings.tz)} {state}")


def register(root: typer.Typer) -> None:
    @root.command()
    def retract(
        slug: str,
        reason: Annotated[str, typer.Option("--reason", help="撤稿理由（必填） / why")],
        as_: AsOpt = None,
        newsroom: NewsroomOpt = Path("."),
        as_json: JsonOpt = False,
    ) -> None:
        """撤稿：所有渠道撤下，合作媒体收到撤稿通知 / retract an article everywhere.

        Exit 0: taken down everywhere; 2: some channels pending (`publisher run` finishes them);
        1: a channel refused (see its reason)."""
        from publisher.engine import retraction

        with staff_errors():
            room = open_newsroom(newsroom)
            user = authorized(room, as_, Act.RETRACT).username
            report = retraction.take_down_now(room, retraction.retract(room, slug, reason, user))
        code = 0 if report.complete else 1 if report.failed else 2
        if as_json:
            print_json(
                {
                    "slug": report.slug,
                    "reason": report.reason,
                    "already": report.already,
                    "canceled": report.canceled,
                    "channels": [
                        {
                            "channel": c.channel,
                            "state": c.state,
                            "detail": c.detail,
                            "next_attempt_at": c.next_attempt_at.isoformat() if c.next_attempt_at else None,
                        }
                        for c in report.channels
                    ],
                }
            )
            raise typer.Exit(code)
        if report.already:
            console.print(
                f"[yellow]{slug} 此前已撤稿，已重新核对各渠道 / already retracted; channels rechecked[/]"
            )
        console.print(f"[bold red]已撤稿 / retracted[/] {slug}：{escape(reason)}")
        console.print(f"  取消未发出的发布 / pending releases canceled: {report.canceled}")
        tz = room.settings.tz
        for c in report.channels:
            if c.state == "done":
                console.print(f"  [green]已撤下 / done[/]     {c.channel}")
            elif c.state == "pending":
                when = f"，下次尝试 / next try {show(c.next_attempt_at, tz)}" if c.next_attempt_at else ""
                why = f"：{escape(c.detail)}" if c.detail else ""
                console.print(f"  [yellow]待撤下 / pending[/]  {c.channel}{why}{when}")
            else:
                console.print(f"  [red]撤下失败 / failed[/]  {c.channel}：{escape(c.detail or '')}")
        if report.pending:
            console.print(
                "  未完成的撤下由发布引擎重试：请运行 publisher run / "
                "the engine retries what is pending: run `publisher run`"
            )
        if report.failed:
            console.print(
                "  撤下失败的渠道请人工处理后再次运行 publisher retract / "
                "fix the failed channels by hand, then run `publisher retract` again"
            )
        raise typer.Exit(code)

    @root.command()
    def serve(
        port: Annotated[int, typer.Option("--port", help="端口 / port")] = 8730,
        with_console: Annotated[
            bool,
            typer.Option(
                "--console", help="同一进程在 /console 提供工作台 / also serve the staff console at /console"
            ),
        ] = False,
        newsroom: NewsroomOpt = Path("."),
    ) -> None:
        """HTTP 服务（仅 127.0.0.1）：合作媒体订阅源与采用回执，文档在 /docs / the HTTP service."""
        import uvicorn

        from publisher.web.app import create_app

        with staff_errors():
            room = open_newsroom(newsroom)
            room.engine  # noqa: B018 - migrate before the first request, and fail here if it cannot
            if port < 1 or port > 65535:
                raise PublisherError(f"端口无效 / bad port {port}")
            ensure_port_free(port)
        err_console.print(
            f"服务运行于 / serving on http://127.0.0.1:{port}/  （接口文档 / API docs: http://127.0.0.1:{port}/docs）"
        )
        app = create_app(room)
        if with_console:
            from publisher.console.app import create_console_app

            app.mount("/console", create_console_app(room))
            err_console.print(f"工作台 / console: http://127.0.0.1:{port}/console/")
        # Bound to 127.0.0.1: partners reach it through the office's reverse proxy, never directly.
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
