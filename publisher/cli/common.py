"""What every command shares: the newsroom option, output to a person or as JSON, error exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from publisher.errors import ConfigError, Problem, PublisherError
from publisher.newsroom import Newsroom

# soft_wrap: long lines stay whole when piped or read by scripts; tables still fit the terminal.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

NewsroomOpt = Annotated[
    Path,
    typer.Option(
        "--newsroom",
        "-N",
        envvar="PUBLISHER_NEWSROOM",
        help="新闻室目录 / the newsroom folder (default: the current folder)",
        file_okay=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="以 JSON 输出 / print JSON instead of a table")]


def open_newsroom(path: Path) -> Newsroom:
    return Newsroom(path)


@contextmanager
def staff_errors() -> Iterator[None]:
    """Domain errors become a clear message and a non-zero exit, never a traceback."""
    try:
        yield
    except ConfigError as exc:
        print_problems(exc.problems, title="配置错误 / configuration problems")
        raise typer.Exit(2) from None
    except PublisherError as exc:
        err_console.print(f"[bold red]错误 / error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def print_problems(problems: list[Problem], title: str = "问题 / problems") -> None:
    if not problems:
        return
    table = Table(title=title, show_lines=False, title_justify="left")
    table.add_column("文件 / file", overflow="fold")
    table.add_column("行 / line", justify="right")
    table.add_column("字段 / field")
    table.add_column("原因 / reason", overflow="fold")
    for p in problems:
        style = "yellow" if p.severity == "warning" else "red"
        table.add_row(
            escape(p.file), str(p.line or ""), escape(p.field or ""), f"[{style}]{escape(p.reason)}[/]"
        )
    err_console.print(table)
