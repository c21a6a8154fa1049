"""The console's pages over real HTTP on a console-sized newsroom: time per page (p50, max) and SQL
statements per page, as a signed-in person sees them (web layer, templates and read models).

    .venv/bin/python bench/console_pages.py DIR [--runs 5] [--user qianwd]

DIR is a newsroom made by bench/console_seed.py. The user is given a known password first.
Ends with one `RESULT key=value ...` line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlmodel import Session, col, func, select

from publisher.console.app import create_console_app
from publisher.newsroom import Newsroom
from publisher.review.users import set_password
from publisher.store.engine import write_session
from publisher.store.tables import Article, Delivery, ReviewState, Revision
from publisher.web.testing import serving
from tests.console_helpers import sign_in
from tests.query_count import counting

console = Console(stderr=True)
PASSWORD = "bench-console-2026"


def paths(room: Newsroom) -> dict[str, str]:
    with Session(room.engine) as session:
        busiest = session.exec(
            select(Article.slug)
            .join(Delivery, col(Delivery.article_id) == col(Article.id))
            .group_by(col(Article.slug))
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        reviewed = session.exec(
            select(Article.slug)
            .join(ReviewState, col(ReviewState.revision_id) == col(Article.current_revision_id))
            .where(ReviewState.status == "in_review")
            .limit(1)
        ).one()
        revision = session.exec(
            select(Revision.id)
            .join(Article, col(Article.current_revision_id) == col(Revision.id))
            .where(Article.slug == reviewed)
        ).one()
    return {
        "dashboard": "/",
        "articles": "/articles",
        "articles_page_50": "/articles?page=50",
        "articles_in_review": "/articles?state=in_review",
        "articles_search": "/articles?q=%E4%BB%A3%E8%A1%A8",
        "article": f"/articles/{busiest}",
        "diff": f"/articles/{busiest}/diff",
        "review_queue": "/review",
        "review_page": f"/review/{reviewed}",
        "preview_website": f"/review/{reviewed}/preview/{revision}/website",
        "notices": "/notices",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--user", default="qianwd")
    args = ap.parse_args(argv)
    room = Newsroom(args.root)
    with write_session(room.engine) as session:
        set_password(session, args.user, PASSWORD, actor="bench")
    table = Table("page", "p50 ms", "max ms", "statements")
    result: list[str] = []
    with serving(room, create_console_app(room)) as base:
        client, _csrf = sign_in(base, args.user, PASSWORD)
        for name, path in paths(room).items():
            times: list[float] = []
            statements = 0
            for _ in range(args.runs):
                with counting(room.engine) as counted:
                    started = time.perf_counter()
                    answer = client.get(path)
                    times.append((time.perf_counter() - started) * 1000)
                if answer.status_code != 200:
                    console.print(f"[red]{name}: {answer.status_code}[/red] {answer.text[:300]}")
                    return 1
                statements = counted.count
            p50 = statistics.median(times)
            table.add_row(name, f"{p50:.0f}", f"{max(times):.0f}", str(statements))
            result.append(f"{name}_ms={p50:.0f}")
    console.print(table)
    print("RESULT " + " ".join(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
