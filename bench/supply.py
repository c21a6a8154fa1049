"""Supply benchmark: 5,000 signed partner pushes through the delivery engine to a loopback receiver,
against the same 5,000 POSTs sent by a bare httpx AsyncClient loop, in the same run.

    .venv/bin/python bench/supply.py [--articles 100] [--partners 50] [--workers N] [--database-url URL]

The receiver (the sandbox partner: verifies every signature, dedupes by Idempotency-Key) runs in a
process of its own. The engine side is what production runs: deliveries scheduled in the store,
claimed with leases by `--workers` worker processes, gated, rendered to ninjs, signed, POSTed,
recorded, finished with their audit events. The bare side sends the same signed bodies with one
httpx.AsyncClient at concurrency 1, 10 and 50 and keeps its best rate. Wall rates move with whatever
else the machine runs, so the CPU each side spends per delivery is measured too (the engine: its
worker processes, all they do; the bare side: its loop, at the best concurrency) and so is the
receiver's per request, which both sides pay. Ends with
`RESULT engine_per_s=... bare_per_s=... ratio=... duplicates=... engine_cpu_ms=... bare_cpu_ms=...`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console
from sqlalchemy import func, select
from sqlmodel import Session

from publisher.engine import scheduling
from publisher.engine.worker import DeliveryWorker
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review import walk
from publisher.review.service import ReviewService
from publisher.review.users import sync_users
from publisher.store.engine import write_session
from publisher.store.tables import Article, Delivery
from publisher.supply import signing
from publisher.supply.ninjs import Packager, Version, dumps, load_sources

REPO = Path(__file__).resolve().parents[1]
SECRET_ENV = "PUBLISHER_BENCH_PARTNER_SECRET"
SECRET = "bench-secret"
console = Console(stderr=True)
RECEIVER = """
import sys, time
from publisher.supply.sandbox import SandboxPartner
s = SandboxPartner(sys.argv[1]).start()
print(s.port, flush=True)
while True:
    time.sleep(3600)
