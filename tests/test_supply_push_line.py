"""A partner's kept-alive connections (delivery/push.py): failures keep the classification the engine
decides on (may it send again at once?), and a connection the partner dropped costs no push."""

from __future__ import annotations

import re
import socket
import socketserver
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

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


# -- answers written byte by byte: the edges of HTTP/1.1 a partner's server may show -------------


class _Canned(socketserver.BaseRequestHandler):
    """Reads one request (its head and its Content-Length of body) per answer in `answers`, and
    writes that answer's bytes; closes the connection after the last one."""

    answers: ClassVar[list[bytes]] = []
    requests: ClassVar[list[bytes]] = []

    def handle(self) -> None:
        stream = self.request.makefile("rb")
        for answer in self.answers:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = stream.readline()
                if not line:
                    return
                head += line
            length = re.search(rb"Content-Length: (\d+)", head)
            self.requests.append(head + stream.read(int(length.group(1)) if length else 0))
            self.request.sendall(answer)


@pytest.fixture
def canned() -> Iterator[Callable[..., tuple[str, list[bytes]]]]:
    servers: list[socketserver.ThreadingTCPServer] = []

    def serve(*answers: bytes) -> tuple[str, list[bytes]]:
        class Handler(_Canned):
            requests: ClassVar[list[bytes]] = []

        Handler.answers = list(answers)
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        serve_in_thread(server)
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/in?x=1", Handler.requests

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_request_carries_the_target_host_length_and_the_callers_headers(canned: Any) -> None:
    url, requests = canned(b"HTTP/1.1 204 No Content\r\n\r\n")
    answer = PushLine(url, timeout=5).post(b'{"a": 1}', HEADERS)
    assert (answer.status, answer.body, answer.retry_after) == (204, b"", None)
    head, body = requests[0].split(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /in?x=1 HTTP/1.1"
    port = url.split(":")[2].split("/")[0]
    assert {f"Host: 127.0.0.1:{port}", "Content-Length: 8", "Idempotency-Key: k-1"} <= set(lines)
    assert body == b'{"a": 1}'


def test_a_chunked_answer_is_read_whole_and_its_retry_after_kept(canned: Any) -> None:
    url, _ = canned(
        b"HTTP/1.1 503 Busy\r\nRetry-After: 30\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\nwait\r\n6\r\n, busy\r\n0\r\n\r\n"
    )
    answer = PushLine(url, timeout=5).post(b"{}", HEADERS)
    assert (answer.status, answer.retry_after, answer.body) == (503, "30", b"wait, busy")


def test_an_answer_whose_body_ends_where_the_connection_does_is_read_whole(canned: Any) -> None:
    url, requests = canned(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nno length given")
    line = PushLine(url, timeout=5)
    assert line.post(b"{}", HEADERS).body == b"no length given"
    # Not kept: the next push opens a connection of its own (the server answers it as the first).
    assert line.post(b"{}", HEADERS).body == b"no length given"
    assert len(requests) == 2


def test_an_interim_answer_is_passed_over_for_the_real_one(canned: Any) -> None:
    url, _ = canned(
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
        b'HTTP/1.1 201 Created\r\nContent-Length: 9\r\n\r\n{"id": 7}'
    )
    answer = PushLine(url, timeout=5).post(b"{}", HEADERS)
    assert (answer.status, answer.body) == (201, b'{"id": 7}')


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut short",
        b"this is not HTTP at all\r\n\r\n",
        b"",  # closed without a word, on a fresh connection
    ],
    ids=["cut-short", "not-http", "closed"],
)
def test_a_broken_answer_is_a_transient_failure(canned: Any, reply: bytes) -> None:
    url, _ = canned(reply)
    with pytest.raises(Transient, match="网络错误 / transport") as caught:
        PushLine(url, timeout=5).post(b"{}", HEADERS)
    assert not isinstance(caught.value, Unknown)


@pytest.mark.parametrize(
    "headers",
    [{"X-Token": "a\r\nX-Evil: 1"}, {"X-Token": "a\nb"}, {"Bad Name": "v"}, {"X-Token:": "v"}],
)
def test_a_header_that_would_write_headers_of_its_own_is_refused_before_sending(
    canned: Any, headers: dict[str, str]
) -> None:
    url, requests = canned(b"HTTP/1.1 204 No Content\r\n\r\n")
    with pytest.raises(ValueError, match="invalid request header"):
        PushLine(url, timeout=5).post(b"{}", headers)
    assert requests == []
