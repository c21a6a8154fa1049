"""A partner's kept-alive connections (delivery/push.py): failures keep the classification the engine
decides on (may it send again at once?), and a connection the partner dropped costs no push."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from publisher.delivery.contract import Transient, Unknown
from publisher.delivery.push import PushLine
from tests.http_thread import serve_in_thread


class _Partner(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept alive unless the handler says otherwise
    connections: ClassVar[set[int]] = set()
    delay = 0.0
    drop_after_reply = False

    def do_POST(self) -> None:
        self.connections.add(self.client_address[1])
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(self.delay)
        reply = b'{"id": "p-1"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
        # Closed without a word (no `Connection: close`), as a partner's idle timeout does.
        self.close_connection = self.drop_after_reply

    def log_message(self, *_: object) -> None:
        pass


def _serve(delay: float = 0.0, drop_after_reply: bool = False) -> Iterator[tuple[str, set[int]]]:
    class Handler(_Partner):
        connections: ClassVar[set[int]] = set()

    Handler.delay, Handler.drop_after_reply = delay, drop_after_reply
    handler = Handler
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    serve_in_thread(server)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/ingest", handler.connections
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def partner() -> Iterator[tuple[str, set[int]]]:
    yield from _serve()


@pytest.fixture
def dropping_partner() -> Iterator[tuple[str, set[int]]]:
    yield from _serve(drop_after_reply=True)


@pytest.fixture
def slow_partner() -> Iterator[tuple[str, set[int]]]:
    yield from _serve(delay=1.0)


HEADERS = {"Content-Type": "application/json", "Idempotency-Key": "k-1"}


def test_pushes_to_a_partner_share_one_kept_alive_connection(partner: tuple[str, set[int]]) -> None:
    url, connections = partner
    line = PushLine(url, timeout=5)
    answers = [line.post(b"{}", HEADERS) for _ in range(3)]
    line.close()
    assert [(a.status, a.body) for a in answers] == [(200, b'{"id": "p-1"}')] * 3
    assert len(connections) == 1


def test_a_connection_the_partner_dropped_while_idle_costs_no_push(
    dropping_partner: tuple[str, set[int]],
) -> None:
    url, connections = dropping_partner
    line = PushLine(url, timeout=5)
    first = line.post(b"{}", HEADERS)
    time.sleep(0.1)  # the partner has closed its end by now
    second = line.post(b"{}", HEADERS)
    line.close()
    assert first.status == second.status == 200
    assert len(connections) == 2


def test_a_partner_that_refuses_the_connection_is_a_transient_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = PushLine(f"http://127.0.0.1:{port}/ingest", timeout=2)
    with pytest.raises(Transient, match="网络错误 / transport") as caught:
        line.post(b"{}", HEADERS)
    assert not isinstance(caught.value, Unknown)


def test_a_push_sent_but_not_answered_in_time_has_an_unknown_outcome(
    slow_partner: tuple[str, set[int]],
) -> None:
    url, _ = slow_partner
    line = PushLine(url, timeout=0.2)
    with pytest.raises(Unknown, match="超时 / timeout"):
        line.post(b"{}", HEADERS)
    line.close()
