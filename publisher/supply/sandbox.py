"""`publisher sandbox partner`: a partner's receiving end on 127.0.0.1, for demos, tests and benches.

It does what a careful partner does: verifies the HMAC signature and the timestamp, rejects a
replayed request, dedupes by Idempotency-Key (a duplicate gets the first reply id and is not
counted again), and can be told to fail: 503, 429 with Retry-After, 400 with a reason, or a slow
reply that runs into the sender's timeout.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from publisher.supply import signing

FAIL_SPEC = re.compile(r"^(?P<what>\d{3}|slow)(?::(?P<arg>[^x]*))?(?:x(?P<times>\d+))?$")


@dataclass(frozen=True, slots=True)
class Failure:
    status: int  # 0: a slow reply, then the normal answer
    retry_after: str | None = None
    reason: str = ""
    delay: float = 0.0


def parse_failures(spec: str) -> list[Failure]:
    """`503`, `503x3`, `429:2` (Retry-After 2 s), `400:标题过长`, `slow:3` (3 s before answering)."""
    match = FAIL_SPEC.match(spec.strip())
    if not match:
        raise ValueError(
            f"无法识别的故障 / not a failure spec: {spec!r} (e.g. 503x2, 429:5, 400:原因, slow:3)"
        )
    what, arg, times = match["what"], match["arg"], int(match["times"] or 1)
    if what == "slow":
        failure = Failure(0, delay=float(arg or 5))
    elif what == "429":
        failure = Failure(429, retry_after=arg or "1", reason="请求过于频繁 / too many requests")
    else:
        status = int(what)
        failure = Failure(status, reason=arg or f"模拟故障 / injected HTTP {status}")
    return [failure] * times


@dataclass
class Received:
    id: str
    key: str
    at: float
    package: dict[str, Any]
    repeats: int = 0  # duplicates answered with the first id


@dataclass
class SandboxPartner:
    secret: str
    port: int = 0
    window: float = 300
    prefix: str = "sbx"
    on_receive: Callable[[Received], None] | None = None
    received: dict[str, Received] = field(default_factory=dict)  # by Idempotency-Key, in order
    rejected: list[str] = field(default_factory=list)
    posts: int = 0

    def __post_init__(self) -> None:
        self.failures: deque[Failure] = deque()
        self.lock = threading.Lock()
        self.guard = signing.ReplayGuard(self.window)
        self.server = _Server(("127.0.0.1", self.port), _handler(self))
        self.port = self.server.server_address[1]
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ingest"

    @property
    def duplicates(self) -> int:
        return sum(r.repeats for r in self.received.values())

    def fail(self, *specs: str) -> None:
        with self.lock:
            for spec in specs:
                self.failures.extend(parse_failures(spec))

    def reset(self) -> None:
        """Forget everything received (benchmarks run several rounds against one receiver)."""
        with self.lock:
            self.received.clear()
            self.rejected.clear()
            self.failures.clear()
            self.posts = 0
            self.guard = signing.ReplayGuard(self.window)

    def start(self) -> SandboxPartner:
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> SandboxPartner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def by_uri(self, uri: str) -> list[dict[str, Any]]:
        """Every package received for one article, in arrival order (versions, kill notices)."""
        return [r.package for r in self.received.values() if r.package.get("uri") == uri]

    # -- one request ----------------------------------------------------------------------------------
    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self.lock:
            self.posts += 1
        try:
            signing.verify(self.secret, headers, body, window=self.window, guard=self.guard)
        except signing.SignatureError as exc:
            with self.lock:
                self.rejected.append(str(exc))
            return 401, {}, {"reason": str(exc)}
        with self.lock:
            failure = self.failures.popleft() if self.failures else None
        if failure is not None and failure.status != 0:
            extra = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            return failure.status, extra, {"reason": failure.reason}
        answer = self._take(headers, body)
        if failure is not None:
            # Slow: the item is taken, but the answer may come after the sender stopped waiting.
            time.sleep(failure.delay)
        return answer

    def _take(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
        key = next((v for k, v in headers.items() if k.lower() == "idempotency-key"), "")
        if not key:
            return 400, {}, {"reason": "缺少 Idempotency-Key / missing Idempotency-Key"}
        try:
            package = json.loads(body)
        except ValueError:
            return 400, {}, {"reason": "请求体不是 JSON / body is not JSON"}
        with self.lock:
            seen = self.received.get(key)
            if seen is not None:
                seen.repeats += 1
                return 200, {}, {"id": seen.id, "duplicate": True}
            item = Received(f"{self.prefix}-{len(self.received) + 1:06d}", key, time.time(), package)
            self.received[key] = item
        if self.on_receive is not None:
            self.on_receive(item)
        return 200, {}, {"id": item.id, "status": "accepted"}

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "posts": self.posts,
                "accepted": len(self.received),
                "duplicates": self.duplicates,
                "rejected": list(self.rejected),
                "items": [
                    {
                        "id": r.id,
                        "key": r.key,
                        "uri": r.package.get("uri"),
                        "version": r.package.get("version"),
                        "pubstatus": r.package.get("pubstatus"),
                        "headline": r.package.get("headline"),
                        "ednote": r.package.get("ednote"),
                        "embargoed": r.package.get("embargoed"),
                        "repeats": r.repeats,
                    }
                    for r in self.received.values()
                ],
            }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many senders at once must queue, not be reset


def _handler(sandbox: SandboxPartner) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real partner's server would offer
        # Headers and body leave in separate writes: without this, Nagle's algorithm and delayed
        # ACKs hold every keep-alive reply for 40 ms.
        disable_nagle_algorithm = True

        def _reply(self, status: int, headers: dict[str, str], data: dict[str, Any]) -> None:
            payload = json.dumps(data, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.path.startswith("/_control/reset"):
                sandbox.reset()
                self._reply(200, {}, {"reset": True})
                return
            if self.path.startswith("/_control/fail"):
                try:
                    sandbox.fail(*json.loads(body or b"{}").get("specs", []))
                except ValueError as exc:
                    self._reply(400, {}, {"reason": str(exc)})
                    return
                self._reply(200, {}, {"queued": len(sandbox.failures)})
                return
            status, headers, data = sandbox.handle(dict(self.headers.items()), body)
            self._reply(status, headers, data)

        def do_GET(self) -> None:
            self._reply(200, {}, sandbox.summary())

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
