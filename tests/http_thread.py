"""The tests' loopback HTTP servers (sinks, partners, static sites), each served in a thread."""

from __future__ import annotations

import threading
from socketserver import BaseServer

# `serve_forever` looks for a shutdown request once per poll interval, 0.5 s unless told: stopping
# a server cost every test that used one about 0.4 s of waiting. An idle selector woken a hundred
# times a second costs nothing measurable.
POLL_SECONDS = 0.01


def serve_in_thread(server: BaseServer) -> threading.Thread:
    """Start serving; `server.shutdown()` then returns within POLL_SECONDS."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True
    )
    thread.start()
    return thread
