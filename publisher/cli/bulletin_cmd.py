"""publisher bulletin: printed bulletins (《常委会公报》, 《代表之声》), compiled an issue at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from publisher.auth.permissions import Act
from publisher.cli.common import JsonOpt, NewsroomOpt, console, open_newsroom, print_json, staff_errors
from publisher.cli.identity import AsOpt, authorized

app = typer.Typer(help="印刷版公报 / printed bulletins, an issue at a time.", no_args_is_help=True)

IssueArg = Annotated[
    Path,
    typer.Argument(help="期刊文件，如 bulletins/gazette/2026-06.toml / the issue file", show_default=False),
]


@app.command("list")
def list_cmd(newsroom: NewsroomOpt = Path("."), as_json: JsonOpt = False) -> None:
    """列出公报及各期（是否已编印） / the bulletins, their issues and which are built."""
    from publisher.bulletin.build import issue_states
    from publisher.bulletin.signoff import signed_off
    from publisher.cli.common import print_problems

    with staff_errors():
        room = open_newsroom(newsroom)
        states, problems = issue_states(room)
    rows = [
        {
            "bulletin": s.issue.bulletin.key,
            "title": s.issue.bulletin.settings.short_title,
            "issue": s.issue.key,
            "number": s.issue.settings.number,
            "date": s.issue.settings.date.isoformat(),
            "articles": sum(len(section.articles) for section in s.issue.settings.sections),
            "built": str(s.pdf.relative_to(room.root)) if s.pdf else None,
            "sha256": s.record.get("sha256") if s.pdf and s.record else None,
            "built_by": s.record.get("built_by") if s.pdf and s.record else None,
            "signed_off_by": (signed_off(s) or {}).get("by"),
        }
        for s in states
    ]
    if as_json:
        print_json({"issues": rows, "problems": [p.as_dict() for p in problems]})
        return
    if not rows and not problems:
        console.print(f"没有公报（{room.settings.paths.bulletins}/*.toml） / no bulletins declared")
    for row in rows:
        state = f"已编印 / built: {row['built']}" if row["built"] else "未编印 / not built"
        if row["built"]:
            signer = row["signed_off_by"]
            state += f"，已签发 / signed off: {signer}" if signer else "，待签发 / awaiting sign-off"
        console.print(
            f"{row['title']}  {row['number']}  {row['date']}  {row['articles']} 篇 / articles  {state}"
        )
    print_problems(problems)
    if problems:
        raise typer.Exit(2)


@app.command("check")
def check_cmd(issue_file: IssueArg, newsroom: NewsroomOpt = Path(".")) -> None:
    """核对一期：每篇稿件须已终审通过、未撤稿、无密级标志；列出目录和页码，不写入任何文件 /
    check an issue against the store and show its contents with page numbers; writes nothing."""
    from publisher.bulletin.build import compile_for_print, open_issue, typeset_issue

    with staff_errors():
        room = open_newsroom(newsroom)
        issue = open_issue(room, issue_file)
        compiled = compile_for_print(room, issue)
        laid = typeset_issue(room, compiled)
    console.print(f"{issue.bulletin.settings.title}  {issue.settings.number}：可以付印 / ready to print")
    for section in issue.settings.sections:
        console.print(f"  {section.title}")
        for slug in section.articles:
            title = next(a.revision.title for a in compiled.articles if a.slug == slug)
            console.print(f"    {title}  …… {laid.starts[slug]}")
    console.print(f"共 {len(laid.pages)} 页（封面与目录 {len(laid.front)} 页） / {len(laid.pages)} pages")


@app.command("build")
def build_cmd(
    issue_file: IssueArg,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="内容变化时换版（原文件保留在旁） / build a new edition over a changed one"
        ),
    ] = False,
    as_: AsOpt = None,
    newsroom: NewsroomOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """编印一期：排版为付印 PDF，记入审计日志 / typeset an issue into a print-ready PDF and record it."""
    from publisher.bulletin.build import build_issue

    with staff_errors():
        room = open_newsroom(newsroom)
        user = authorized(room, as_, Act.PRINT).username
        built = build_issue(room, issue_file, user, replace=replace)
    if as_json:
        print_json(
            {
                "pdf": str(built.pdf),
                "record": str(built.record),
                "sha256": built.sha256,
                "pages": built.pages,
                "starts": built.starts,
                "unchanged": built.unchanged,
                "kept": str(built.kept) if built.kept else None,
            }
        )
        return
    where = built.pdf.relative_to(room.root)
    if built.unchanged:
        console.print(f"内容未变，未重写 / unchanged, nothing written: {where} ({built.sha256[:12]})")
        return
    console.print(f"已编印 / built: {where}，{built.pages} 页 / pages，sha256 {built.sha256[:12]}")
    if built.kept:
        console.print(f"原版保留为 / the earlier edition is kept as {built.kept.relative_to(room.root)}")


@app.command("sign-off")
def sign_off_cmd(
    issue_file: IssueArg,
    as_: AsOpt = None,
    newsroom: NewsroomOpt = Path("."),
) -> None:
    """签发付印：领导确认已编印的清样（按文件哈希） / a leader signs a built issue off for printing."""
    from publisher.bulletin.build import find_issue, open_issue
    from publisher.bulletin.signoff import sign_off
    from publisher.errors import NotFound

    with staff_errors():
        room = open_newsroom(newsroom)
        user = authorized(room, as_, Act.SIGN_OFF_PRINT).username
        issue = open_issue(room, issue_file)
        state = find_issue(room, issue.bulletin.key, issue.key)
        if state is None:
            raise NotFound(f"没有这一期 / no such issue: {issue_file}")
        signature, new = sign_off(room, state, user)
    name = f"{issue.bulletin.settings.short_title} {issue.settings.number}"
    if not new:
        console.print(f"{name} 已由 {signature['by']} 签发 / already signed off ({signature['sha256'][:12]})")
        return
    console.print(f"已签发付印 / signed off: {name}（sha256 {signature['sha256'][:12]}）")
