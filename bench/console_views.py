"""The console's read models on a console-sized newsroom: time per call (p50, p95) and SQL
statements per call, without the web layer, so a slow page can be told from a slow query.

    .venv/bin/python bench/console_views.py DIR [--runs 30] [--seed-first] [--database-url URL]

DIR is a newsroom made by bench/console_seed.py (with --seed-first, it is made first at full size).
Ends with one `RESULT key=value ...` line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import event
from sqlmodel import Session, col, func, select

from bench.console_seed import NOW, seed
from publisher.console.views.article_detail import article_detail
from publisher.console.views.article_list import ArticleFilter, article_list
from publisher.console.views.calendar import month_view, week_view
from publisher.console.views.dashboard import dashboard
from publisher.console.views.diff import default_pair, diff_revisions
from publisher.console.views.queue import channel_queue
from publisher.newsroom import Newsroom
from publisher.review.staffing import check_staffing
from publisher.schedule.load import load_schedules
from publisher.standing import ArticleState
from publisher.store.tables import Article, Delivery, ReviewState

console = Console(stderr=True)


def pages(room: Newsroom) -> dict[str, Callable[[Session], Any]]:
    schedules = load_schedules(room)
    settings = room.settings
    with Session(room.engine) as session:
        busiest = session.exec(
            select(Article.slug)
            .join(Delivery, col(Delivery.article_id) == col(Article.id))
            .group_by(col(Article.slug))
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        reviewer = "qianwd"  # a department head: many stages wait on one
        waiting = session.exec(select(func.count()).where(col(ReviewState.status) == "in_review")).one()
    console.print(f"busiest article {busiest}; {waiting} revisions in review")
    return {
        "dashboard": lambda s: dashboard(s, reviewer, NOW, 5),
        "list": lambda s: article_list(s),
        "list_state": lambda s: article_list(s, ArticleFilter(state=ArticleState.IN_REVIEW)),
        "list_text": lambda s: article_list(s, ArticleFilter(text="代表")),
        "article": lambda s: article_detail(s, busiest),
        "diff": lambda s: (default_pair(s, busiest, reviewer), diff_revisions(s, busiest, 1, 1)),
        "calendar_month": lambda s: month_view(s, schedules, 2026, 11),
        "calendar_week": lambda s: week_view(s, schedules, date(2026, 11, 23)),
        "queue": lambda s: channel_queue(s, "wechat"),
        "staffing": lambda s: check_staffing(s, settings.review.stages, settings.committees),
    }


def measure(room: Newsroom, runs: int) -> dict[str, tuple[float, float, int]]:
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    results: dict[str, tuple[float, float, int]] = {}
    event.listen(room.engine, "before_cursor_execute", count)
    try:
        for name, page in pages(room).items():
            times: list[float] = []
            per_call = 0
            for run in range(runs + 1):
                statements = 0
                with Session(room.engine) as session:
                    began = time.perf_counter()
                    page(session)
                    elapsed = time.perf_counter() - began
                if run:  # the first call warms caches (schema, templates of statements)
                    times.append(elapsed * 1000)
                    per_call = max(per_call, statements)
            times.sort()
            p95 = times[max(0, round(0.95 * len(times)) - 1)]
            results[name] = (statistics.median(times), p95, per_call)
    finally:
        event.remove(room.engine, "before_cursor_execute", count)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", type=Path)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--seed-first", action="store_true")
    ap.add_argument("--database-url")
    args = ap.parse_args(argv)
    if args.seed_first:
        seed(args.root, database_url=args.database_url)
    room = Newsroom(args.root)
    try:
        results = measure(room, args.runs)
    finally:
        room.close()
    table = Table("read model", "p50 ms", "p95 ms", "queries")
    for name, (p50, p95, queries) in results.items():
        table.add_row(name, f"{p50:.1f}", f"{p95:.1f}", str(queries))
    Console().print(table)
    print(
        "RESULT "
        + " ".join(f"{name}_p95_ms={p95:.1f}" for name, (_p50, p95, _q) in results.items())
        + f" max_queries={max(q for _a, _b, q in results.values())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
