"""Consultation benchmark: a loopback load of comments against `publisher serve` on PostgreSQL.

    .venv/bin/python bench/consultation.py [--comments 6000] [--clients 2] [--threads 16]
                                           [--database-url URL] [--keep]

A fresh newsroom (the demo's settings and its 征求意见 draft, window moved around today) on a fresh
PostgreSQL schema, dropped afterwards. `publisher serve` runs as its own process, as in production.
`--clients` processes with `--threads` threads each send JSON comments over keep-alive
connections of the standard library's http.client (cheap, so that the clients, on the same cores,
leave the CPU to the server; their CPU per request is reported too): a share
are one campaign text with small edits (near-duplicates to group), a share are sent twice with
one submission key at the same time (double clicks). The baseline, measured in the same run with
the same clients, is GET /healthz (the framework's floor). Afterwards the store is read back:
lost = acknowledged but not stored; duplicates = one submission key stored more than once, or
a double submission answered with two receipts. Ends with one `RESULT key=value ...` line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import create_engine, text
from sqlmodel import select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from publisher.consultation.register import Live, register_live  # noqa: E402
from publisher.ingest import ingest  # noqa: E402
from publisher.newsroom import Newsroom  # noqa: E402
from publisher.store.engine import read_session  # noqa: E402
from publisher.store.tables import Article, Revision  # noqa: E402

PG_URL = os.environ.get("PUBLISHER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SLUG = "property-management-draft-comments"
CAMPAIGN = (
    "强烈建议降低首次业主大会筹备门槛，已交付面积达到百分之三十即可申请成立筹备组，让业主早日当家作主。"
)
TOPICS = ["电梯维修", "公共收益", "物业交接", "停车位", "垃圾分类", "二次供水", "消防通道", "业委会选举"]


def newsroom(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copy(REPO / "publisher.toml", root / "publisher.toml")
    for folder in ("channels", "review", "schedules"):
        shutil.copytree(REPO / folder, root / folder)
    draft = REPO / "content" / "legislation" / f"{SLUG}.md"
    target = root / "content" / "legislation"
    shutil.copytree(draft.parent / "images", target / "images")
    today = datetime.now(UTC).date()
    text_ = draft.read_text(encoding="utf-8")
    text_ = text_.replace("opens: 2026-11-02T09:00:00+08:00", f"opens: {today - timedelta(days=1)}")
    text_ = text_.replace("closes: 2026-12-01", f"closes: {today + timedelta(days=30)}")
    (target / draft.name).write_text(text_, encoding="utf-8")
    toml = root / "publisher.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8")
        .replace("per_address_per_hour = 30", "per_address_per_hour = 100000000")
        .replace("per_contact_per_day = 20", "per_contact_per_day = 100000000"),
        encoding="utf-8",
    )
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def plan(n: int, seed: int) -> list[list[dict[str, Any]]]:
    """Requests in order; a double submission is one list of two identical requests."""
    rng = random.Random(seed)
    out: list[list[dict[str, Any]]] = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.3:
            body = CAMPAIGN.replace("强烈", rng.choice(["强烈", "", "我们", "恳请"])) + rng.choice(
                ["", "！", "谢谢。"]
            )
        else:
            body = f"关于{rng.choice(TOPICS)}的意见（{i}）：建议第{rng.randint(1, 68)}条增加具体的时限和责任主体，{uuid.uuid4().hex[:8]}。"
        comment = {
            "body": body,
            "contact": f"139{i:08d}",
            "consent": True,
            "clause": rng.choice(["", "1", "12", "25", "38", "46", "56"]),
            "commenter_type": rng.choice(["individual", "organisation", "deputy", "outreach_point"]),
            "submission_key": uuid.uuid4().hex,
        }
        out.append([comment, comment] if roll > 0.9 else [comment])
    return out


class _Conn:
    """One keep-alive HTTP/1.1 connection with the standard library's client: far less CPU per
    request than httpx, so the clients (on the same cores) leave the CPU to the server measured."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                reply = self.conn.getresponse()
                return reply.status, reply.read()
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()  # the server closed a kept-alive connection: once more, afresh
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


