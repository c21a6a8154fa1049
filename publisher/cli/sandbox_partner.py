"""`publisher sandbox partner`: run a partner's receiving end on 127.0.0.1 and show what arrives.

`register_partner(group)` adds the command to whichever `sandbox` group the CLI has.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.markup import escape

from publisher.cli.common import (
    NewsroomOpt,
    console,
    ensure_port_free,
    err_console,
    open_newsroom,
    staff_errors,
)
from publisher.errors import PublisherError
from publisher.supply.sandbox import Received, SandboxPartner, parse_failures
from publisher.supply.service import partner as partner_channel


def describe(item: Received) -> str:
    p = item.package
    marks = []
    if p.get("pubstatus") == "canceled":
        marks.append("[bold red]撤稿 canceled[/]")
    if p.get("embargoed"):
        marks.append(f"[yellow]禁发至 {p['embargoed']}[/]")
    if p.get("ednote"):
        marks.append(escape(str(p["ednote"])[:40]))
    return (
        f"{time.strftime('%H:%M:%S', time.localtime(item.at))} {item.id} v{p.get('version')} "
        f"{escape(str(p.get('headline', '')))} {' '.join(marks)}"
    )


def register_partner(group: typer.Typer) -> None:
    @group.command("partner")
    def partner(
        channel: Annotated[
            str, typer.Option("--channel", "-c", help="模拟哪个推送合作媒体 / the push partner to play")
        ] = "partner-provincial-daily",
        port: Annotated[int | None, typer.Option("--port", help="端口（默认取渠道 endpoint） / port")] = None,
        secret: Annotated[
            str | None, typer.Option("--secret", help="共享密钥（默认读渠道 secret_env） / shared secret")
        ] = None,
        fail: Annotated[
            list[str] | None,
            typer.Option("--fail", help="依次注入故障：503x2、429:5、400:原因、slow:3 / injected failures"),
        ] = None,
        newsroom: NewsroomOpt = Path("."),
    ) -> None:
        """模拟合作媒体接收端：验签、拒绝重放、按幂等键去重、可注入故障 / a sandbox partner receiver."""
        with staff_errors():
            room = open_newsroom(newsroom)
            settings = partner_channel(room, channel).settings
            endpoint = getattr(settings, "endpoint", None)
            env = getattr(settings, "secret_env", None)
            key = secret or (os.environ.get(env) if env else None)
            if not key:
                raise PublisherError(
                    f"请设置环境变量 {env} 或使用 --secret / set {env} or pass --secret (the same secret the sender uses)"
                )
            chosen = port if port is not None else (urlsplit(endpoint).port if endpoint else None) or 8720
            for spec in fail or []:
                parse_failures(spec)  # a bad spec fails here, before the port is taken
            sandbox = SandboxPartner(
                key,
                port=chosen,
                window=float(getattr(settings, "replay_window_seconds", 300)),
                on_receive=lambda item: console.print(describe(item)),
            )
            sandbox.fail(*(fail or []))
            ensure_port_free(chosen)
        err_console.print(
            f"沙箱合作媒体 {channel} 监听 / listening on {sandbox.url}（GET / 查看已收稿件；Ctrl-C 结束）"
        )
        sandbox.start()
        stop = threading.Event()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            sandbox.stop()
            err_console.print(
                f"共收到 {sandbox.posts} 次请求，接收 {len(sandbox.received)} 篇，"
                f"重复 {sandbox.duplicates}，拒绝 {len(sandbox.rejected)}"
            )
