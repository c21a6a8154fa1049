"""plan: campaign slots as a month grid and a table, empty-slot warnings, iCalendar export."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from publisher.cli.common import (
    JsonOpt,
    NewsroomOpt,
    console,
    err_console,
    open_newsroom,
    print_json,
    staff_errors,
)
from publisher.errors import PublisherError
from publisher.schedule import Schedules, load_schedules
from publisher.schedule.plan import (
    STATE_LABELS,
    Plan,
    all_slots,
    build_plan,
    month_weeks,
    parse_month,
    plan_dict,
    plan_states,
    to_ics,
)
from publisher.timeutil import show, utc_now

STATE_STYLE = {"filled": "green", "held": "yellow", "empty": "red"}
STATE_MARK = {"filled": "●", "held": "◐", "empty": "○"}
WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")


def _as_of(text: str | None, schedules: Schedules) -> datetime:
    if text is None:
        return utc_now()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PublisherError(f"时间格式应为 ISO 8601 / --as-of must be ISO 8601, not {text!r}") from None
    # Staff type local times; an offset, when given, wins.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=schedules.tz)


def _grid(plan: Plan, schedules: Schedules) -> Table:
    year, month = plan.month
    table = Table(title=f"{year}年{month}月", title_justify="left", show_lines=True)
    for name in WEEKDAYS:
        table.add_column(name, justify="left", min_width=6)
    by_day: dict[date, list[str]] = {}
    for p in plan.rows:
        by_day.setdefault(p.slot.due.astimezone(schedules.tz).date(), []).append(
            f"[{STATE_STYLE[p.state]}]{STATE_MARK[p.state]}[/]"
        )
    today = plan.as_of.astimezone(schedules.tz).date()
    cal = schedules.calendar
    for week in month_weeks(plan.month):
        cells = []
        for day in week:
            if day is None:
                cells.append("")
                continue
            head = f"[bold reverse]{day.day:>2}[/]" if day == today else f"{day.day:>2}"
            if cal.is_makeup_workday(day):
                head += " [cyan]班[/]"
            elif cal.is_holiday(day):
                head += " [magenta]休[/]"
            cells.append(head + "\n" + "".join(by_day.get(day, [])))
        table.add_row(*cells)
    return table


def _table(plan: Plan, schedules: Schedules) -> Table:
    table = Table(title=f"时段 / slots ({len(plan.rows)})", title_justify="left")
    table.add_column("时间", no_wrap=True)
    table.add_column("战役", no_wrap=True)
    table.add_column("内容 · 渠道", min_width=16, overflow="fold")
    table.add_column("状态", no_wrap=True)
    table.add_column("稿件", min_width=10, overflow="fold")
    for p in plan.rows:
        s = p.slot
        note = ""
        if s.shifted_from:
            note += f"\n[dim]原定 {s.shifted_from:%m-%d}，顺延[/]"
        if s.warning:
            note += "\n[yellow]⚠ " + escape(s.warning.split(" / ")[0]) + "[/]"
        table.add_row(
            show(s.due, schedules.tz)[:16],
            f"{s.campaign} #{s.number}",
            escape(s.label) + "\n[dim]" + " · ".join(s.channels) + "[/]" + note,
            f"[{STATE_STYLE[p.state]}]{STATE_LABELS[p.state]}[/]",
            "\n".join(p.articles),
        )
    return table


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(
        campaign: Annotated[str | None, typer.Argument(help="只看一个战役 / one campaign (its key)")] = None,
        newsroom: NewsroomOpt = Path("."),
        month: Annotated[str | None, typer.Option(help="月份 YYYY-MM / the month to show")] = None,
        horizon_days: Annotated[
            int | None,
            typer.Option(
                help="空缺预警天数（默认取 schedules/newsroom.toml） / warn of empty slots this many days ahead"
            ),
        ] = None,
        ics: Annotated[
            Path | None,
            typer.Option(help="导出 iCalendar 文件 / write the slots to this .ics file", dir_okay=False),
        ] = None,
        as_of: Annotated[
            str | None,
            typer.Option("--as-of", help="按此时刻规划（本地时间） / plan as of this time (local)"),
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """排期：月历、时段状态、空缺预警、导出日历 / the plan: month grid, slot states, warnings, iCalendar."""
        with staff_errors():
            room = open_newsroom(newsroom)
            schedules = load_schedules(room)
            now = _as_of(as_of, schedules)
            chosen = parse_month(month) if month else None
            result = build_plan(
                room, schedules, campaign=campaign, month=chosen, horizon_days=horizon_days, as_of=now
            )
            exported = 0
            if ics is not None:
                # The whole windows, so staff calendars hold every slot, not just this month's.
                planned = plan_states(room, all_slots(schedules, result.campaigns, chosen))
                ics.write_bytes(to_ics(planned, schedules, room.settings.newsroom.name, now))
                exported = len(planned)
        if as_json:
            data = plan_dict(result, schedules)
            if ics is not None:
                data["ics"] = {"file": str(ics), "events": exported}
            print_json(data)
            return
        if result.paused:
            reason = f"：{escape(result.pause_reason)}" if result.pause_reason else ""
            console.print(f"[bold white on red] 已暂停全部发布 / all releases are paused{reason} [/]")
        console.print(_grid(result, schedules))
        console.print(
            "[green]● 已排稿 filled[/]  [yellow]◐ 待审批 held for approval[/]  [red]○ 空缺 empty[/]  "
            "[cyan]班[/] 调休上班  [magenta]休[/] 法定节假日"
        )
        console.print(_table(result, schedules))
        if result.horizon_empty:
            err_console.print(
                f"[yellow]未来 {result.horizon_days} 天内有 {len(result.horizon_empty)} 个空缺时段 / "
                f"{len(result.horizon_empty)} empty slot(s) within {result.horizon_days} days:[/]"
            )
            for p in result.horizon_empty:
                s = p.slot
                err_console.print(
                    f"  [yellow]{show(s.due, schedules.tz)[:16]}  {s.campaign} #{s.number}  {escape(s.label)}[/]"
                )
        for warning in result.warnings:
            err_console.print(f"[yellow]⚠ {escape(warning)}[/]")
        if ics is not None:
            console.print(f"已导出 {exported} 个时段到 {ics} / exported {exported} slots")
