"""publisher image: long images (长图) and generated covers of an article, for staff to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from publisher.cli.common import NewsroomOpt, console, open_newsroom, staff_errors

app = typer.Typer(help="长图与封面 / long images and generated covers.", no_args_is_help=True)


@app.command("long")
def long_cmd(
    slug: Annotated[str, typer.Argument(help="稿件 slug / the article's slug")],
    newsroom: NewsroomOpt = Path("."),
    template: Annotated[
        str | None,
        typer.Option(help="长图模板（channels/templates/NAME.toml）/ template name (default: by column)"),
    ] = None,
    revision: Annotated[
        str | None,
        typer.Option(help="版本号或版本 id 前缀 / revision number or id prefix (default: the current one)"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="输出文件 .png 或 .jpg / where to write (default var/preview/long-image/SLUG.png)",
        ),
    ] = None,
    max_height: Annotated[
        int | None,
        typer.Option(min=800, help="每段最高像素，超出则分段 / cut into segments no taller than this"),
    ] = None,
) -> None:
    """把稿件排成长图 / render an article as a long image."""
    from publisher.channels.long_images import preview

    with staff_errors():
        room = open_newsroom(newsroom)
        written = preview(room, slug, revision=revision, template=template, out=out, max_height=max_height)
    for path in written:
        console.print(f"长图已生成 / long image written: {path}")


@app.command("cards")
def cards_cmd(
    slug: Annotated[str, typer.Argument(help="稿件 slug / the article's slug")],
    newsroom: NewsroomOpt = Path("."),
    revision: Annotated[
        str | None,
        typer.Option(help="版本号或版本 id 前缀 / revision number or id prefix (default: the current one)"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="输出目录 / folder (default var/preview/cards)")
    ] = None,
) -> None:
    """稿件没有封面时生成的封面与分享图 / the covers and share card drawn for an article without a cover."""
    from publisher.channels.long_images import cards

    with staff_errors():
        room = open_newsroom(newsroom)
        written = cards(room, slug, revision=revision, out=out)
    if not written:
        console.print("稿件有自己的封面，不生成 / the article has a cover of its own: nothing is drawn")
    for path in written:
        console.print(f"已生成 / written: {path}")
