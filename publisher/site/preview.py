"""`publisher preview`: serve the built site on 127.0.0.1 only, as a web server would."""

from __future__ import annotations

import os
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - the base class declares it as a plain dict
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".xml": "application/xml; charset=utf-8",
        ".json": "application/json; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".txt": "text/plain; charset=utf-8",
    }

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code == HTTPStatus.NOT_FOUND and page.is_file():
            data = page.read_bytes()
            self.send_response(code)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return
        super().send_error(code, message, explain)

    def end_headers(self) -> None:
        # A preview must show the newest build, not what the browser cached from the last one.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("PUBLISHER_PREVIEW_LOG"):
            super().log_message(format, *args)


def make_server(root: Path, port: int = 8000) -> ThreadingHTTPServer:
    """Bound to 127.0.0.1: a preview is for the person at this machine, never the network.

    `root` is served by name, so when a deploy swaps the `public/` link the next request sees it.
    """
    handler = partial(_Handler, directory=str(root))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)
