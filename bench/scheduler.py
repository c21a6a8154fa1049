"""Scheduler benchmark: lateness, start-up with 100,000 scheduled deliveries, multi-worker throughput.

    .venv/bin/python bench/scheduler.py [--database-url URL] [--count 10000] [--window 60]

(a) 10,000 deliveries due within 60 s, performed by one in-process worker through an adapter that
    records when it is called: lateness = call time - due time (p50, p99, max); in the same run,
    bare APScheduler 3 with 10,000 date jobs over 60 s, its own lateness: the baseline. Then the
    same again with one core kept busy by a CPU-bound process the bench starts (`p99_busy_ms`).
(b) a fresh worker process started against 100,000 scheduled deliveries: start-up time and RSS.
(c) deliveries all due at once, drained by one `publisher run` process on PostgreSQL and on SQLite,
    then by 3 on PostgreSQL, through a loopback HTTP sink that counts Idempotency-Keys: throughput,
    the worker processes' CPU time per delivery, and duplicates. Throughput (`per_s_*`) and CPU per
    delivery (`cpu_ms_*`) are those of running workers: counted from the first delivery the sink
    receives to the last, so a process's start-up (imports, registering, catching up: about a
    second, the same for 300 deliveries as for 30,000) does not dilute them at small counts. The
    start-up is printed beside them (`start_*_s`: launch to first delivery, wall), and so are the
    figures over the whole process life (`wall_per_s_*`, `cpu_ms_total_*`), as earlier versions of
    this bench measured them.
Ends with one `RESULT key=value ...` line. PostgreSQL by default (a fresh schema, dropped after);
the SQLite newsroom of (c) is a file in a temporary folder. `--parts a,busy,b,c` runs a subset
(for a quick look; the RESULT line then names only what ran).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

from apscheduler.schedulers.background import BackgroundScheduler
from rich.console import Console
from sqlalchemy import create_engine, func, insert, select, text
from sqlmodel import Session, col

from publisher.channels.registry import Channel
from publisher.engine import worker as worker_module
from publisher.engine.performers import Receipt
from publisher.engine.scheduling import idempotency_key
from publisher.engine.worker import DeliveryWorker
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review import walk
from publisher.review.service import ReviewService
from publisher.review.users import sync_users
from publisher.store.engine import write_session
from publisher.store.tables import Article, Delivery, Revision

REPO = Path(__file__).resolve().parents[1]
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
console = Console(stderr=True)
ENGINE_SETTINGS = "[engine]\nlease_seconds = 30\npoll_seconds = 0.5\nheartbeat_seconds = 2\nbatch = 50\n\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- a newsroom with a few approved articles -------------------------------------------------------
def make_newsroom(root: Path, url: str, sink_url: str) -> Newsroom:
    root.mkdir(parents=True)
    text_ = (REPO / "publisher.toml").read_text(encoding="utf-8")
    (root / "publisher.toml").write_text(
        text_.replace("[[columns]]", ENGINE_SETTINGS + "[[columns]]", 1), encoding="utf-8"
    )
    for folder in ("channels", "review", "schedules"):
        shutil.copytree(REPO / folder, root / folder)
    (root / "channels" / "sink.toml").write_text(
        f'kind = "sink"\ntitle = "接收端"\n[settings]\nurl = "{sink_url}"\n', encoding="utf-8"
    )
    (root / "content").mkdir()
    for i in range(3):
        (root / "content" / f"b{i}.md").write_text(
            f"---\ntitle: 基准稿件{i}\nslug: bench-{i}\ndate: 2026-11-20T10:00:00+08:00\ncolumn: 工作动态\n"
            f"kind: news\nauthors: [王晓明]\ndepartment: 研究室\n---\n\n正文{i}。\n",
            encoding="utf-8",
        )
    os.environ["PUBLISHER_DATABASE_URL"] = url
    room = Newsroom(root)
    assert ingest(room).ok
    with write_session(room.engine) as session:
        sync_users(session, room.settings.users, "bench")
    service = ReviewService(room)
    for i in range(3):
        service.submit(f"bench-{i}", "zhouwb")
        walk.sign_through(service, f"bench-{i}")
    return room


def bulk_schedule(room: Newsroom, channel: str, dues: list[datetime], tag: str) -> None:
    """Insert delivery rows directly: (a)-(c) measure the engine, not the scheduling command."""
    with Session(room.engine) as session:
        ids = list(session.execute(select(col(Article.id), col(Article.slug))).all())
    now = datetime.now(UTC)
    rows = []
    for n, due in enumerate(dues):
        article_id, slug = ids[n % len(ids)]
        rows.append(
            {
                "article_id": article_id,
                "channel": channel,
                "due_at": due,
                "status": "scheduled",
                "attempts": 0,
                "next_attempt_at": due,
                "created_by": "bench",
                "created_at": now,
                "updated_at": now,
                "idempotency_key": idempotency_key(f"{slug}-{tag}-{n}", channel, due),
            }
        )
    with room.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(Delivery), rows[start : start + 5000])


# -- (a) lateness ----------------------------------------------------------------------------------
class Stopwatch:
    retry_safe = True

    def __init__(self) -> None:
        self.lateness: list[float] = []
        self.lock = threading.Lock()

    def perform(self, delivery: Delivery, revision: Revision) -> Receipt:
        late = (datetime.now(UTC) - delivery.due_at).total_seconds()
        with self.lock:
            self.lateness.append(late)
        return Receipt(remote_id=str(delivery.id))

    def take_down(self, delivery: Delivery, revision: Revision) -> Receipt:
        return Receipt(remote_id=str(delivery.id))

    def reconcile(self, delivery: Delivery) -> Receipt | None:
        return None

    def close(self) -> None:
        pass


def engine_lateness(room: Newsroom, count: int, window: float) -> list[float]:
    stopwatch = Stopwatch()
    # The bench kind is no registered kind: the worker is handed the stopwatch for it directly.
    registered = worker_module.performer_for
    worker_module.performer_for = lambda r, c: stopwatch if c.kind == "bench" else registered(r, c)
    room.channels.channels["bench"] = Channel(
        name="bench",
        kind="bench",
        title="计时端",
        description="",
        enabled=True,
        external=False,
        settings=room.channels.channels["sink"].settings,
        source="channels/bench.toml",
    )
    start = datetime.now(UTC) + timedelta(seconds=5)
    dues = [start + timedelta(seconds=window * n / count) for n in range(count)]
    bulk_schedule(room, "bench", dues, "late")
    worker = DeliveryWorker(room)
    worker.start()
    deadline = time.time() + window + 60
    while len(stopwatch.lateness) < count and time.time() < deadline:
        console.print(f"  engine: {len(stopwatch.lateness)}/{count}", end="\r")
        time.sleep(1)
    worker.request_stop()
    worker.shutdown()
    return [x * 1000 for x in stopwatch.lateness]


def apscheduler_lateness(count: int, window: float) -> list[float]:
    results: list[float] = []
    lock = threading.Lock()

    def job(due: datetime) -> None:
        late = (datetime.now(UTC) - due).total_seconds() * 1000
        with lock:
            results.append(late)

    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"misfire_grace_time": None})
    scheduler.start()
    start = datetime.now(UTC) + timedelta(seconds=3)
    for n in range(count):
        due = start + timedelta(seconds=window * n / count)
        scheduler.add_job(job, "date", run_date=due, args=[due])
    deadline = time.time() + window + 30
    while len(results) < count and time.time() < deadline:
        time.sleep(0.5)
    scheduler.shutdown()
    return results


# -- (b) start-up with 100,000 scheduled -----------------------------------------------------------
# Run as `python -c`: a worker process loads the worker, not this bench's imports (ingest, review,
# rich), which would count in its RSS.
CHILD_STARTUP = """
import json, sys, time
from pathlib import Path
from publisher.engine.worker import DeliveryWorker
from publisher.newsroom import Newsroom

