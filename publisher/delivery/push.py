"""An HTTP endpoint as kept-alive connections of the standard library's `http.client`: the partner
pushes and the sink channel's webhook.

A push is one POST of bytes we already hold, with no redirects, cookies or retries of the client's
own (whether and when to send again is the engine's decision, under the Idempotency-Key). urllib3
cost 0.70 ms of CPU per push here against 0.41 ms for a plain `http.client` keep-alive connection
(httpx 1.4 ms), and the push was the largest part of a delivery's cost.

How a failure is classified decides whether the engine may send again at once:

    could not connect (refused, no route, name, TLS)  Transient  网络错误 / transport
    no connection within the timeout                  Transient  连接超时 / connect timeout
    sent, no answer within the timeout                Unknown    超时 / timeout (may have acted)
    anything else on the wire                         Transient  网络错误 / transport
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException, HTTPSConnection, RemoteDisconnected
from urllib.parse import urlsplit

from publisher.delivery.contract import Transient, Unknown

__all__ = ["Answer", "PushLine", "tls"]

_TLS_LOCK = threading.Lock()
_TLS: ssl.SSLContext | None = None


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


# Kept open after use by a kept-alive reply's side: a stale one (closed by the partner while idle)
# fails at its next request with one of these before anything reached the partner.
_STALE = (RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class PushLine:
    """Kept-alive connections to one endpoint, each used by one push at a time. At most `keep`
    stay open between pushes; the caller bounds how many pushes run at once."""

    def __init__(self, url: str, timeout: float, keep: int = 1) -> None:
        parts = urlsplit(url)
        self._secure = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._timeout = timeout
        self._keep = keep
        self._idle: list[HTTPConnection] = []
        self._lock = threading.Lock()

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        """One POST and its whole answer, or the classified error (see the module docstring)."""
        connection = self._take()
        reused = connection.sock is not None
        while True:
            if connection.sock is None:
                self._connect(connection)
            try:
                connection.request("POST", self.target, body=body, headers=headers)
                response = connection.getresponse()
                content = response.read()
            except _STALE as exc:
                connection.close()
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
            except (OSError, HTTPException) as exc:
                connection.close()
                raise Transient(f"网络错误 / transport: {type(exc).__name__}: {exc}") from None
            except BaseException:
                connection.close()
                raise
            if response.will_close:
                connection.close()
            else:
                self._give_back(connection)
            return Answer(response.status, response.getheader("Retry-After"), content)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _take(self) -> HTTPConnection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        if self._secure:
            return HTTPSConnection(self._host, self._port, timeout=self._timeout, context=tls())
        return HTTPConnection(self._host, self._port, timeout=self._timeout)

    def _give_back(self, connection: HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(connection)
                return
        connection.close()

    @staticmethod
    def _connect(connection: HTTPConnection) -> None:
        try:
            connection.connect()
        except TimeoutError as exc:
            connection.close()
            raise Transient(f"连接超时 / connect timeout: {exc}") from None
        except OSError as exc:  # refused, unreachable, no such name, a TLS handshake refused
            connection.close()
            raise Transient(f"网络错误 / transport: {type(exc).__name__}: {exc}") from None
