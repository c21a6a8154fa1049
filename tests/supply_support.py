"""Shared pieces of the supply tests: a newsroom with a push and a pull partner aimed at a sandbox,
the HTTP service on a real loopback port, and the engine driven by a fixed clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from publisher.engine.clock import FixedClock
from publisher.engine.worker import DeliveryWorker
from publisher.newsroom import Newsroom
from publisher.store.tables import Delivery, Supply
from tests.review_helpers import approve as approve

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
