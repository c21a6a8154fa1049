"""Console benchmark: server time and SQL statements per page on a console-sized newsroom.

    .venv/bin/python bench/console.py [--articles 10000] [--deliveries 100000] [--users 50]
                                      [--rounds 40] [--keep DIR] [--database-url URL]

The newsroom comes from bench/console_seed.py (10,000 articles through ingest, 50 staff, signed
review chains, 100,000 releases). The console app is driven in-process through ASGI, so the time
measured is the server's: routing, the session check, the read models, the template. The
baseline, measured in the same run, is `/healthz` (the framework's floor). The same pages are
also measured on a newsroom a fifth of the size: their statement counts must be equal.
Ends with one `RESULT key=value ...` line.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import event
from sqlmodel import col, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.console_seed import NOW, seed
from publisher.console.app import create_console_app
from publisher.newsroom import Newsroom
from publisher.review.users import set_password
from publisher.store.engine import read_session, write_session
from publisher.store.tables import Article, ReviewState
from publisher.timeutil import local

console = Console(stderr=True)
PASSWORD = "bench-password-2026"
_LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')


@dataclass
class Measured:
    p50_ms: float
    p95_ms: float
    statements: int


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


class Bench:
    def __init__(self, room: Newsroom) -> None:
        self.room = room
        self.app = create_console_app(room)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://bench")
        self.statements = 0
        event.listen(room.engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.statements += 1

    async def sign_in(self, username: str) -> None:
        form = await self.client.get("/login")
        found = _LOGIN_CSRF.search(form.text)
        assert found, form.text[:300]
        reply = await self.client.post(
            "/login", data={"username": username, "password": PASSWORD, "login_csrf": found.group(1)}
        )
        assert reply.status_code == 303 and "publisher_session" in self.client.cookies, reply.text[:300]

    async def measure(self, path: str, rounds: int) -> Measured:
        for _ in range(3):  # warm: templates compiled, caches filled
            reply = await self.client.get(path)
            assert reply.status_code == 200, f"{path}: {reply.status_code} {reply.text[:300]}"
        times: list[float] = []
        counts: list[int] = []
        for _ in range(rounds):
            self.statements = 0
            start = time.perf_counter()
            reply = await self.client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            counts.append(self.statements)
            assert reply.status_code == 200, path
        return Measured(statistics.median(times), p95(times), max(counts))


def _prepare(root: Path, articles: int, deliveries: int, users: int, url: str | None) -> Newsroom:
    marker = root / ".seeded"
    wanted = f"{articles} {deliveries} {users} {url}"
    if not marker.is_file() or marker.read_text() != wanted:
        seed(root, articles=articles, deliveries=deliveries, users=users, database_url=url)
        marker.write_text(wanted)
    room = Newsroom(root)
    with write_session(room.engine) as session:
        set_password(session, "zhouwb", PASSWORD, actor="bench")
    return room


def _pages(room: Newsroom) -> dict[str, str]:
    """The four pages of the target, for an editor on the bench's "now"."""
    with read_session(room.engine) as session:
        waiting = session.exec(
            select(Article.slug)
            .join(ReviewState, col(ReviewState.revision_id) == col(Article.current_revision_id))
            .where(ReviewState.status == "in_review")
            .limit(1)
        ).first()
    assert waiting, "the seed left nothing in review"
    month = local(NOW, room.settings.tz)
    return {
        "dashboard": "/",
        "calendar": f"/calendar?view=month&date={month:%Y-%m-%d}",
        "list": "/articles",
        "review": f"/review/{waiting}",
    }


async def _run(room: Newsroom, rounds: int) -> tuple[Measured, dict[str, Measured]]:
    bench = Bench(room)
    await bench.sign_in("zhouwb")
    floor = await bench.measure("/healthz", rounds)
    results = {name: await bench.measure(path, rounds) for name, path in _pages(room).items()}
    await bench.client.aclose()
    return floor, results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--deliveries", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--keep", type=Path, help="seed into (and reuse) this folder")
    ap.add_argument("--database-url", help="default: SQLite under the folder")
    args = ap.parse_args(argv)

    base = args.keep or Path(tempfile.mkdtemp(prefix="console-bench-"))
    sizes: list[tuple[str, int, int]] = [
        ("full", args.articles, args.deliveries),
        ("fifth", max(1, args.articles // 5), max(1, args.deliveries // 5)),
    ]
    measured: dict[str, tuple[Measured, dict[str, Measured]]] = {}
    for label, articles, deliveries in sizes:
        console.print(f"[bold]{label}[/]: {articles} articles, {deliveries} deliveries")
        room = _prepare(base / label, articles, deliveries, args.users, args.database_url)
        try:
            measured[label] = asyncio.run(_run(room, args.rounds))
        finally:
            room.close()

    floor, full = measured["full"]
    _floor_small, small = measured["fifth"]
    table = Table(title="console pages (server time, ms)", title_justify="left")
    for head in ("page", "p50", "p95", "p95 / healthz", "statements", "statements at 1/5 size"):
        table.add_column(head, justify="right")
    table.add_row("healthz", f"{floor.p50_ms:.1f}", f"{floor.p95_ms:.1f}", "1.0", str(floor.statements), "")
    for name, m in full.items():
        table.add_row(
            name,
            f"{m.p50_ms:.1f}",
            f"{m.p95_ms:.1f}",
            f"{m.p95_ms / floor.p95_ms:.1f}",
            str(m.statements),
            str(small[name].statements),
        )
    console.print(table)
    steady = all(full[name].statements == small[name].statements for name in full)
    ratio: Callable[[str], str] = lambda name: f"{full[name].p95_ms / floor.p95_ms:.1f}"  # noqa: E731
    print(
        f"RESULT dashboard_p95_ms={full['dashboard'].p95_ms:.1f} calendar_p95_ms={full['calendar'].p95_ms:.1f} "
        f"list_p95_ms={full['list'].p95_ms:.1f} review_p95_ms={full['review'].p95_ms:.1f} "
        f"max_queries={max(m.statements for m in full.values())} queries_steady={str(steady).lower()} "
        f"healthz_p95_ms={floor.p95_ms:.2f} dashboard_x={ratio('dashboard')} calendar_x={ratio('calendar')} "
        f"list_x={ratio('list')} review_x={ratio('review')}"
    )
    return 0 if steady else 1


if __name__ == "__main__":
    sys.exit(main())
