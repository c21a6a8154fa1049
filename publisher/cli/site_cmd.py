"""build, preview: the website channel and its feeds."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from publisher.cli.common import (
    JsonOpt,
    NewsroomOpt,
    console,
    ensure_port_free,
    open_newsroom,
    print_json,
    staff_errors,
)
from publisher.engine.release import released_gate
from publisher.errors import PublisherError
from publisher.site import build as site_build
from publisher.site.preview import make_server

# Below this many renders a progress bar is noise.
PROGRESS_FROM = 100


class Target(StrEnum):
    website = "website"
    feeds = "feeds"
    all = "all"


def print_report(report: site_build.BuildReport) -> None:
    table = Table(title=f"构建 / build: {report.channel}", title_justify="left", show_header=False)
    table.add_row("输出 / output", str(report.output))
    table.add_row("已发布稿件 / articles live", str(len(report.published)))
    table.add_row("页面 / pages", str(report.pages))
    table.add_row("订阅源文件 / feed files", str(report.feeds))
    table.add_row("新渲染 / rendered", str(report.rendered))
    table.add_row("写入 / written", str(len(report.written)))
    table.add_row("删除 / removed", str(len(report.removed)))
    table.add_row("未变 / unchanged", str(report.unchanged))
    table.add_row("部署 / deployed", "是（已切换）" if report.deployed else "否（无变化）")
    table.add_row("用时 / seconds", f"{report.seconds:.2f}")
    console.print(table)
    held = [(slug, reasons) for slug, reasons in report.excluded.items()]
    if held:
        console.print(f"[yellow]未发布 {len(held)} 篇 / not published:[/]")
        for slug, reasons in held[:20]:
            console.print(f"  {slug}: {'; '.join(reasons)}")
        if len(held) > 20:
            console.print(f"  … 另有 {len(held) - 20} 篇")


def register(app: typer.Typer) -> None:
    @app.command(name="build")
    def build_cmd(
        target: Annotated[Target, typer.Argument(help="website | feeds | all")] = Target.all,
        newsroom: NewsroomOpt = Path("."),
        workers: Annotated[
            int | None, typer.Option(help="渲染进程数 / render processes (default: all cores)")
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """构建网站和订阅源并原子部署到 public/ / build the website and feeds, deploy atomically."""
        targets = site_build.TARGETS if target is Target.all else (target.value,)
        with staff_errors():
            room = open_newsroom(newsroom)
            gate = released_gate(room)
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
                disable=as_json,
            ) as bar:
                tasks: dict[str, object] = {}

                def progress(stage: str, advance: int, total: int) -> None:
                    if total < PROGRESS_FROM:
                        return
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(
                            {"render": "渲染 / rendering", "write": "写入 / writing"}.get(stage, stage),
                            total=total,
                        )
                    bar.advance(tasks[stage], advance)  # type: ignore[arg-type]

                reports = site_build.build_all(
                    room, gate, targets=targets, workers=workers, progress=progress
                )
        if as_json:
            print_json([r.as_dict() for r in reports])
            return
        for report in reports:
            print_report(report)
            console.print(f"预览 / preview: [bold]publisher preview[/]  (文件在 {report.output})")

    @app.command()
    def preview(
        newsroom: NewsroomOpt = Path("."),
        port: Annotated[int, typer.Option(help="端口（0 为任选空闲端口） / port (0: any free port)")] = 8000,
        channel: Annotated[str | None, typer.Option(help="网站渠道名 / website channel name")] = None,
    ) -> None:
        """在本机预览已构建的网站（仅 127.0.0.1） / serve public/ on 127.0.0.1."""
        with staff_errors():
            room = open_newsroom(newsroom)
            sites = [c for c in site_build.websites(room) if channel in (None, c.name)]
            if not sites:
                raise PublisherError(f"没有网站渠道 / no website channel {channel or ''}".strip())
            root = site_build.output_dir(room, sites[0])
            if not root.is_dir():
                raise PublisherError(f"尚未构建 / nothing built yet at {root}: run `publisher build` first")
            ensure_port_free(port)
            server = make_server(root, port)
        bound = server.server_address[1]
        console.print(
            f"预览地址 / serving {root} at http://127.0.0.1:{bound}/  (Ctrl+C 停止 / to stop)", soft_wrap=True
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
