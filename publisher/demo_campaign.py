"""The demo's release step: plan the Constitution Day campaign, schedule the approved articles,
and run the engine on a compressed clock so a week of releases goes out in well under a minute,
to the website (and its feeds) and to the WeChat account in its local sandbox."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.console import Console
from sqlmodel import Session, col, select

from publisher import articles
from publisher.channels.wechat.sandbox import State, running
from publisher.content.model import channel_allowed
from publisher.engine import scheduling
from publisher.engine.clock import CompressedClock
from publisher.engine.worker import DeliveryWorker
from publisher.newsroom import Newsroom
from publisher.schedule import load_schedules
from publisher.store.tables import Article, Delivery, ReviewState
from publisher.timeutil import show

CAMPAIGN = "constitution-day"
RELEASE_CHANNELS = ("website", "site-feed", "wechat")
WALL_SECONDS = 30.0  # how long the campaign week takes to watch
FINAL = ("done", "failed", "held", "missed", "canceled")


@dataclass(frozen=True, slots=True)
class CampaignResult:
    done: int
    pending: int
    wechat_urls: list[tuple[str, str]]


def _point_wechat_at(room: Newsroom, base: str) -> None:
    """The demo copy's WeChat account talks to the sandbox just started (a port chosen now)."""
    path = room.channels_dir / "wechat.toml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r'api_base = ".*"', f'api_base = "{base}"', text)
    # The sandbox account may push as often as the demo releases; a real account keeps its quota.
    text = re.sub(r"pushes_per_day = \d+", "pushes_per_day = 50", text)
    path.write_text(text, encoding="utf-8")
    room.__dict__.pop("channels", None)
    room.__dict__.pop("taxonomy", None)


def run_campaign(room: Newsroom, console: Console, editor: str) -> CampaignResult:
    """`editor`: the signed-in person who schedules the releases (the engine then acts as itself)."""
    with running(State(app_id="wx-sandbox-jianglan", secret=None, publish_delay=0.2)) as base:
        _point_wechat_at(room, base)
        return _run(room, console, base, editor)


def _approved(session: Session) -> list[str]:
    rows = session.exec(
        select(Article.slug)
        .join(ReviewState, col(ReviewState.revision_id) == col(Article.current_revision_id))
        .where(ReviewState.status == "approved")
        .order_by(col(Article.slug))
    )
    return list(rows)


def _run(room: Newsroom, console: Console, base: str, editor: str) -> CampaignResult:
    schedules = load_schedules(room)
    slots = schedules.slots(CAMPAIGN)
    tz = room.settings.tz
    start = slots[0].due - timedelta(minutes=5)
    console.print(
        f"   专题 / campaign「{schedules.campaign(CAMPAIGN).name}」：{len(slots)} 个时段，"
        f"{show(slots[0].due, tz)} 至 {show(slots[-1].due, tz)}"
    )
    with Session(room.engine) as session:
        approved = _approved(session)
        views = {v.article.slug: v for v in articles.list_articles(session)}
    # Constitution-week pieces take the campaign's slots; every other approved piece is released on
    # the site at its own date (at once if that has passed).
    themed = [s for s in approved if "constitution" in s or "secrecy" in s or "exhibition" in s]
    others = [s for s in approved if s not in themed]
    for slot, slug in zip(slots, themed, strict=False):
        meta = views[slug].meta
        channels = [c for c in slot.channels if c in RELEASE_CHANNELS and channel_allowed(meta, c)]
        if not channels:
            continue
        scheduling.schedule(
            room, slug, channels, slot.due, editor, campaign=CAMPAIGN, slot_number=slot.number, now=start
        )
    for slug in others:
        due = max(views[slug].revision.dated_at, start)
        wanted = [c for c in ("website", "site-feed") if channel_allowed(views[slug].meta, c)]
        if wanted:
            scheduling.schedule(room, slug, wanted, due, editor, now=start)

    end = slots[-1].due + timedelta(minutes=5)
    speed = (end - start).total_seconds() / WALL_SECONDS
    clock = CompressedClock(start, speed)
    worker = DeliveryWorker(room, clock=clock, windows=schedules)
    console.print(
        f"   引擎以 {speed:,.0f} 倍速运行 / the engine runs {speed:,.0f}x fast: 一周约 {WALL_SECONDS:.0f} 秒"
    )
    seen: set[int] = set()
    worker.start()
    try:
        while clock.now() < end:
            time.sleep(0.5)
            seen |= _report_new(room, console, seen, tz)
        deadline = time.time() + 20
        while time.time() < deadline and _open_due(room, end):
            time.sleep(0.5)
            seen |= _report_new(room, console, seen, tz)
    finally:
        worker.request_stop()
        worker.shutdown()
    seen |= _report_new(room, console, seen, tz)

    with Session(room.engine) as session:
        rows = session.exec(
            select(Delivery, Article).join(Article, col(Article.id) == col(Delivery.article_id))
        ).all()
    done = sum(1 for d, _ in rows if d.status == "done")
    pending = sum(1 for d, _ in rows if d.status not in FINAL)
    urls = [
        (a.slug, json.loads(d.receipt_json or "{}").get("url") or "")
        for d, a in rows
        if d.channel == "wechat" and d.status == "done"
    ]
    return CampaignResult(done, pending, urls)


def _open_due(room: Newsroom, end: datetime) -> bool:
    with Session(room.engine) as session:
        return (
            session.exec(
                select(Delivery.id).where(
                    col(Delivery.status).in_(["scheduled", "claimed"]), col(Delivery.due_at) <= end
                )
            ).first()
            is not None
        )


def _report_new(room: Newsroom, console: Console, seen: set[int], tz: object) -> set[int]:
    with Session(room.engine) as session:
        rows = session.exec(
            select(Delivery, Article)
            .join(Article, col(Article.id) == col(Delivery.article_id))
            .where(col(Delivery.status).in_(FINAL), col(Delivery.status) != "canceled")
            .order_by(col(Delivery.due_at))
        ).all()
    new: set[int] = set()
    for d, a in rows:
        if d.id is None or d.id in seen:
            continue
        new.add(d.id)
        mark = {"done": "[green]发出[/]", "held": "[yellow]暂缓[/]"}.get(d.status, f"[red]{d.status}[/]")
        due = show(d.due_at, room.settings.tz)
        console.print(f"     {due} {mark} {d.channel:<9} {a.slug}")
    return new