room = Newsroom(Path(sys.argv[1]))
started = time.perf_counter()
worker = DeliveryWorker(room)
worker.start()
elapsed = time.perf_counter() - started
# The peak of this process's own memory (VmHWM): ru_maxrss would carry the bench's peak over the
# fork and exec that started this process.
status = Path("/proc/self/status").read_text()
rss_mb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024
worker.request_stop()
worker.shutdown()
print(json.dumps({"startup_s": elapsed, "rss_mb": rss_mb}))
"""


# -- (c) throughput --------------------------------------------------------------------------------
class CountingSink:
    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Without it a small reply waits on the client's delayed ACK (Nagle's algorithm).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with sink.lock:
                    sink.keys[self.headers.get("Idempotency-Key", "")] += 1
                body = b'{"id": "ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Drained(NamedTuple):
    per_s: float  # from the first delivery at the sink to the last
    cpu_ms: float  # the worker processes' CPU time (user + system) per delivery, over the same span
    start_s: float  # launch to the first delivery at the sink
    wall_per_s: float  # from launch to the last delivery
    cpu_ms_total: float  # the processes' whole CPU time (start-up and shutdown too) per delivery


def process_cpu(pids: list[int]) -> float:
    """User + system CPU seconds these running processes have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def throughput(room: Newsroom, url: str, sink: CountingSink, workers: int, count: int) -> Drained:
    # --skip-doctor: the bench newsroom's WeChat and partner channels have no secrets behind them,
    # and this bench releases on the sink only.
    bulk_schedule(room, "sink", [datetime.now(UTC)] * count, f"tp{workers}-{uuid.uuid4().hex[:6]}")
    env = {**os.environ, "PUBLISHER_DATABASE_URL": url, "PUBLISHER_NEWSROOM": str(room.root)}
    before = sum(sink.keys.values())
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "publisher", "run", "--skip-doctor"], env=env, stderr=subprocess.DEVNULL
        )
        for _ in range(workers)
    ]
    target = before + count
    pids = [proc.pid for proc in procs]
    first: tuple[float, int, float] | None = None  # when, how many had arrived, the CPU used by then
    while (arrived := sum(sink.keys.values())) < target and time.perf_counter() - started < 600:
        if first is None and arrived > before:
            first = (time.perf_counter(), arrived, process_cpu(pids))
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    cpu_running = process_cpu(pids)
    first_at, first_count, first_cpu = first or (started, before, 0.0)
    span = max(time.perf_counter() - first_at, 1e-9)
    drained = max(target - first_count, 1)
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    return Drained(
        per_s=drained / span,
        cpu_ms=(cpu_running - first_cpu) / drained * 1000,
        start_s=first_at - started,
        wall_per_s=count / elapsed,
        cpu_ms_total=cpu / count * 1000,
    )


