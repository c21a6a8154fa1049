"""inspect: 定期清查 of everything live, scored like the national checklist."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from publisher.cli.common import JsonOpt, NewsroomOpt, console, open_newsroom, print_json, staff_errors
from publisher.inspection import output
from publisher.inspection.findings import Report
from publisher.inspection.run import history, inspect, keep_latest, probe_sites
from publisher.timeutil import show

STYLES = {"veto": "bold red", "high": "red", "medium": "yellow", "low": "dim"}


def print_report(report: Report, tz: ZoneInfo, limit: int = 50) -> None:
    verdict = "[green]合格 / pass[/]" if report.passed else "[bold red]不合格 / fail[/]"
    console.print(f"得分 / score [bold]{report.score:g}[/]，单项否决 / vetoes {report.vetoes}，{verdict}")
    console.print(f"检查范围 / checked: {escape(output.checked_summary(report))}")
    if report.as_of is not None:
        console.print(
            f"评判时间 / judged as of {show(report.as_of, tz)}（review/inspection.toml 的 as_of："
            "固定时间的演示或培训新闻室 / a newsroom set at a fixed time）"
        )
    if not report.findings:
        console.print("[green]未发现问题 / nothing found[/]")
        return
    table = Table(title=f"问题 / findings ({len(report.findings)})", title_justify="left")
    for name in ("等级 / severity", "规则 / rule", "位置 / where", "问题 / what", "证据 / evidence"):
        table.add_column(name, overflow="fold")
    for scored in report.findings[:limit]:
        f = scored.finding
        where = f.location + (f":{f.line}" if f.line else "")
        level = scored.severity.value
        table.add_row(
            f"[{STYLES[level]}]{output.SEVERITY_LABELS[level]} {level}[/]",
            f.rule,
            escape(f"{f.channel} {where}".strip()),
            escape(f.message),
            escape(f.evidence),
        )
    console.print(table)
    if len(report.findings) > limit:
        console.print(
            f"… 另有 {len(report.findings) - limit} 项 / {len(report.findings) - limit} more (--json)"
        )


def register(app: typer.Typer) -> None:
    @app.command(name="inspect")
    def inspect_cmd(
        newsroom: NewsroomOpt = Path("."),
        live: Annotated[
            str | None,
            typer.Option(help="线上网址，逐页比对线上内容 / the live site's URL, to compare what it serves"),
        ] = None,
        html: Annotated[Path | None, typer.Option(help="写出 HTML 报告 / write the HTML report here")] = None,
        csv: Annotated[Path | None, typer.Option(help="写出 CSV / write the findings as CSV here")] = None,
        probe: Annotated[
            bool, typer.Option("--probe", help="只记录一次网站可用性探测 / record one uptime probe and stop")
        ] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """定期清查：网站与各渠道在线内容对照审定稿件与检查指标 / inspect everything live."""
        if probe:
            with staff_errors():
                rows = probe_sites(open_newsroom(newsroom), live_url=live)
            for row in rows:
                state = (
                    "[green]可访问 / up[/]"
                    if row.ok
                    else f"[red]不可访问 / down[/] {escape(row.error or '')}"
                )
                console.print(f"{row.channel} {row.url} {row.status or '-'} {row.seconds:.2f}s {state}")
            if any(not row.ok for row in rows):
                raise typer.Exit(1)
            return
        with staff_errors():
            room = open_newsroom(newsroom)
            report = inspect(room, live_url=live)
            latest = keep_latest(room, report)
            if html is not None:
                html.write_text(
                    output.to_html(report, history(room), room.settings.tz, room.settings.newsroom.name),
                    encoding="utf-8",
                )
            if csv is not None:
                csv.write_text(output.to_csv(report), encoding="utf-8")
        if as_json:
            print_json(report.as_dict())
        else:
            print_report(report, room.settings.tz)
            console.print(f"HTML 报告（含历次得分） / report with the trend: {html or latest}")
            if report.findings:
                console.print(
                    "问题已记为整改任务，在控制台「清查」页处理 / the findings are tasks on the console's "
                    f"清查 page: publisher console -N {newsroom} → /inspection"
                )
        if not report.passed:
            raise typer.Exit(1)
