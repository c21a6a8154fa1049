"""Ingest benchmark: 5,000 generated articles with images, first ingest then unchanged re-ingest.

    .venv/bin/python bench/ingest.py [--count 5000] [--database-url URL] [--keep DIR]

Baselines measured in the same run: the first ingest, and the bare cost of reading and parsing
every file's front matter (what a re-ingest without the unchanged-file fast path would at least
pay). Ends with one `RESULT key=value ...` line.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import create_engine, text

from publisher.content.frontmatter import parse
from publisher.ingest import IngestReport, ingest, scan
from publisher.newsroom import Newsroom

REPO = Path(__file__).resolve().parents[1]
# Beside the checkout, or beside the worktrees folder when run from a worktree.
CORPUS_SCRIPT = next(
    (
        candidate / "bench" / "make_corpus.py"
        for candidate in (REPO.parent / "shared", REPO.parent.parent / "shared")
        if (candidate / "bench" / "make_corpus.py").is_file()
    ),
    REPO.parent / "shared" / "bench" / "make_corpus.py",
)
console = Console(stderr=True)


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process, and of its ended children (ingest's loading workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def timed_ingest(root: Path, label: str, total: int) -> tuple[float, float, float, IngestReport]:
    """Wall seconds; CPU seconds of this process and of the loading workers (figures a loaded
    machine disturbs less than the wall time); the report."""
    room = Newsroom(root)
    room.engine  # migrate outside the timing  # noqa: B018
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        start, (own, workers) = time.perf_counter(), cpu_seconds()
        report = ingest(room, progress=lambda n: bar.advance(task, n))
        elapsed, (own_after, workers_after) = time.perf_counter() - start, cpu_seconds()
    room.close()
    return elapsed, own_after - own, workers_after - workers, report


def parse_only(root: Path) -> float:
    start = time.perf_counter()
    for path in scan(root / "content"):
        parse(path.read_text(encoding="utf-8"))
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--database-url", help="default: SQLite under the temporary newsroom")
    ap.add_argument("--corpus-script", type=Path, default=CORPUS_SCRIPT)
    ap.add_argument("--keep", type=Path, help="build the newsroom here and keep it")
    args = ap.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="publisher-bench-"))
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    shutil.copy(REPO / "publisher.toml", root / "publisher.toml")
    shutil.copytree(REPO / "channels", root / "channels")
    schema = None
    if args.database_url:
        url = args.database_url
        if url.startswith("postgresql"):
            # A schema of the bench's own, dropped after: the store's append-only triggers make a
            # run's rows impossible to delete, so a shared schema would fail every later run.
            schema = f"bench_ingest_{uuid.uuid4().hex[:8]}"
            with create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
        os.environ["PUBLISHER_DATABASE_URL"] = url
    console.print(f"generating {args.count} articles with images …")
    subprocess.run(
        [
            sys.executable,
            str(args.corpus_script),
            str(root / "content"),
            "--count",
            str(args.count),
            "--seed",
            str(args.seed),
            "--images",
            "--quiet",
        ],
        check=True,
    )

    try:
        first_s, first_cpu, workers_cpu, first = timed_ingest(root, "first ingest", args.count)
        assert first.ok and len(first.created) == args.count, (first.problems[:3], len(first.created))
        parse_s = parse_only(root)
        again_s, _again_cpu, _again_workers, again = timed_ingest(root, "re-ingest  ", args.count)
        assert again.unchanged == args.count and not again.created and not again.revised
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        if schema is not None:
            admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()

    first_rate = args.count / first_s
    again_rate = args.count / again_s
    parse_rate = args.count / parse_s
    backend = (args.database_url or "sqlite").split(":", 1)[0].split("+", 1)[0]
    print(f"backend            {backend}")
    cpu_ms = 1000 * (first_cpu + workers_cpu) / args.count
    parent_ms = 1000 * first_cpu / args.count
    print(f"first ingest       {first_s:8.2f} s  {first_rate:9.0f} articles/s  (baseline)")
    print(
        f"  its CPU time     {first_cpu + workers_cpu:8.2f} s  {cpu_ms:9.2f} ms/article, {parent_ms:.2f} of it in this "
        "process, the rest in loading workers (database server not counted)"
    )
    print(
        f"parse only         {parse_s:8.2f} s  {parse_rate:9.0f} articles/s  ({parse_rate / first_rate:.1f}x first)"
    )
    print(
        f"unchanged re-ingest{again_s:8.2f} s  {again_rate:9.0f} articles/s  ({again_rate / first_rate:.1f}x first, "
        f"{again_rate / parse_rate:.1f}x parse-only)"
    )
    print(
        f"RESULT backend={backend} articles={args.count} first_per_s={first_rate:.0f} first_cpu_ms={cpu_ms:.2f} "
        f"first_parent_cpu_ms={parent_ms:.2f} "
        f"reingest_per_s={again_rate:.0f} "
        f"parse_only_per_s={parse_rate:.0f} speedup={again_rate / first_rate:.1f} "
        f"vs_parse_only={again_rate / parse_rate:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
