"""Local doubles of the outward notice channels: a real SMTP server (aiosmtpd) and a group robot
webhook receiver on 127.0.0.1 that checks DingTalk's signature as DingTalk does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tests.http_thread import serve_in_thread

SIGN_WINDOW_MS = 3600 * 1000  # DingTalk refuses a timestamp more than an hour off


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        self.raw.append(data)
        parsed = message_from_bytes(data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def _login(username: str, password: str) -> Any:
    def authenticator(
        server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            username.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return authenticator


@contextmanager
def smtp_server(login: tuple[str, str] | None = None) -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1; with `login`, one that requires that user and password
    (over plain text: the test has no certificate, so STARTTLS itself is not exercised)."""
    mailbox = Mailbox()
    port = free_port()
    auth: dict[str, Any] = {}
    if login is not None:
        auth = {"authenticator": _login(*login), "auth_required": True, "auth_require_tls": False}
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **auth)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


class Robot:
    """A WeCom / DingTalk group robot: records each post; answers `script` first (HTTP status,
    errcode), then success. With `secret`, a post without a valid DingTalk signature is refused."""

    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret
        self.posts: list[dict[str, Any]] = []
        self.queries: list[dict[str, list[str]]] = []
        self.refused_signatures = 0
        self.script: list[tuple[int, int]] = []
        self.lock = threading.Lock()
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                query = parse_qs(urlsplit(self.path).query)
                with robot.lock:
                    status, errcode = robot.script.pop(0) if robot.script else (200, 0)
                    if robot.secret is not None and not robot.signed(query):
                        robot.refused_signatures += 1
                        status, errcode = 200, 310000  # DingTalk: sign not match
                    if status == 200 and errcode == 0:
                        robot.posts.append(body)
                        robot.queries.append(query)
                payload = json.dumps(
                    {"errcode": errcode, "errmsg": "ok" if errcode == 0 else "refused"}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?access_token=abc"

    def signed(self, query: dict[str, list[str]]) -> bool:
        assert self.secret is not None
        try:
            [timestamp], [sign] = query["timestamp"], query["sign"]
        except (KeyError, ValueError):
            return False
        if abs(int(timestamp) - time.time() * 1000) > SIGN_WINDOW_MS:
            return False
        digest = hmac.new(
            self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256
        ).digest()
        # parse_qs has already URL-decoded `sign`.
        return hmac.compare_digest(sign, base64.b64encode(digest).decode())

    def __enter__(self) -> Robot:
        self.thread = serve_in_thread(self.server)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
