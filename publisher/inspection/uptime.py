"""Uptime (可用性): the checklist's rule that a site is unreachable when, monitored for a week with
at least 20 probes a day and a 15 s timeout, 5 % or more of the probes fail. Probes are recorded by
`publisher inspect --probe` or the engine on its schedule (one row per channel and slot, so many
workers record a slot once); the report applies the rule to the last `days`."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import httpx
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from publisher.inspection.findings import Finding
from publisher.inspection.settings import Uptime
from publisher.newsroom import Newsroom
from publisher.store.engine import write_session
from publisher.store.tables import UptimeProbe


def interval(settings: Uptime) -> timedelta:
    return timedelta(days=1) / settings.probes_per_day


def slot_of(moment: datetime, settings: Uptime) -> datetime:
    step = interval(settings).total_seconds()
    return datetime.fromtimestamp(moment.timestamp() // step * step, moment.tzinfo)


def probe(
    room: Newsroom,
    channel: str,
    url: str,
    settings: Uptime,
    now: datetime,
    transport: httpx.BaseTransport | None = None,
) -> UptimeProbe | None:
    """Probe `url` once for this slot; None when the slot was already recorded (another worker)."""
    started = time.perf_counter()
    status: int | None = None
    error: str | None = None
    try:
        with httpx.Client(
            timeout=settings.timeout_seconds, follow_redirects=True, transport=transport
        ) as client:
            status = client.get(url).status_code
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    row = UptimeProbe(
        id=f"{channel}:{slot_of(now, settings).isoformat()}",
        channel=channel,
        url=url,
        at=now,
        ok=status is not None and status < 400,
        status=status,
        seconds=round(time.perf_counter() - started, 3),
        error=error,
    )
    try:
        with write_session(room.engine) as session:
            session.add(row)
            session.flush()
            session.expunge(row)
    except IntegrityError:
        return None
    return row


def uptime_findings(session: Session, channel: str, settings: Uptime, now: datetime) -> list[Finding]:
    """The rule over the last `days`: a veto when failures reach the ratio; nothing before any probe."""
    since = now - timedelta(days=settings.days)
    probes = session.exec(
        select(UptimeProbe.ok).where(UptimeProbe.channel == channel, col(UptimeProbe.at) >= since)
    ).all()
    if not probes:
        return []
    failed = sum(1 for ok in probes if not ok)
    if failed / len(probes) < settings.failure_ratio:
        return []
    return [
        Finding(
            "site.unreachable",
            channel,
            f"近 {settings.days} 天监测中 {failed}/{len(probes)} 次无法访问（≥ {settings.failure_ratio:.0%}） / "
            f"the site failed {failed} of {len(probes)} probes in {settings.days} days",
            f"{failed}/{len(probes)}",
            channel=channel,
        )
    ]
