"""publisher sandbox wechat|partner: local fakes of the platforms the channels publish to."""

from __future__ import annotations

from typing import Annotated

import typer

from publisher.cli.common import console, ensure_port_free, staff_errors
from publisher.cli.sandbox_partner import register_partner

app = typer.Typer(help="本地沙箱 / local fakes of the publishing platforms.", no_args_is_help=True)


@app.command("wechat")
def wechat(
    port: Annotated[int, typer.Option(help="端口（只监听 127.0.0.1） / port on 127.0.0.1")] = 8710,
    app_id: Annotated[str, typer.Option("--app-id", help="接受的 AppID / the AppID it accepts")] = (
        "wx-sandbox-jianglan"
    ),
    secret: Annotated[
        str | None,
        typer.Option(help="要求的 AppSecret（默认任意） / the AppSecret it requires (default: any)"),
    ] = None,
    publish_delay: Annotated[
        float, typer.Option(help="发布耗时（秒），期间状态为 1 / seconds a publication stays at status 1")
    ] = 2.0,
    token_ttl: Annotated[
        float, typer.Option(help="access_token 有效期（秒） / token lifetime in seconds")
    ] = 7200,
    callback: Annotated[
        str | None, typer.Option(help="PUBLISHJOBFINISH 事件推送地址 / where to post PUBLISHJOBFINISH events")
    ] = None,
) -> None:
    """启动微信公众号接口沙箱 / run the WeChat official account API sandbox."""
    from publisher.channels.wechat.sandbox import State, serve

    state = State(
        app_id=app_id, secret=secret, publish_delay=publish_delay, token_ttl=token_ttl, callback_url=callback
    )
    with staff_errors():
        ensure_port_free(port)
    console.print(f"微信沙箱 / WeChat sandbox: http://127.0.0.1:{port}/  （AppID {app_id}；Ctrl-C 停止）")
    serve(state, port)


register_partner(app)