"""


def make_newsroom(root: Path, articles: int, partners: int, endpoint: str) -> None:
    root.mkdir(parents=True)
    shutil.copy(REPO / "publisher.toml", root / "publisher.toml")
    for folder in ("review", "schedules"):
        shutil.copytree(REPO / folder, root / folder)
    channels = root / "channels"
    channels.mkdir()
    shutil.copy(REPO / "channels" / "website.toml", channels / "website.toml")
    for n in range(1, partners + 1):
        (channels / f"partner-{n:03d}.toml").write_text(
            f'kind = "partner"\ntitle = "合作媒体 {n}"\n[settings]\noutlet = "媒体{n}"\nmode = ["push"]\n'
            f'endpoint = "{endpoint}"\nsecret_env = "{SECRET_ENV}"\nimages = "url"\n',
            encoding="utf-8",
        )
    content = root / "content"
    content.mkdir()
    body = "\n\n".join(
        f"第{p}段：常委会组成人员围绕条例草案深入审议，提出修改意见和建议。" * 3 for p in range(8)
    )
    for i in range(1, articles + 1):
        (content / f"a{i:04d}.md").write_text(
            f"---\ntitle: 供稿基准第{i}篇\nslug: bench-{i:04d}\ndate: 2026-11-20T10:00:00+08:00\n"
            f"column: 良法善治护航发展\nkind: news\nauthors: [王晓明]\ndepartment: 研究室\n"
            f"summary: 基准导语。\n---\n\n{body}\n",
            encoding="utf-8",
        )


def prepare(root: Path, database_url: str | None) -> tuple[list[str], list[str]]:
    room = Newsroom(root)
    assert ingest(room, actor="bench").ok
    with write_session(room.engine) as session:
        sync_users(session, room.settings.users, "bench")
    service = ReviewService(room)
    with Session(room.engine) as session:
        slugs = sorted(session.exec(select(Article.slug)).scalars())
    for slug in slugs:
        service.submit(slug, "zhouwb")
        walk.sign_through(service, slug, acknowledge=True)
    partners = sorted(n for n, c in room.channels.channels.items() if c.kind == "partner")
    due = datetime.now(UTC)
    for slug in slugs:
        scheduling.schedule(room, slug, partners, due, "bench", now=due)
    room.close()
    return slugs, partners


def worker_process(root: str, index: int) -> None:
    room = Newsroom(Path(root))
    worker = DeliveryWorker(room, worker_id=f"bench-{index}")
    while worker.run_once():
        pass
    room.close()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds a running process has used (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_engine(root: Path, workers: int) -> tuple[float, int, float]:
    """Wall seconds, deliveries done, and the CPU seconds the worker processes used."""
    context = multiprocessing.get_context("fork")
    cpu = children_cpu()
    start = time.perf_counter()
    procs = [context.Process(target=worker_process, args=(str(root), i)) for i in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - start
    cpu = children_cpu() - cpu
    room = Newsroom(root)
    with Session(room.engine) as session:
        done = session.execute(select(func.count()).where(Delivery.status == "done")).scalar_one()  # type: ignore[arg-type]
    room.close()
    return elapsed, int(done), cpu


def packages(root: Path, slugs: list[str], partners: list[str]) -> list[tuple[str, bytes]]:
    """The same (key, body) pairs the engine sent: rendered outside the timing."""
    room = Newsroom(root)
    out = []
    with Session(room.engine) as session:
        rows = session.execute(select(Delivery.idempotency_key, Delivery.channel, Delivery.revision_id)).all()  # type: ignore[call-overload]
        from publisher.store.tables import Revision

        cache: dict[str, Packager] = {}
        revisions = {r.id: r for r in session.execute(select(Revision)).scalars()}
        for key, channel, revision_id in rows:
            packager = cache.setdefault(channel, Packager(room, room.channels.channels[channel]))
            revision = revisions[revision_id]
            version = Version(1, "usable", revision.created_at.replace(tzinfo=UTC))
            out.append(
                (
                    f"bare-{key}",
                    dumps(packager.package(revision, load_sources(session, revision.id), version)),
                )
            )
    room.close()
    return out


async def bare(url: str, items: list[tuple[str, bytes]], concurrency: int) -> float:
    queue = list(items)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one(key: str, body: bytes) -> None:
            headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key}
            headers.update(signing.sign(SECRET, body))
            response = await client.post(url, content=body, headers=headers)
            response.raise_for_status()

        async def lane() -> None:
            while queue:
                key, body = queue.pop()
                await one(key, body)

        start = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=100)
    ap.add_argument("--partners", type=int, default=50)
    ap.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="worker processes (default: one per core)"
    )
    ap.add_argument("--database-url", default=None, help="default: SQLite in the temporary newsroom")
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    total = args.articles * args.partners
    os.environ[SECRET_ENV] = SECRET
    if args.database_url:
        os.environ["PUBLISHER_DATABASE_URL"] = args.database_url
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, SECRET], stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        url = f"{base}/ingest"
        work = Path(tempfile.mkdtemp(prefix="bench-supply-")) if args.keep is None else args.keep
        root = work / "newsroom"
        make_newsroom(root, args.articles, args.partners, url)
        console.print(
            f"准备 / preparing {args.articles} articles x {args.partners} partners = {total} deliveries"
        )
        t = time.perf_counter()
        slugs, partners = prepare(root, args.database_url)
        console.print(f"  ingest, review and schedule: {time.perf_counter() - t:.1f} s")

        receiver_cpu = process_cpu(receiver.pid)
        engine_s, done, engine_cpu = run_engine(root, args.workers)
        engine_receiver_cpu = process_cpu(receiver.pid) - receiver_cpu
        state = httpx.get(base).json()
        duplicates = state["duplicates"] + max(0, state["posts"] - state["accepted"] - len(state["rejected"]))
        engine_rate = done / engine_s
        console.print(
            f"engine: {done}/{total} done in {engine_s:.2f} s = {engine_rate:.0f}/s with {args.workers} workers; "
            f"receiver accepted {state['accepted']}, duplicates {state['duplicates']}, rejected {len(state['rejected'])}"
        )
        engine_cpu_ms = engine_cpu / max(1, done) * 1000
        console.print(
            f"  CPU per delivery: engine {engine_cpu_ms:.2f} ms, "
            f"receiver {engine_receiver_cpu / max(1, done) * 1000:.2f} ms"
        )

        items = packages(root, slugs, partners)
        rates: dict[int, float] = {}
        cpus: dict[int, float] = {}
        for concurrency in (1, 10, 50):
            httpx.post(f"{base}/_control/reset")
            cpu, receiver_cpu = time.process_time(), process_cpu(receiver.pid)
            seconds = asyncio.run(bare(url, items, concurrency))
            cpus[concurrency] = (time.process_time() - cpu) / len(items) * 1000
            receiver_ms = (process_cpu(receiver.pid) - receiver_cpu) / len(items) * 1000
            rates[concurrency] = len(items) / seconds
            console.print(
                f"bare httpx AsyncClient, concurrency {concurrency}: {rates[concurrency]:.0f}/s, "
                f"CPU per request {cpus[concurrency]:.2f} ms, receiver {receiver_ms:.2f} ms"
            )
        best = max(rates, key=lambda c: rates[c])
        bare_rate = rates[best]
        ratio = engine_rate / bare_rate
        console.print(f"engine / bare (best, concurrency {best}) = {ratio:.2f} (target >= 0.8, issue 15)")
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        receiver.kill()
        receiver.wait()
    ok = done == total and state["accepted"] == total and duplicates == 0
    print(
        f"RESULT engine_per_s={engine_rate:.0f} bare_per_s={bare_rate:.0f} ratio={ratio:.2f} duplicates={duplicates}"
        f" engine_cpu_ms={engine_cpu_ms:.2f} bare_cpu_ms={cpus[best]:.2f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
