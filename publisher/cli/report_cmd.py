"""report supply: the monthly partner-supply report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from publisher.cli.common import JsonOpt, NewsroomOpt, console, open_newsroom, print_json, staff_errors
from publisher.store.engine import read_session
from publisher.supply.report import ALL, ReportRow, supply_report

app = typer.Typer(help="报表 / reports.", no_args_is_help=True)


@app.command()
def supply(
    month: Annotated[str, typer.Option("--month", help="月份 YYYY-MM（本地时间） / the month")],
    as_csv: Annotated[bool, typer.Option("--csv", help="以 CSV 输出 / print CSV")] = False,
    newsroom: NewsroomOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """供稿与采用月报：按合作媒体、栏目、部门 / supplied, adopted, rate, median delay."""
    with staff_errors():
        room = open_newsroom(newsroom)
        with read_session(room.engine) as session:
            report = supply_report(session, room, month)
    if as_csv:
        sys.stdout.write(report.to_csv())
    elif as_json:
        print_json([r.as_dict() for r in report.rows])
    else:
        console.print(render_table(report.month, report.rows))


def render_table(month: str, rows: list[ReportRow]) -> Table:
    table = Table(title=f"供稿月报 / supply report {month}", title_justify="left")
    for label in ("合作媒体", "栏目", "部门"):
        table.add_column(label, overflow="fold")
    for label in ("供稿", "采用", "采用率", "中位时延（小时）"):
        table.add_column(label, justify="right")
    for r in rows:
        table.add_row(
            r.outlet,
            r.column,
            r.department,
            str(r.supplied),
            str(r.adopted),
            "—" if r.rate is None else f"{r.rate:.0%}",
            "—" if r.median_delay_hours is None else f"{r.median_delay_hours:.1f}",
            style="bold" if r.column == ALL else None,
        )
    return table
