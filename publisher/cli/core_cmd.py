"""init, check, ingest, channels, demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from publisher import ingest as ingest_service
from publisher.checkup import checkup
from publisher.cli.common import (
    JsonOpt,
    NewsroomOpt,
    console,
    err_console,
    find_newsroom,
    open_newsroom,
    print_json,
    print_problems,
    staff_errors,
)
from publisher.config import CONFIG_FILE, Paths
from publisher.scaffold import Answers, init_newsroom

# Below this many files a progress bar is noise.
PROGRESS_FROM = 200


def _progress(total: int) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=total < PROGRESS_FROM,
    )


def print_ingest_summary(report: ingest_service.IngestReport) -> None:
    console.print(
        f"读取 {report.files} 个文件：新增 [green]{len(report.created)}[/] 篇，"
        f"修订 [cyan]{len(report.revised)}[/] 篇，回退 {len(report.reverted)} 篇，"
        f"未变 {report.unchanged} 篇，跳过 [red]{len(report.skipped)}[/] 个有问题的文件。"
    )
    for change in report.revised:
        console.print(f"  修订 / revised  {change.slug} → 第 {change.number} 版 {change.revision_id[:12]}")
    for change in report.reverted:
        console.print(f"  回退 / reverted {change.slug} → 第 {change.number} 版 {change.revision_id[:12]}")
    if report.missing:
        console.print("[yellow]以下稿件的源文件已不在 content/ 中（库中记录保留，未删除）：[/]")
        for slug, source in report.missing:
            console.print(f"  [yellow]{slug}[/]  ({source})")
    print_problems(report.problems)


def on_terminal() -> bool:
    return sys.stdin.isatty()


def register(app: typer.Typer) -> None:
    @app.command()
    def init(
        folder: Annotated[Path, typer.Argument(help="新新闻室的目录 / folder for the new newsroom")],
        name: Annotated[str | None, typer.Option(help="新闻室名称 / newsroom name, e.g. 江澜人大")] = None,
        city: Annotated[str | None, typer.Option(help="所在城市或区县 / city or district")] = None,
        domain: Annotated[str | None, typer.Option(help="网站域名 / the website's domain")] = None,
        timezone: Annotated[str | None, typer.Option(help="时区 / timezone")] = None,
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help="不提问，未给出的取默认值 / ask nothing, take defaults")
        ] = False,
    ) -> None:
        """新建完整的新闻室（可立即校验和发布） / create a complete newsroom, ready to publish."""
        defaults = Answers(name="")
        # On a terminal a person is asked what the flags did not say; scripts and pipes never wait.
        ask = not yes and on_terminal()
        city = city or (typer.prompt("城市或区县 / city", default=defaults.city) if ask else defaults.city)
        suggested = f"{city}人大"
        name = name or (typer.prompt("新闻室名称 / name", default=suggested) if ask else suggested)
        domain = domain or (
            typer.prompt("网站域名 / domain", default=defaults.domain) if ask else defaults.domain
        )
        timezone = timezone or (
            typer.prompt("时区 / timezone", default=defaults.timezone) if ask else defaults.timezone
        )
        answers = Answers(name=str(name), city=str(city), domain=str(domain), timezone=str(timezone))
        with staff_errors():
            created = init_newsroom(folder, answers)
        for path in created:
            console.print(f"  创建 / created {path}")
        console.print(
            f"新闻室已就绪 / ready: 先读 {folder / 'README.md'}，然后运行 "
            f"[bold]publisher check[/] 与 [bold]publisher doctor[/]。"
        )
        console.print(
            "账号 / accounts: publisher users sync，再 publisher users passwd admin（首个管理员密码无需登录，"
            "此后用户管理须管理员登录） / then set the first admin password (no login needed until an admin "
            "has one), publisher login --as admin, and set each person's password"
        )

    @app.command()
    def check(newsroom: NewsroomOpt = Path("."), as_json: JsonOpt = False) -> None:
        """校验全部设置、渠道、排期和稿件文件，不写入任何数据 / validate everything, store nothing."""
        with staff_errors():
            root = find_newsroom(newsroom)
            content = root / Paths().content
            total = len(ingest_service.scan(content)) if content.is_dir() else 0
            with _progress(total) as bar:
                task = bar.add_task("校验 / checking", total=total)
                result = checkup(root, progress=lambda n: bar.advance(task, n))
        errors = result.files_with_errors
        if as_json:
            print_json(result.as_dict())
        else:
            print_problems(result.problems)
            state = (
                "[green]全部通过[/]"
                if not errors
                else f"[red]{errors} 个文件有问题 / {errors} file(s) with errors[/]"
            )
            if result.report is not None:
                console.print(f"校验 {result.report.files} 个稿件文件、{result.channels} 个渠道：{state}")
            else:
                console.print(f"{CONFIG_FILE} 无法使用，稿件和排期未校验：{state}")
        if result.settings_broken:
            raise typer.Exit(2)
        if errors:
            raise typer.Exit(1)

    @app.command("config-docs")
    def config_docs(
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="写入此文件 / write here (default: docs/configuration.md)"),
        ] = None,
        check_only: Annotated[
            bool, typer.Option("--check", help="只比较，不写入；不一致时退出码 1 / compare only")
        ] = False,
    ) -> None:
        """由设置模型生成配置参考文档 / write the configuration reference from the settings models."""
        from publisher import configdoc

        target = output or configdoc.DOC
        with staff_errors():
            if check_only:
                current = target.read_text(encoding="utf-8") if target.is_file() else ""
                if current != configdoc.render():
                    err_console.print(
                        f"[red]{target} 与设置模型不一致，请运行 publisher config-docs / "
                        "out of date with the settings models: run `publisher config-docs`[/]"
                    )
                    raise typer.Exit(1)
                console.print(f"{target} 是最新的 / up to date")
                return
            configdoc.write(target)
        console.print(f"已写入 / written: {target}")

    @app.command()
    def ingest(newsroom: NewsroomOpt = Path("."), as_json: JsonOpt = False) -> None:
        """入库：每次改动生成不可变版本 / ingest content/ into immutable revisions."""
        with staff_errors():
            room = open_newsroom(newsroom)
            files = ingest_service.scan(room.content_dir)
            with _progress(len(files)) as bar:
                task = bar.add_task("入库 / ingesting", total=len(files))
                report = ingest_service.ingest(room, progress=lambda n: bar.advance(task, n))
        if as_json:
            print_json(report.as_dict())
        else:
            print_ingest_summary(report)
        if not report.ok:
            raise typer.Exit(1)

    @app.command()
    def channels(newsroom: NewsroomOpt = Path("."), as_json: JsonOpt = False) -> None:
        """列出渠道（channels/ 中的文件） / list the channels declared in channels/."""
        with staff_errors():
            room = open_newsroom(newsroom)
            found = room.channels
        if as_json:
            print_json(
                {
                    "channels": [
                        {
                            "name": c.name,
                            "kind": c.kind,
                            "title": c.title,
                            "enabled": c.enabled,
                            "external": c.external,
                            "source": c.source,
                            "settings": c.settings.model_dump(),
                        }
                        for c in found.channels.values()
                    ],
                    "problems": [p.as_dict() for p in found.problems],
                }
            )
        else:
            table = Table(title=f"渠道 / channels ({len(found.channels)})", title_justify="left")
            for label in (
                "名称 / name",
                "类型 / kind",
                "名称（显示） / title",
                "启用 / enabled",
                "文件 / file",
            ):
                table.add_column(label)
            for c in found.channels.values():
                table.add_row(c.name, c.kind, c.title, "是" if c.enabled else "否", c.source)
            console.print(table)
            print_problems(found.problems)
        if found.problems:
            raise typer.Exit(1)

    @app.command()
    def demo(
        newsroom: NewsroomOpt = Path("."),
        seconds: Annotated[
            float | None,
            typer.Option(
                min=5.0,
                help="专题周发布过程的观看时长（秒，默认 30） / how long the campaign week takes to watch "
                "(seconds, default 30)",
            ),
        ] = None,
    ) -> None:
        """运行演示新闻室的完整流程 / run the demo newsroom end to end."""
        with staff_errors():
            from publisher.demo import run_demo  # the engine, sandboxes and web stack: only for the demo

            room = open_newsroom(newsroom)
            if seconds is None:
                run_demo(room, console)
            else:
                run_demo(room, console, wall_seconds=seconds)
