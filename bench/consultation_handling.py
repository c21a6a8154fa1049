"""Consultation handling benchmark: the reads the handling staff wait on, on a big consultation.

    .venv/bin/python bench/consultation_handling.py [--comments 100000] [--rounds 7] [--database-url URL]

Seeds one newsroom (SQLite by default) with three consultations and `--comments` comments (a share
answered, hidden, grouped), then times, each `--rounds` times:
- `summaries` (the 征求意见 list: counts per consultation in one grouped query, the overdue rule
  asked only of comments old enough) against the baseline measured in the same run: every comment
  loaded and counted in Python (what a first version did);
- `comments(overdue=True)` (the console's overdue filter, first page);
- `stats` (the statistics page) and a public XLSX export of the largest consultation.
Prints the median CPU time and its spread (min-max) and ends with one `RESULT key=value ...` line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from publisher.auth.identity import Identity, Via
from publisher.consultation.exports import Format, Scope, export
from publisher.consultation.overdue import counts, is_overdue
from publisher.consultation.queries import Filter, comments, stats, summaries
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session, write_session
from publisher.store.tables import Consultation, ConsultationComment
from tests.factory import make_newsroom

TZ = ZoneInfo("Asia/Shanghai")
OPENS = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
NOW = OPENS + timedelta(days=200)
HANDLER = Identity("dengzy", "邓志远", ("department_head",), Via.TOKEN)
SLUGS = ("property-draft", "elderly-care-draft", "public-data-draft")


def seed(room: Newsroom, n: int) -> None:
    clauses = json.dumps([{"key": str(k), "label": f"第{k}条"} for k in range(1, 41)], ensure_ascii=False)
    with write_session(room.engine) as session:
        for slug in SLUGS:
            session.add(
                Consultation(
                    slug=slug,
                    revision_id="0" * 64,
                    title=slug,
                    opens_at=OPENS,
                    closes_at=OPENS + timedelta(days=30),
                    clauses_json=clauses,
                    questions_json="[]",
                    created_at=OPENS,
                    updated_at=OPENS,
                )
            )
    batch: list[ConsultationComment] = []
    for i in range(n):
        received = OPENS + timedelta(minutes=(i * 37) % (30 * 24 * 60))
        body = f"关于第{i % 40 + 1}条的意见，建议修改。编号{i}"
        batch.append(
            ConsultationComment(
                receipt=f"ZQ{i:010d}",
                slug=SLUGS[0] if i % 2 == 0 else SLUGS[1 + i % 4 // 2],
                clause=str(i % 40 + 1),
                commenter_type=("individual", "organisation", "deputy", "outreach_point")[i % 4],
                body=body,
                fingerprint=hashlib.sha256(body.encode()).hexdigest(),
                group_id=i // 50 if i % 10 == 0 else None,
                source="online",
                received_at=received,
                moderation="hidden" if i % 23 == 0 else "shown",
                disposition="adopted" if i % 3 == 0 else None,
                answer="已答复" if i % 5 == 0 else None,
                answered_at=received + timedelta(days=10) if i % 5 == 0 else None,
                updated_at=received,
            )
        )
        if len(batch) == 5000:
            with write_session(room.engine) as session:
                session.add_all(batch)
            batch = []
    if batch:
        with write_session(room.engine) as session:
            session.add_all(batch)


def baseline(room: Newsroom) -> dict[str, int]:
    """Every comment loaded and counted in Python."""
    overdue: Counter[str] = Counter()
    total: Counter[str] = Counter()
    with read_session(room.engine) as session:
        for c in session.exec(select(ConsultationComment)):
            total[c.slug] += 1
            overdue[c.slug] += counts(c) and is_overdue(c, NOW, TZ)
    return dict(overdue)


def timed(fn: Callable[[], object], rounds: int) -> tuple[float, float, float, object]:
    """Median, min and max of this process's CPU time (a loaded machine's waits left out; the
    database's own work is in-process for SQLite, not counted for PostgreSQL)."""
    seconds = []
    result: object = None
    for _ in range(rounds):
        start = time.process_time()
        result = fn()
        seconds.append(time.process_time() - start)
    return statistics.median(seconds), min(seconds), max(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = make_newsroom(Path(tmp) / "newsroom", articles=1)
        if args.database_url:
            os.environ["PUBLISHER_DATABASE_URL"] = args.database_url
        room = Newsroom(root)
        started = time.perf_counter()
        seed(room, args.comments)
        print(f"seeded {args.comments} comments in {time.perf_counter() - started:.1f} s")

        def ours() -> dict[str, int]:
            with read_session(room.engine) as session:
                return {s.consultation.slug: s.overdue for s in summaries(session, NOW, TZ)}

        def overdue_page() -> int:
            with read_session(room.engine) as session:
                return comments(session, SLUGS[0], Filter(overdue=True), NOW, TZ).total

        def stats_page() -> int:
            with read_session(room.engine) as session:
                return stats(session, SLUGS[0], TZ).total

        rows: dict[str, tuple[float, float, float, object]] = {}
        rows["baseline"] = timed(lambda: baseline(room), args.rounds)
        rows["summaries"] = timed(ours, args.rounds)
        assert rows["summaries"][3] == rows["baseline"][3], "the two ways count differently"
        rows["overdue_page"] = timed(overdue_page, args.rounds)
        rows["stats"] = timed(stats_page, args.rounds)
        rows["export_xlsx"] = timed(
            lambda: export(room.engine, HANDLER, SLUGS[0], Scope.PUBLIC, Format.XLSX, TZ, NOW).rows,
            max(1, args.rounds // 3),
        )
        room.close()
    for name, (median, low, high, _) in rows.items():
        print(f"{name:14s} median {median * 1000:9.1f} ms CPU  (min {low * 1000:.1f}, max {high * 1000:.1f})")
    ratio = rows["baseline"][0] / rows["summaries"][0]
    print(f"summaries vs baseline: {ratio:.1f}x faster")
    print(
        "RESULT "
        + " ".join(
            [
                f"comments={args.comments}",
                f"summaries_ms={rows['summaries'][0] * 1000:.1f}",
                f"baseline_ms={rows['baseline'][0] * 1000:.1f}",
                f"ratio={ratio:.2f}",
                f"overdue_page_ms={rows['overdue_page'][0] * 1000:.1f}",
                f"stats_ms={rows['stats'][0] * 1000:.1f}",
                f"export_xlsx_ms={rows['export_xlsx'][0] * 1000:.1f}",
            ]
        )
    )


if __name__ == "__main__":
    main()
