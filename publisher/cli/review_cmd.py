"""review queue, show, submit, approve, reject, withdraw, stats."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from publisher.cli.common import JsonOpt, NewsroomOpt, console, open_newsroom, print_json, staff_errors
from publisher.cli.identity import AsOpt, acting_user
from publisher.newsroom import Newsroom
from publisher.review import queries
from publisher.review.service import ActResult, ReviewService
from publisher.store.engine import read_session
from publisher.timeutil import show

app = typer.Typer(help="三审三校 / the review chain.", no_args_is_help=True)

Comment = Annotated[str | None, typer.Option("--comment", "-m", help="意见 / comment")]
RevisionOpt = Annotated[
    str | None,
    typer.Option(
        "--revision",
        help="所审版本的哈希（至少 12 位） / the revision you reviewed: its hash, at least 12 characters",
    ),
]
StageOpt = Annotated[str | None, typer.Option("--stage", help="环节名称或 key / stage name or key")]

STATUS = {
    "draft": "未提交",
    "in_review": "审核中",
    "rejected": "已退回",
    "withdrawn": "已撤回",
    "approved": "已通过",
}


def _done(result: ActResult) -> None:
    verb = {"submit": "已提交", "approve": "已签署", "reject": "已退回", "withdraw": "已撤回"}[result.act]
    stage = f"「{result.stage}」" if result.stage else ""
    console.print(f"{verb}{stage}：{result.slug} 第 {result.revision_id[:12]} 版 → {STATUS[result.status]}")
    if result.next_stage:
        console.print(f"  下一环节 / next: {result.next_stage}")
    for warning in result.warnings:
        console.print(f"  [yellow]警告 / warning:[/] {escape(str(warning))}")


@app.command()
def submit(
    slug: str,
    as_: AsOpt = None,
    comment: Comment = None,
    revision: RevisionOpt = None,
    newsroom: NewsroomOpt = Path("."),
) -> None:
    """提交审核 / submit the current revision for review."""
    with staff_errors():
        room = open_newsroom(newsroom)
        user = acting_user(room, as_).username
        _done(ReviewService(room).submit(slug, user, revision_id=revision, comment=comment))


@app.command()
def approve(
    slug: str,
    as_: AsOpt = None,
    comment: Comment = None,
    revision: RevisionOpt = None,
    stage: StageOpt = None,
    ack: Annotated[
        list[str] | None, typer.Option("--ack", help="确认某条用语警告（按名称） / acknowledge a warning")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="不询问，直接签署所示版本（脚本用） / sign without asking")
    ] = False,
    newsroom: NewsroomOpt = Path("."),
) -> None:
    """签署当前环节 / approve the current stage.

    An approval names the full hash of the revision it signs: give `--revision` (at least 12 hex
    characters), or read what is shown and confirm it.
    """
    with staff_errors():
        room = open_newsroom(newsroom)
        user = acting_user(room, as_).username
        if revision is None:
            revision = _confirm_signing(room, slug, yes)
        service = ReviewService(room)
        _done(service.approve(slug, user, revision_id=revision, stage=stage, comment=comment, ack=ack or []))


def _confirm_signing(room: Newsroom, slug: str, yes: bool) -> str:
    """Show what an approval now would sign and ask; the answer binds the act to that full hash,
    so a revision ingested meanwhile is refused as superseded instead of signed unseen."""
    with read_session(room.engine) as session:
        what = queries.signing(session, slug)
    console.print(
        f"将签署 / you sign: [bold]{escape(what.title)}[/]  {what.slug} · 第 {what.number} 版 / "
        f"revision {what.number}\n  哈希 / hash: {what.revision_id}\n"
        f"  环节 / stage: {escape(what.stage or '（无待办环节） / none waits')}"
    )
    for notice in what.notices:
        console.print(f"  [yellow]警告 / warning:[/] {escape(str(notice))}")
    if not yes and what.stage is not None:
        typer.confirm("确认签署以上版本？ / sign this revision?", abort=True)
    return what.revision_id


@app.command()
def reject(
    slug: str,
    comment: Annotated[str, typer.Option("--comment", "-m", help="退回理由（必填）")],
    as_: AsOpt = None,
    revision: RevisionOpt = None,
    stage: StageOpt = None,
    newsroom: NewsroomOpt = Path("."),
) -> None:
    """退回作者修改 / send back to the author."""
    with staff_errors():
        room = open_newsroom(newsroom)
        user = acting_user(room, as_).username
        service = ReviewService(room)
        _done(service.reject(slug, user, comment=comment, revision_id=revision, stage=stage))


@app.command()
def withdraw(
    slug: str,
    as_: AsOpt = None,
    comment: Comment = None,
    revision: RevisionOpt = None,
    newsroom: NewsroomOpt = Path("."),
) -> None:
    """撤回稿件 / withdraw from review (or from publication)."""
    with staff_errors():
        room = open_newsroom(newsroom)
        user = acting_user(room, as_).username
        _done(ReviewService(room).withdraw(slug, user, comment=comment, revision_id=revision))


@app.command()
def queue(
    user: Annotated[
        str | None,
        typer.Option(
            "--as", help="谁的待办（默认：已登录的本人） / whose queue (default: the signed-in person)"
        ),
    ] = None,
    newsroom: NewsroomOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """我的待办 / what waits on me."""
    with staff_errors():
        room = open_newsroom(newsroom)
        # Reading a queue acts on nothing: naming someone needs no login, only "mine" does.
        user = user or acting_user(room, None).username
        with read_session(room.engine) as session:
            items = queries.queue(session, user)
    if as_json:
        print_json(
            [
                {
                    "slug": i.slug,
                    "title": i.title,
                    "revision": i.revision_id,
                    "stage": i.stage,
                    "since": i.since.isoformat(),
                    "warnings": i.warnings,
                }
                for i in items
            ]
        )
        return
    table = Table(title=f"{user} 的待办 / queue ({len(items)})", title_justify="left")
    for label in ("环节", "标题", "slug", "版本", "等待自", "警告"):
        table.add_column(label, overflow="fold")
    for i in items:
        table.add_row(
            i.stage,
            i.title,
            i.slug,
            i.revision_id[:12],
            show(i.since, room.settings.tz),
            str(i.warnings or ""),
        )
    console.print(table)


@app.command("show")
def show_(slug: str, newsroom: NewsroomOpt = Path("."), as_json: JsonOpt = False) -> None:
    """一篇稿件的审核情况 / every stage: who, when, comment, and what is open."""
    from publisher.channels.long_images import for_review

    with staff_errors():
        room = open_newsroom(newsroom)
        with read_session(room.engine) as session:
            st = queries.status(session, slug)
        # What readers will see besides the text (long image, drawn covers) is reviewed too.
        images = for_review(room, slug, st.revision.id)
    tz = room.settings.tz
    if as_json:
        print_json(
            {
                "slug": slug,
                "revision": st.revision.id,
                "number": st.revision.number,
                "status": st.status,
                "current_stage": st.current.name if st.current else None,
                "stages": [
                    {
                        "stage": v.stage.name,
                        "key": v.stage.key,
                        "role": v.stage.role,
                        "by": v.done_by,
                        "at": v.done_at.isoformat() if v.done_at else None,
                        "comment": v.comment,
                    }
                    for v in st.stages
                ],
                "warnings": [w.as_dict() for w in st.warnings],
                "acknowledged": st.acknowledged,
                "images": [str(p) for p in images],
                "history": [
                    {
                        "revision": r.id,
                        "number": r.number,
                        "cycle": a.cycle,
                        "act": a.act,
                        "stage": a.stage_name,
                        "by": a.username,
                        "at": a.at.isoformat(),
                        "comment": a.comment,
                    }
                    for r, a in st.acts
                ],
            }
        )
        return
    console.print(
        f"[bold]{st.revision.title}[/]  {slug} · 第 {st.revision.number} 版 {st.revision.id[:12]} · "
        f"[bold]{STATUS[st.status]}[/]"
    )
    table = Table(show_header=True, title_justify="left")
    for label in ("环节", "角色", "签署人", "时间", "意见"):
        table.add_column(label, overflow="fold")
    for v in st.stages:
        mark = "→ " if st.current and v.stage.key == st.current.key else ""
        table.add_row(
            mark + v.stage.name,
            v.stage.role,
            v.done_by or "（待办）",
            show(v.done_at, tz) if v.done_at else "",
            v.comment or "",
        )
    if st.stages:
        console.print(table)
    for w in st.warnings:
        by = st.acknowledged.get(w.code)
        console.print(f"  [yellow]警告[/] {escape(str(w))}" + (f"（已由 {by} 确认）" if by else "（未确认）"))
    for path in images:
        console.print(f"  图片 / image: {path}")
    if st.acts:
        console.print("审核记录 / history:")
        for r, a in st.acts:
            void = "（已作废）" if r.id != st.revision.id else ""
            stage = f"「{a.stage_name}」" if a.stage_name else ""
            console.print(
                f"  第{r.number}版{void} {show(a.at, tz)} {a.username} {a.act}{stage} {a.comment or ''}"
            )


@app.command()
def stats(newsroom: NewsroomOpt = Path("."), as_json: JsonOpt = False) -> None:
    """各环节用时、退回统计 / time per stage, rejections per department."""
    with staff_errors():
        room = open_newsroom(newsroom)
        with read_session(room.engine) as session:
            result = queries.stats(session)
    if as_json:
        print_json(
            {
                "stages": [
                    {
                        "stage": t.stage,
                        "count": t.count,
                        "median_hours": t.median_hours,
                        "mean_hours": t.mean_hours,
                    }
                    for t in result.stages
                ],
                "rejections_by_department": result.rejections_by_department,
                "rejections_by_stage": result.rejections_by_stage,
                "status": result.status_counts,
            }
        )
        return
    table = Table(title="各环节用时 / time per stage", title_justify="left")
    for label in ("环节", "次数", "中位（小时）", "平均（小时）"):
        table.add_column(label)
    for t in result.stages:
        table.add_row(t.stage, str(t.count), f"{t.median_hours:.2f}", f"{t.mean_hours:.2f}")
    console.print(table)
    console.print(
        "退回（按部门） / rejections by department: "
        + ("、".join(f"{d} {n}" for d, n in result.rejections_by_department.items()) or "无")
    )
    console.print(
        "当前状态 / now: " + "、".join(f"{STATUS.get(s, s)} {n}" for s, n in result.status_counts.items())
    )
