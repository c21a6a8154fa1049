"""Shared pieces of the supply tests: a newsroom with a push and a pull partner aimed at a sandbox,
the HTTP service on a real loopback port, and the engine driven by a fixed clock."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from sqlmodel import Session, col, select

from publisher.engine.clock import FixedClock
from publisher.engine.worker import DeliveryWorker
from publisher.newsroom import Newsroom
from publisher.review.service import ReviewService
from publisher.store.tables import Delivery, Supply
from publisher.web.app import create_app
from tests.review_helpers import sign_through

SECRET_ENV = "PUBLISHER_PARTNER_PROVINCIAL_SECRET"
SECRET = "test-shared-secret-江澜"
PUSH = "partner-provincial-daily"
PULL = "partner-media-centre"
T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # 09:00 Asia/Shanghai, Constitution Day


def aim_partners(newsroom_dir: Path, endpoint: str, timeout: float = 2.0) -> None:
    """Point the push partner at a sandbox; a short timeout keeps the slow-reply test quick."""
    path = newsroom_dir / "channels" / f"{PUSH}.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('endpoint = "http://127.0.0.1:8720/ingest"', f'endpoint = "{endpoint}"')
    text = text.replace("timeout_seconds = 10", f"timeout_seconds = {timeout}")
    path.write_text(text, encoding="utf-8")


def approve(room: Newsroom, slug: str) -> None:
    service = ReviewService(room)
    service.submit(slug, "zhouwb")
    sign_through(room, service, slug)


def run_engine(room: Newsroom, clock: FixedClock) -> int:
    return DeliveryWorker(room, clock=clock, worker_id=f"w-{time.monotonic_ns()}").run_once()


def deliveries(room: Newsroom, channel: str | None = None) -> list[Delivery]:
    with Session(room.engine) as s:
        query = select(Delivery).order_by(col(Delivery.id))
        if channel:
            query = query.where(Delivery.channel == channel)
        return list(s.exec(query))


def holdings(room: Newsroom, partner: str) -> list[Supply]:
    with Session(room.engine) as s:
        return list(s.exec(select(Supply).where(Supply.partner == partner)))


@contextmanager
def serving(room: Newsroom) -> Iterator[str]:
    """The FastAPI app under uvicorn on a free 127.0.0.1 port, in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(room), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
