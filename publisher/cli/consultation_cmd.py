"""publisher consultation …: public consultation (征求意见). `import` brings in comments gathered
offline; the staff side adds its own commands (report, purge) to this group."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from publisher.auth.permissions import Act
from publisher.cli import consultation_staff_cmd
from publisher.cli.common import NewsroomOpt, console, open_newsroom, staff_errors
from publisher.cli.identity import AsOpt, authorized
from publisher.consultation.imports import ImportRefused, import_comments
from publisher.consultation.intake import Intake

app = typer.Typer(help="征求意见 / public consultation on draft regulations.", no_args_is_help=True)
consultation_staff_cmd.add_to(app)


@app.command("import")
def import_(
    slug: Annotated[str, typer.Argument(help="征求意见稿件的 slug / the draft's slug")],
    file: Annotated[
        Path, typer.Argument(help=".xlsx 或 .csv：收到日期、条款、身份类别、姓名、联系方式、意见内容")
    ],
    newsroom: NewsroomOpt = Path("."),
    as_: AsOpt = None,
) -> None:
    """导入线下收集的意见（基层立法联系点、信函、邮件） / import comments gathered offline.

    每一行都先检查；有任何一行不合格，列出全部问题且一条也不导入。
    Every row is checked first; if any is bad, every problem is listed and nothing is stored."""
    with staff_errors():
        room = open_newsroom(newsroom)
        actor = authorized(room, as_, Act.CONSULT)
        try:
            result = import_comments(Intake(room), slug, file, actor, datetime.now(UTC))
        except ImportRefused as refused:
            console.print(
                f"[red]未导入：{file.name} 有 {len(refused.problems)} 处问题 / nothing imported[/red]"
            )
            for problem in refused.problems:
                console.print(f"  {problem}", markup=False, highlight=False)
            raise typer.Exit(1) from None
    console.print(
        f"已导入 {len(result.stored)} 条意见，跳过已导入的 {result.skipped} 条 / "
        f"imported {len(result.stored)}, skipped {result.skipped} imported before"
    )
