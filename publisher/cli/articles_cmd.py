"""articles, articles show, articles history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from publisher.cli.common import JsonOpt, NewsroomOpt, console, open_newsroom, print_json, staff_errors
from publisher.engine.outstanding import Outstanding, corrections_outstanding
from publisher.standing import standings
from publisher.store.listings import Reader, current_articles
from publisher.timeutil import show

if TYPE_CHECKING:
    from publisher.newsroom import Newsroom

app = typer.Typer(help="稿件 / articles and their revisions.", no_args_is_help=False)


@app.callback(invoke_without_command=True)
def list_(
    ctx: typer.Context,
    newsroom: NewsroomOpt = Path("."),
    column: Annotated[
        str | None, typer.Option(help="只看一个栏目（名称或 key） / one column, by name or key")
    ] = None,
    limit: Annotated[int, typer.Option(help="最多显示几篇 / at most this many")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """列出稿件（最新在前） / list articles, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    with staff_errors():
        room = open_newsroom(newsroom)
        key = None
        if column is not None:
            found = room.settings.column(column)
            key = found.key if found else column
        # Plain rows on a Core connection (store/listings.py): a fresh `publisher articles` loads
        # neither SQLModel nor the table classes; `show` and `history` read through the ORM.
        with room.engine.connect() as conn:
            views = current_articles(conn, key)
            standing = standings(conn, [v.id for v in views])
            outstanding = _outstanding(room, conn)
    tz = room.settings.tz
    if as_json:
        print_json(
            [
                {
                    "slug": v.slug,
                    "title": v.title,
                    "column": v.column,
                    "kind": v.kind,
                    "date": v.dated_at.isoformat(),
                    "revisions": v.revision_count,
                    "revision": v.revision_id,
                    "number": v.number,
                    "source": v.source,
                    "state": standing[v.id].state.value,
                    "live_revision": standing[v.id].live_number,
                    "review_stage": standing[v.id].stage,
                    "state_label": standing[v.id].label(),
                    "channels_behind": [
                        {"channel": o.channel, "live": o.live_number, "policy": o.policy}
                        for o in outstanding.get(v.slug, [])
                    ],
                }
                for v in views
            ]
        )
        return
    table = Table(title=f"稿件 / articles ({len(views)})", title_justify="left")
    for label in (
        "日期 / date",
        "栏目 / column",
        "标题 / title",
        "类型 / kind",
        "版本 / rev",
        "状态 / state",
        "slug",
    ):
        # The title is what staff scan for: it keeps room for a short one on an 80-column terminal.
        table.add_column(label, overflow="fold", min_width=12 if label == "标题 / title" else None)
    for v in views[:limit]:
        table.add_row(
            show(v.dated_at, tz)[:16],
            room.column_name(v.column),
            v.title,
            v.kind,
            f"{v.revision_count} · {v.revision_id[:8]}",
            "\n".join([standing[v.id].label()] + [_behind(o) for o in outstanding.get(v.slug, [])]),
            v.slug,
        )
    console.print(table)
    if len(views) > limit:
        console.print(f"（另有 {len(views) - limit} 篇未显示，用 --limit 调整）")


def _outstanding(room: Newsroom, reader: Reader) -> dict[str, list[Outstanding]]:
    """Channels that keep an older revision of a corrected article (WeChat cannot edit a post)."""
    found: dict[str, list[Outstanding]] = {}
    for item in corrections_outstanding(room, reader):
        if item.policy != "replace":
            found.setdefault(item.slug, []).append(item)
    return found


def _behind(item: Outstanding) -> str:
    action = "留存并注明 / left with a note" if item.policy == "note" else "待撤下重发 / to republish"
    return f"{item.channel}：仍为第 {item.live_number} 版，{action} / still shows revision {item.live_number}"


@app.command("show")
def show_(slug: str, newsroom: NewsroomOpt = Path("."), as_json: JsonOpt = False) -> None:
    """一篇稿件的当前版本 / the current revision of one article."""
    from publisher import articles
    from publisher.store.engine import read_session

    with staff_errors():
        room = open_newsroom(newsroom)
        with read_session(room.engine) as session:
            view = articles.get_article(session, slug)
            assets = articles.assets_of(session, view.revision.id)
    if as_json:
        print_json(
            {
                "slug": slug,
                "revision": view.revision.id,
                "number": view.revision.number,
                "source": view.article.source,
                "meta": view.meta,
                "assets": [
                    {
                        "role": a.role,
                        "ref": a.ref,
                        "path": a.path,
                        "sha256": a.sha256,
                        "width": a.width,
                        "height": a.height,
                    }
                    for a in assets
                ],
                "body": view.revision.body,
            }
        )
        return
    meta = view.meta
    tz = room.settings.tz
    console.print(f"[bold]{meta['title']}[/]")
    console.print(f"slug {slug} · 第 {view.revision.number} 版 · {view.revision.id}")
    console.print(
        f"栏目 {room.column_name(meta['column'])} · 类型 {meta['kind']} · 日期 {show(view.revision.dated_at, tz)}"
    )
    console.print(
        f"作者 {'、'.join(meta['authors'])} · 部门 {meta['department']}"
        + (f" · 专委会 {meta['committee']}" if meta.get("committee") else "")
    )
    if meta.get("series"):
        s = meta["series"]
        console.print(f"系列 {s['title']}（{s['id']}）第 {s['part']} 篇")
    console.print(f"源文件 {view.article.source}")
    for a in assets:
        console.print(f"  图片 {a.role:<6} {a.ref}  {a.width}×{a.height} {a.format}  sha256 {a.sha256[:12]}")
    excerpt = view.revision.body[:400]
    console.print()
    console.print(excerpt + ("……" if len(view.revision.body) > 400 else ""), markup=False, highlight=False)


@app.command("history")
def history_(slug: str, newsroom: NewsroomOpt = Path("."), as_json: JsonOpt = False) -> None:
    """一篇稿件的全部版本 / every revision of one article."""
    from publisher import articles
    from publisher.store.engine import read_session

    with staff_errors():
        room = open_newsroom(newsroom)
        with read_session(room.engine) as session:
            article, revisions = articles.history(session, slug)
    if as_json:
        print_json(
            {
                "slug": slug,
                "current": article.current_revision_id,
                "revisions": [
                    {
                        "number": r.number,
                        "revision": r.id,
                        "parent": r.parent_id,
                        "title": r.title,
                        "created_at": r.created_at.isoformat(),
                        "created_by": r.created_by,
                        "source": r.source,
                    }
                    for r in revisions
                ],
            }
        )
        return
    table = Table(title=f"{slug} 的版本 / revisions", title_justify="left")
    for label in ("版 / no.", "版本 / revision", "入库时间 / ingested", "操作人 / by", "标题 / title", ""):
        table.add_column(label, overflow="fold")
    for r in revisions:
        current = "当前 / current" if r.id == article.current_revision_id else ""
        table.add_row(
            str(r.number), r.id[:16], show(r.created_at, room.settings.tz), r.created_by, r.title, current
        )
    console.print(table)
