"""publisher wechat preview: the official account's view of an article."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from publisher.cli.common import NewsroomOpt, console, open_newsroom, staff_errors

app = typer.Typer(help="微信公众号 / the WeChat official account channel.", no_args_is_help=True)


@app.command("preview")
def preview_cmd(
    slug: Annotated[str, typer.Argument(help="稿件 slug / the article's slug")],
    newsroom: NewsroomOpt = Path("."),
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="输出文件 / where to write (default var/preview/wechat/SLUG.html)"),
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="微信渠道名 / the WeChat channel (default: the first)")
    ] = None,
) -> None:
    """把稿件当前版本排成微信图文，放进手机框里预览 / write the WeChat HTML inside a phone frame."""
    from publisher.channels.wechat.preview import preview

    with staff_errors():
        room = open_newsroom(newsroom)
        target = preview(room, slug, out, channel)
    console.print(f"预览已生成 / preview written: {target}")