class BusyCore:
    """A CPU-bound process on one core for as long as the block runs."""

    def __enter__(self) -> BusyCore:
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("PUBLISHER_TEST_PG_URL", PG))
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--window", type=float, default=60.0)
    ap.add_argument("--scheduled", type=int, default=100_000)
    ap.add_argument("--throughput-count", type=int, default=3000)
    ap.add_argument("--parts", default="a,busy,b,c", help="which parts to run (a, busy, b, c)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{args.database_url}?options=-csearch_path%3D{schema}"
    temp = Path(tempfile.mkdtemp(prefix="publisher-sched-"))
    root = temp / "newsroom"
    sink = CountingSink()
    result: dict[str, str] = {}
    try:
        room = make_newsroom(root, url, sink.url)
        if "a" in parts:
            console.print(f"(a) {args.count} deliveries due within {args.window:.0f} s, one worker …")
            ours = engine_lateness(room, args.count, args.window)
            console.print(f"(a) bare APScheduler, {args.count} date jobs within {args.window:.0f} s …")
            bare = apscheduler_lateness(args.count, args.window)
            p50, p99, worst = statistics.median(ours), percentile(ours, 0.99), max(ours)
            bare_p50, bare_p99 = statistics.median(bare), percentile(bare, 0.99)
            print(
                f"(a) engine lateness   p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  max {worst:7.2f} ms  "
                f"({len(ours)} deliveries)"
            )
            print(
                f"    bare APScheduler  p50 {bare_p50:7.2f} ms  p99 {bare_p99:7.2f} ms  max {max(bare):7.2f} ms  "
                f"(engine p99 = {p99 / bare_p99:.1f}x bare; target p99 <= 50 ms)"
            )
            result.update(
                p50_ms=f"{p50:.2f}",
                p99_ms=f"{p99:.2f}",
                max_ms=f"{worst:.2f}",
                apscheduler_p99_ms=f"{bare_p99:.2f}",
            )
        if "busy" in parts:
            console.print("(a) again, with one core kept busy by a CPU-bound process …")
            with BusyCore():
                busy = engine_lateness(room, args.count, args.window)
            busy_p99 = percentile(busy, 0.99)
            print(
                f"(a) one core busy     p50 {statistics.median(busy):7.2f} ms  p99 {busy_p99:7.2f} ms  "
                f"max {max(busy):7.2f} ms  (target p99 <= 50 ms)"
            )
            result["p99_busy_ms"] = f"{busy_p99:.2f}"

        if "b" in parts:
            console.print(f"(b) a worker starting against {args.scheduled} scheduled deliveries …")
            later = datetime.now(UTC) + timedelta(days=1)
            bulk_schedule(room, "sink", [later + timedelta(seconds=n) for n in range(args.scheduled)], "far")
            child = subprocess.run(
                [sys.executable, "-c", CHILD_STARTUP, str(root)],
                capture_output=True,
                text=True,
                env={**os.environ, "PUBLISHER_DATABASE_URL": url},
                check=True,
            )
            startup = json.loads(child.stdout.strip().splitlines()[-1])
            with room.engine.begin() as conn:  # park them so (c) measures only its own deliveries
                conn.execute(text("UPDATE delivery SET status = 'canceled' WHERE status = 'scheduled'"))
            print(
                f"(b) start-up with {args.scheduled} scheduled: {startup['startup_s']:.2f} s, "
                f"RSS {startup['rss_mb']:.0f} MB (target <= 100 MB)"
            )
            result.update(
                rss_100k_mb=f"{startup['rss_mb']:.0f}", startup_100k_s=f"{startup['startup_s']:.2f}"
            )

        if "c" in parts:
            n = args.throughput_count
            console.print(f"(c) {n} due at once: 1 worker on PostgreSQL, on SQLite, then 3 on PostgreSQL …")
            pg_1 = throughput(room, url, sink, 1, n)
            lite_url = f"sqlite:///{temp / 'bench.db'}"
            lite = make_newsroom(temp / "sqlite-newsroom", lite_url, sink.url)
            os.environ["PUBLISHER_DATABASE_URL"] = url
            lite_1 = throughput(lite, lite_url, sink, 1, n)
            pg_3 = throughput(room, url, sink, 3, n)
            duplicates = sum(k - 1 for k in sink.keys.values())
            done = 0
            for each in (room, lite):
                with Session(each.engine) as session:
                    done += session.execute(
                        select(func.count()).where(
                            col(Delivery.status) == "done", col(Delivery.channel) == "sink"
                        )
                    ).scalar_one()
            lite.close()
            print(
                f"(c) one worker: PostgreSQL {pg_1.per_s:.0f}/s ({pg_1.cpu_ms:.2f} ms CPU per delivery), "
                f"SQLite {lite_1.per_s:.0f}/s ({lite_1.cpu_ms:.2f} ms); 3 workers on PostgreSQL "
                f"{pg_3.per_s:.0f}/s ({pg_3.per_s / pg_1.per_s:.2f}x); {done} done, duplicates {duplicates} "
                f"(target >= 1000/s each)"
            )
            print(
                f"    from launch: start-up {pg_1.start_s:.2f} s / {lite_1.start_s:.2f} s, then "
                f"PostgreSQL {pg_1.wall_per_s:.0f}/s ({pg_1.cpu_ms_total:.2f} ms CPU per delivery), "
                f"SQLite {lite_1.wall_per_s:.0f}/s ({lite_1.cpu_ms_total:.2f} ms)"
            )
            result.update(
                per_s_1w_pg=f"{pg_1.per_s:.0f}",
                per_s_1w_sqlite=f"{lite_1.per_s:.0f}",
                per_s_3w=f"{pg_3.per_s:.0f}",
                cpu_ms_1w_pg=f"{pg_1.cpu_ms:.2f}",
                cpu_ms_1w_sqlite=f"{lite_1.cpu_ms:.2f}",
                start_1w_pg_s=f"{pg_1.start_s:.2f}",
                start_1w_sqlite_s=f"{lite_1.start_s:.2f}",
                wall_per_s_1w_pg=f"{pg_1.wall_per_s:.0f}",
                wall_per_s_1w_sqlite=f"{lite_1.wall_per_s:.0f}",
                cpu_ms_total_1w_pg=f"{pg_1.cpu_ms_total:.2f}",
                cpu_ms_total_1w_sqlite=f"{lite_1.cpu_ms_total:.2f}",
                duplicates=str(duplicates),
            )
        room.close()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
        shutil.rmtree(temp, ignore_errors=True)

    print("RESULT " + " ".join(f"{k}={v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
