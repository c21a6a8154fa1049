"""publisher console: the staff web console on its own port (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from publisher.cli.common import NewsroomOpt, ensure_port_free, err_console, open_newsroom, staff_errors
from publisher.errors import PublisherError

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def register(app: typer.Typer) -> None:
    @app.command("console")
    def console_(
        port: Annotated[int, typer.Option("--port", help="端口 / port")] = 8740,
        host: Annotated[
            str,
            typer.Option("--host", help="监听地址；非本机地址须配合 HTTPS 反向代理 / bind address"),
        ] = "127.0.0.1",
        secure_cookies: Annotated[
            bool,
            typer.Option("--secure-cookies", help="仅通过 HTTPS 发送登录 Cookie / cookies over HTTPS only"),
        ] = False,
        newsroom: NewsroomOpt = Path("."),
    ) -> None:
        """员工工作台（网页） / the staff web console."""
        import uvicorn

        from publisher.console.app import create_console_app

        with staff_errors():
            room = open_newsroom(newsroom)
            room.engine  # noqa: B018 - migrate before the first request, and fail here if it cannot
            if port < 0 or port > 65535:
                raise PublisherError(f"端口无效 / bad port {port}")
            if host not in LOOPBACK and not secure_cookies:
                raise PublisherError(
                    f"在 {host} 上提供工作台须经 HTTPS 反向代理并加 --secure-cookies / serving the console "
                    f"on {host} needs an HTTPS reverse proxy and --secure-cookies"
                )
            if port:
                ensure_port_free(port, host if host != "localhost" else "127.0.0.1")
        shown = f"http://{host}:{port}/"
        err_console.print(f"工作台运行于 / console on {shown}  （Ctrl-C 停止 / to stop）", highlight=False)
        uvicorn.run(
            create_console_app(room, secure_cookies=secure_cookies), host=host, port=port, log_level="warning"
        )