def client(base: str, path: str, jobs: list[list[dict[str, Any]]], threads: int, queue: Any) -> None:
    """One client process: `threads` threads with keep-alive connections; a double submission is
    sent by two threads at once. Reports its results and its own CPU time."""
    lock = threading.Lock()
    cursor = [0]
    results: list[tuple[float, int, str, str]] = []  # latency ms, status, key, receipt

    def one(http: _Conn, payload: dict[str, Any] | None) -> None:
        started = time.perf_counter()
        if payload is None:
            status, _ = http.request("GET", path, None, {})
            results.append(((time.perf_counter() - started) * 1000, status, "", ""))
            return
        status, data = http.request("POST", path, json.dumps(payload).encode(), JSON_HEADERS)
        receipt = json.loads(data).get("receipt", "") if status in (200, 201) else ""
        results.append(((time.perf_counter() - started) * 1000, status, payload["submission_key"], receipt))

    def worker() -> None:
        http, twin = _Conn(base), _Conn(base)
        try:
            while True:
                with lock:
                    if cursor[0] >= len(jobs):
                        return
                    job = jobs[cursor[0]]
                    cursor[0] += 1
                if not job:
                    one(http, None)
                elif len(job) == 1:
                    one(http, job[0])
                else:
                    second = threading.Thread(target=one, args=(twin, job[1]))
                    second.start()
                    one(http, job[0])
                    second.join()
        finally:
            http.close()
            twin.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    queue.put((results, time.process_time()))


