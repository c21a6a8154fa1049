"""What every command shares: the newsroom option, output to a person or as JSON, error exits."""

from __future__ import annotations

import errno
import json
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from publisher.config import CONFIG_FILE
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


def find_newsroom(path: Path) -> Path:
    """The folder holding publisher.toml: `path` itself or the nearest parent, as git finds a repo.

    Falls back to `path` when no parent holds one, so the error names the folder staff gave.
    """
    start = path.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    return start


def open_newsroom(path: Path) -> Newsroom:
    return Newsroom(find_newsroom(path))


def ensure_port_free(port: int, host: str = "127.0.0.1") -> None:
    """Raise the OSError of a busy port now, naming it, rather than deep inside a server's start."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind((host, port))
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, f"{host}:{port}") from None
    finally:
        probe.close()


def os_error_message(exc: OSError) -> str:
    """What went wrong at the operating system, and what to do, in both languages."""
    where = f" {exc.filename}" if exc.filename else ""
    if exc.errno == errno.EADDRINUSE:
        return (
            f"端口已被占用 / the port is already in use{where}: 另一个程序（或另一个 publisher）正在使用它；"
            "停止它，或用 --port 换一个端口 / stop the other program or choose another --port"
        )
    if isinstance(exc, PermissionError):
        return (
            f"没有权限 / permission denied{where}: 检查文件和目录的所有者与权限 / check ownership and modes"
        )
    if isinstance(exc, FileNotFoundError):
        return f"找不到文件或目录 / not found{where}: 检查路径是否正确 / check the path"
    if exc.errno == errno.ENOSPC:
        return f"磁盘已满 / no space left on the device{where}: 清理磁盘后重试 / free some space and retry"
    if isinstance(exc, ConnectionError | TimeoutError):
        return f"网络连接失败 / the connection failed{where}: 检查地址、网络和对方服务 / check the address and network"
    reason = exc.strerror or str(exc)
    return f"系统错误 / operating system error{where}: {reason}; 请检查后重试 / check and retry"


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
    except OSError as exc:
        err_console.print(f"[bold red]错误 / error:[/] {escape(os_error_message(exc))}")
        raise typer.Exit(1) from None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def print_problems(problems: list[Problem], title: str = "问题 / problems") -> None:
    if not problems:
        return
    table = Table(title=title, show_lines=False, title_justify="left")
    # The file is what staff look for first: keep its name whole, let the reason wrap instead.
    widest = max((len(p.file) for p in problems), default=0)
    table.add_column("文件 / file", overflow="fold", min_width=min(widest, 40))
    table.add_column("行 / line", justify="right")
    table.add_column("字段 / field")
    table.add_column("原因 / reason", overflow="fold")
    for p in problems:
        style = "yellow" if p.severity == "warning" else "red"
        table.add_row(
            escape(p.file), str(p.line or ""), escape(p.field or ""), f"[{style}]{escape(p.reason)}[/]"
        )
    err_console.print(table)
