"""An HTTP endpoint as kept-alive connections: the partner pushes and the sink channel's webhook.

A push is one POST of bytes we already hold, with no redirects, cookies or retries of the client's
own (whether and when to send again is the engine's decision, under the Idempotency-Key). So the
request is written here (a request line and a few headers) and the answer is read by httptools
(llhttp, the parser Node.js and uvicorn use): a push through the standard library's `http.client`
cost about 250 µs of CPU here, most of it parsing the answer's headers with the e-mail parser, and
this about 80 µs (urllib3 cost 0.70 ms and httpx 1.4 ms; h11 the same as `http.client`). The push
was the largest part of a delivery's cost.

How a failure is classified decides whether the engine may send again at once:

    could not connect (refused, no route, name, TLS)  Transient  网络错误 / transport
    no connection within the timeout                  Transient  连接超时 / connect timeout
    sent, no answer within the timeout                Unknown    超时 / timeout (may have acted)
    anything else on the wire                         Transient  网络错误 / transport
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

from publisher.delivery.contract import Transient, Unknown

__all__ = ["Answer", "PushLine", "tls"]

_TLS_LOCK = threading.Lock()
_TLS: ssl.SSLContext | None = None
_READ = 65536
# A header's name is a token and its value holds no line break: anything else would let a value
# from a channel's settings write headers (or a request) of its own.
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BREAK = re.compile(r"[\r\n\0]")


def tls() -> ssl.SSLContext:
    """One TLS context (with the CA bundle loaded once, ~15 ms) shared by every partner."""
    global _TLS
    with _TLS_LOCK:
        if _TLS is None:
            _TLS = ssl.create_default_context()
        return _TLS


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    retry_after: str | None
    body: bytes


class _Closed(ConnectionError):
    """The other side closed the connection before a byte of its answer arrived."""


# Kept open after use by a kept-alive answer's side: a stale one (closed by the partner while idle)
# fails at its next request with one of these before anything reached the partner.
_STALE = (_Closed, ConnectionResetError, BrokenPipeError)


class _Reply:
    """httptools' callbacks for one answer: the parts a push reads, and whether it is complete."""

    __slots__ = ("chunks", "complete", "headers_done", "keep_alive", "parser", "retry_after", "sized")

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.chunks: list[bytes] = []
        self.retry_after: str | None = None
        self.headers_done = False
        self.sized = False  # a length or chunks: the body's end is in the stream, not at its close
        self.complete = False
        self.keep_alive = False  # read as the answer completes: the parser forgets it after

    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered == b"retry-after":
            self.retry_after = value.decode("latin-1").strip()
        elif lowered in (b"content-length", b"transfer-encoding"):
            self.sized = True

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.parser.get_status_code() < 200:  # an interim answer (103 Early Hints): the real one follows
            self.chunks.clear()
            self.retry_after, self.headers_done, self.sized = None, False, False
            return
        self.keep_alive = self.parser.should_keep_alive()
        self.complete = True


class PushLine:
    """Kept-alive connections to one endpoint, each used by one push at a time. At most `keep`
    stay open between pushes; the caller bounds how many pushes run at once."""

    def __init__(self, url: str, timeout: float, keep: int = 1) -> None:
        parts = urlsplit(url)
        self._secure = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if self._secure else 80)
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default_port = parts.port is None or parts.port == (443 if self._secure else 80)
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._host_header = host if default_port else f"{host}:{self._port}"
        self._timeout = timeout
        self._keep = keep
        self._idle: list[socket.socket] = []
        self._lock = threading.Lock()

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        """One POST and its whole answer, or the classified error (see the module docstring)."""
        request = self._request(body, headers)
        connection = self._take()
        reused = connection is not None
        while True:
            if connection is None:
                connection = self._connect()
            try:
                reply = self._exchange(connection, request)
            except _STALE as exc:
                connection.close()
                connection = None
                if reused:
                    # Closed by the partner while it sat idle: the request never reached it. Once
                    # more on a new connection (the same key, should it have arrived after all).
                    reused = False
                    continue
                raise Transient(f"网络错误 / transport: {type(exc).__name__}: {exc}") from None
            except TimeoutError as exc:
                connection.close()
                # Sent, but no answer: the partner may have taken it. The key makes the retry safe.
                raise Unknown(f"超时 / timeout: {exc}") from None
            except (OSError, httptools.HttpParserError) as exc:
                connection.close()
                raise Transient(f"网络错误 / transport: {type(exc).__name__}: {exc}") from None
            except BaseException:
                connection.close()
                raise
            if reply.keep_alive:
                self._give_back(connection)
            else:
                connection.close()
            return Answer(reply.parser.get_status_code(), reply.retry_after, b"".join(reply.chunks))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _request(self, body: bytes, headers: dict[str, str]) -> bytes:
        lines = [
            f"POST {self.target} HTTP/1.1",
            f"Host: {self._host_header}",
            "Accept-Encoding: identity",
            f"Content-Length: {len(body)}",
        ]
        for name, value in headers.items():
            if not _NAME.fullmatch(name) or _BREAK.search(value):
                raise ValueError(f"请求头无效 / invalid request header: {name!r}")
            lines.append(f"{name}: {value}")
        lines.append("\r\n")
        return "\r\n".join(lines).encode("latin-1") + body

    @staticmethod
    def _exchange(connection: socket.socket, request: bytes) -> _Reply:
        connection.sendall(request)
        reply = _Reply()
        received = False
        while not reply.complete:
            data = connection.recv(_READ)
            if not data:
                if not received:
                    raise _Closed("对方关闭了连接 / the other side closed the connection")
                if reply.headers_done and not reply.sized:
                    break  # a body that ends where the connection does
                raise ConnectionError("应答不完整 / the answer ended early")
            received = True
            reply.parser.feed_data(data)
        return reply

    def _take(self) -> socket.socket | None:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return None

    def _give_back(self, connection: socket.socket) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(connection)
                return
        connection.close()

    def _connect(self) -> socket.socket:
        try:
            connection = socket.create_connection((self._host, self._port), timeout=self._timeout)
        except TimeoutError as exc:
            raise Transient(f"连接超时 / connect timeout: {exc}") from None
        except OSError as exc:  # refused, unreachable, no such name
            raise Transient(f"网络错误 / transport: {type(exc).__name__}: {exc}") from None
        try:
            # A request goes out as one write: without this, its last segment waits for the ack.
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._secure:
                connection = tls().wrap_socket(connection, server_hostname=self._host)
        except TimeoutError as exc:
            connection.close()
            raise Transient(f"连接超时 / connect timeout: {exc}") from None
        except OSError as exc:  # a TLS handshake refused
            connection.close()
            raise Transient(f"网络错误 / transport: {type(exc).__name__}: {exc}") from None
        return connection