def load(
    base: str, path: str, jobs: list[list[dict[str, Any]]], clients: int, threads: int
) -> tuple[float, list[Any], float]:
    """Elapsed seconds, every request's result, and the client processes' CPU seconds."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    shares = [jobs[i::clients] for i in range(clients)]
    procs = [ctx.Process(target=client, args=(base, path, share, threads, queue)) for share in shares]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results: list[Any] = []
    client_cpu = 0.0
    for _ in procs:
        share_results, cpu = queue.get()
        results.extend(share_results)
        client_cpu += cpu
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    return elapsed, results, client_cpu


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), whatever else the machine runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.99 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--database-url", default=PG_URL)
    parser.add_argument(
        "--shared-database", action="store_true", help="a schema in --database-url's database, not a database"
    )
    parser.add_argument("--keep", action="store_true", help="keep the newsroom folder and the schema")
    args = parser.parse_args()

    schema = f"bench_consult_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    if args.shared_database:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = f"{args.database_url}?options=-csearch_path%3D{schema}"
    else:
        # A database of its own: the audit chain's advisory lock is database-wide, and other
        # schemas' tests on a shared database would be measured waiting for it.
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {schema}"))
        url = args.database_url.rsplit("/", 1)[0] + f"/{schema}"
    folder = Path(tempfile.mkdtemp(prefix="bench-consultation-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        root = newsroom(folder / "newsroom")
        os.environ["PUBLISHER_DATABASE_URL"] = url
        room = Newsroom(root)
        assert ingest(room).ok
        with read_session(room.engine) as session:
            revision = session.exec(
                select(Revision).join(Article, Article.id == Revision.article_id).where(Article.slug == SLUG)  # type: ignore[arg-type]
            ).one()
        live = Live(SLUG, revision.id, revision.title, json.loads(revision.meta_json))
        register_live(room.engine, [live], room.settings.tz, datetime.now(UTC))
        port = free_port()
        env = {**os.environ, "PUBLISHER_DATABASE_URL": url}
        server = subprocess.Popen(
            [sys.executable, "-m", "publisher", "serve", "--port", str(port), "--newsroom", str(root)],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise SystemExit("publisher serve did not start")
            time.sleep(0.1)

        path = f"/consultations/{SLUG}/comments"
        # Warm-up: the first request loads the review lists and the consultation.
        load(base, path, plan(50, 1), 1, 2)
        jobs = plan(args.comments, 2)
        assert server is not None
        cpu0 = cpu_seconds(server.pid)
        baseline_s, baseline, base_client_cpu = load(
            base, "/healthz", [[] for _ in range(args.comments)], args.clients, args.threads
        )
        cpu1 = cpu_seconds(server.pid)
        elapsed, results, client_cpu = load(base, path, jobs, args.clients, args.threads)
        cpu2 = cpu_seconds(server.pid)

        acknowledged = [r for r in results if r[1] in (200, 201)]
        errors = [r for r in results if r[1] not in (200, 201)]
        receipts_by_key: dict[str, set[str]] = {}
        for _, _, key, receipt in acknowledged:
            receipts_by_key.setdefault(key, set()).add(receipt)
        with read_session(room.engine) as session:
            stored = dict(
                session.execute(
                    text("SELECT submission_key, count(*) FROM consultation_comment GROUP BY submission_key")
                ).all()
            )
            groups = session.execute(
                text("SELECT count(DISTINCT group_id), count(*) FROM consultation_comment")
            ).one()
        lost = sum(1 for key in receipts_by_key if key not in stored)
        duplicates = sum(1 for n in stored.values() if n > 1) + sum(
            1 for r in receipts_by_key.values() if len(r) > 1
        )
        rate = len(acknowledged) / elapsed
        base_rate = args.comments / baseline_s
        lat = [r[0] for r in acknowledged]
        base_lat = [r[0] for r in baseline]
        load_avg = os.getloadavg()
        print(
            f"machine load (1/5/15 min): {load_avg[0]:.1f} {load_avg[1]:.1f} {load_avg[2]:.1f} on {os.cpu_count()} cores"
        )
        print(
            f"comments: {len(results)} requests, {len(acknowledged)} acknowledged, {len(errors)} errors in {elapsed:.1f} s"
        )
        print(
            f"stored: {groups[1]} comments in {groups[0]} groups; double submissions: {sum(1 for j in jobs if len(j) == 2)}"
        )
        print(f"accepted/s {rate:.0f}   p50 {statistics.median(lat):.1f} ms   p99 {p99(lat):.1f} ms")
        print(
            f"baseline GET /healthz/s {base_rate:.0f}   p50 {statistics.median(base_lat):.1f} ms   p99 {p99(base_lat):.1f} ms"
        )
        print(f"ratio accepted/baseline {rate / base_rate:.2f}")
        # The server's own CPU per request: what a quiet machine's rate depends on, less disturbed
        # by the load others put on the machine than wall-clock rates are.
        cpu_ms = (cpu2 - cpu1) * 1000 / max(1, len(results))
        base_cpu_ms = (cpu1 - cpu0) * 1000 / max(1, len(baseline))
        print(
            f"serve CPU per comment {cpu_ms:.2f} ms, per /healthz {base_cpu_ms:.2f} ms (PostgreSQL not counted)"
        )
        client_ms = client_cpu * 1000 / max(1, len(results))
        base_client_ms = base_client_cpu * 1000 / max(1, len(baseline))
        print(
            f"client CPU per comment {client_ms:.2f} ms, per /healthz {base_client_ms:.2f} ms (all client processes)"
        )
        print(
            f"RESULT accepted_per_s={rate:.0f} p99_ms={p99(lat):.1f} lost={lost} duplicates={duplicates} "
            f"errors={len(errors)} baseline_per_s={base_rate:.0f} ratio={rate / base_rate:.2f} cpu_ms={cpu_ms:.2f} "
            f"client_cpu_ms={client_ms:.2f}"
        )
        room.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
            with admin.connect() as conn:
                if args.shared_database:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                else:
                    conn.execute(text(f"DROP DATABASE {schema} WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    main()
