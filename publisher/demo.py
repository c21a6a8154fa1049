"""`publisher demo`: the whole pipeline as far as it exists, on the embedded defaults, explained briefly."""

from __future__ import annotations

from collections import Counter

from rich.console import Console

from publisher import articles, audit
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review import gate as gate_module
from publisher.review.gate import Gate, GateDecision
from publisher.site.build import build_all
from publisher.store.engine import read_session


def _unreviewed_preview(session: object, revision: object, channel: object, now: object) -> GateDecision:
    # Only until the review chain is merged: the demo's fictional articles stand in as approved.
    return GateDecision.allow()


def demo_gate() -> tuple[Gate, bool]:
    """The real publication gate when the review chain is present; else a stand-in, said aloud."""
    real = getattr(gate_module, "publication_gate", None)
    if real is not None:
        return real, True
    return _unreviewed_preview, False


def run_demo(room: Newsroom, console: Console) -> bool:
    console.rule(f"[bold]{room.settings.newsroom.full_name or room.settings.newsroom.name} · 演示 / demo")
    console.print(f"新闻室 / newsroom: {room.root}")
    console.print(f"数据库 / database: {room.database_url}")

    report = ingest(room, actor="demo")
    console.print(
        f"[bold]1. 采（入库）[/] 读取 {report.files} 篇稿件：新增 {len(report.created)}，修订 {len(report.revised)}，"
        f"未变 {report.unchanged}，有问题 {len(report.skipped)}。"
    )
    for problem in report.problems:
        console.print(f"   [red]{problem}[/]")

    with read_session(room.engine) as session:
        views = articles.list_articles(session)
        chain = audit.verify(session)
    per_column = Counter(v.revision.column for v in views)
    for column in room.settings.columns:
        console.print(f"   {column.name}: {per_column.get(column.key, 0)} 篇")
    series = sorted({(v.meta["series"]["part"], v.revision.title) for v in views if v.meta.get("series")})
    if series:
        console.print("   系列报道（按顺序）/ a series, in reading order:")
        for part, title in series:
            console.print(f"     {part}. {title}")
    console.print(
        f"[bold]2. 存（审计）[/] 审计链 {chain.events} 条事件，"
        + ("[green]校验通过[/]" if chain.ok else f"[red]发现 {len(chain.breaks)} 处断裂[/]")
    )
    channels = room.channels.channels
    console.print(
        f"[bold]3. 发（渠道）[/] 已声明 {len(channels)} 个渠道："
        + "、".join(c.title for c in channels.values())
    )
    gate, real = demo_gate()
    for site in build_all(room, gate):
        console.print(
            f"[bold]4. 发（网站与订阅源）[/] {len(site.published)} 篇稿件上线，{site.pages} 个页面、"
            f"{site.feeds} 个订阅源文件，写入 {len(site.written)} 个文件，用时 {site.seconds:.2f} 秒。"
        )
        if not real:
            console.print("   [yellow]审核链尚未接入：演示站点把所有稿件视为已审（禁发期仍然生效）。[/]")
        for slug, reasons in site.excluded.items():
            console.print(f"   未发布 {slug}: {'; '.join(reasons)}")
        console.print(f"   网站在 {site.output}/index.html")
        console.print("   在浏览器中打开 / open it: [bold]publisher preview[/]  →  http://127.0.0.1:8000/")
    console.print()
    console.print("接下来可以看 / where to look next:")
    console.print("  publisher articles                 稿件列表")
    if views:
        console.print(f"  publisher articles show {views[0].article.slug}")
        console.print(f"  publisher articles history {views[0].article.slug}")
    console.print("  publisher audit log | publisher audit verify")
    console.print("  publisher channels")
    console.print("  publisher build | publisher preview")
    return report.ok and chain.ok
