"""A loopback HTTP sink that records deliveries by Idempotency-Key, with failures on demand."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.http_thread import serve_in_thread


class Sink:
    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()  # every POST, by key: duplicates show as counts > 1
        self.bodies: dict[str, dict[str, Any]] = {}
        self.received_at: dict[str, float] = {}
        self.script: list[tuple[int, dict[str, str]]] = []  # responses to give before succeeding
        self.delay = 0.0
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self) -> None:
                super().setup()
                # Without it a small reply waits on the client's delayed ACK (Nagle's algorithm).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                key = self.headers.get("Idempotency-Key", "")
                with sink.lock:
                    scripted = sink.script.pop(0) if sink.script else None
                    if scripted is None:
                        sink.keys[key] += 1
                        sink.bodies.setdefault(key, body)
                        sink.received_at.setdefault(key, time.time())
                if sink.delay:
                    time.sleep(sink.delay)
                status, headers = scripted if scripted else (200, {})
                payload = json.dumps({"id": f"r-{key[-8:]}", "url": f"http://127.0.0.1/{key}"}).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/deliver"

    def __enter__(self) -> Sink:
        self.thread = serve_in_thread(self.server)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def distinct(self) -> int:
        return len(self.keys)

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.keys.values())
