"""The demo's release step: plan the Constitution Day campaign, schedule the approved articles,
and run the engine on a compressed clock so a week of releases goes out in well under a minute,
to the website (and its feeds) and to the WeChat account in its local sandbox.

The demo is a story set in the week before Constitution Day 2026, and it keeps to its own time:
every article is released at the date it shows (the ones dated before the week first, on a clock
that stands at each date), so nothing on the site is back-dated; the moment the week ends is written
into the copy's review/inspection.toml (`as_of`), so `publisher inspect` judges the demo's freshness
at the story's time whatever today's date is. The WeChat sandbox lives only while the demo runs, so
the copy's account is switched off afterwards rather than left pointing at a closed port.
"""

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
from publisher.engine.clock import CompressedClock, FixedClock
from publisher.engine.worker import DeliveryWorker
from publisher.newsroom import Newsroom
from publisher.schedule import load_schedules
from publisher.schedule.schedules import Schedules, Slot
from publisher.store.tables import Article, Delivery, ReviewState
from publisher.timeutil import show

CAMPAIGN = "constitution-day"
RELEASE_CHANNELS = ("website", "site-feed", "wechat")
WALL_SECONDS = 30.0  # how long the campaign week takes to watch
SANDBOX_PUBLISH_SECONDS = 0.2  # how long the demo's WeChat sandbox takes to publish a post
SANDBOX_POLL_SECONDS = 0.25  # how often the demo's worker asks it whether a post is out
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
    # The sandbox finishes a publication in SANDBOX_PUBLISH_SECONDS; asking WeChat's own 5 s apart,
    # the worker sat out most of each interval, one WeChat release after another, and the demo's
    # week ran on for 20 s after its end. A real account keeps its interval.
    text = re.sub(r"(?m)^poll_seconds = .*\n", "", text)
    text = re.sub(
        r"(?m)^\[settings\]\n", f"[settings]\npoll_seconds = {SANDBOX_POLL_SECONDS}\n", text, count=1
    )
    path.write_text(text, encoding="utf-8")
    room.__dict__.pop("channels", None)
    room.__dict__.pop("taxonomy", None)


class UntilEnd:
    """The compressed clock, standing still at the story's end: the week's releases finish, and
    what falls due after it stays scheduled (the demo's story does not run on while it waits)."""

    def __init__(self, inner: CompressedClock, end: datetime) -> None:
        self.inner, self.end, self.speed = inner, end, inner.speed

    def now(self) -> datetime:
        return min(self.inner.now(), self.end)

    def to_wall(self, moment: datetime) -> datetime:
        return self.inner.to_wall(moment)


def _switch_off_wechat(room: Newsroom) -> None:
    """After the demo the sandbox account is gone: the copy says so instead of naming a dead port
    (an inspection of the copy would otherwise report an account it cannot reach)."""
    path = room.channels_dir / "wechat.toml"
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    note = "# 演示结束，沙箱公众号已关闭 / the demo's sandbox account closed when the demo ended\n"
    path.write_text(note + "enabled = false\n" + text, encoding="utf-8")
    room.__dict__.pop("channels", None)
    room.__dict__.pop("taxonomy", None)


def record_story_time(room: Newsroom, moment: datetime) -> None:
    """Write the demo's moment into the copy's review/inspection.toml as `as_of` (a top-level key,
    so it goes before the first table)."""
    path = room.root / room.settings.paths.review / "inspection.toml"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    stamp = moment.astimezone(room.settings.tz).isoformat(timespec="seconds")
    note = "# 演示的时间：清查按此刻评判 / the demo's time: the inspection judges as of this moment\n"
    path.write_text(f"{note}as_of = {stamp}\n\n{text}", encoding="utf-8")


def run_campaign(
    room: Newsroom, console: Console, editor: str, wall_seconds: float = WALL_SECONDS
) -> CampaignResult:
    """`editor`: the signed-in person who schedules the releases (the engine then acts as itself);
    `wall_seconds`: how long the campaign week takes to watch."""
    with running(
        State(app_id="wx-sandbox-jianglan", secret=None, publish_delay=SANDBOX_PUBLISH_SECONDS)
    ) as base:
        _point_wechat_at(room, base)
        result, ended = _run(room, console, base, editor, wall_seconds)
    _switch_off_wechat(room)
    record_story_time(room, ended)
    return result


def _approved(session: Session) -> list[str]:
    rows = session.exec(
        select(Article.slug)
        .join(ReviewState, col(ReviewState.revision_id) == col(Article.current_revision_id))
        .where(ReviewState.status == "approved")
        .order_by(col(Article.slug))
    )
    return list(rows)


def _slot_for(dated: datetime, free: list[Slot]) -> Slot | None:
    """The campaign slot a themed piece takes: the last free one not after its date (so the date it
    shows has come when it goes out), else the first free one."""
    before = [s for s in free if s.due <= dated]
    return before[-1] if before else (free[0] if free else None)


def _archive(
    room: Newsroom,
    console: Console,
    schedules: Schedules,
    editor: str,
    releases: dict[str, tuple[datetime, list[str]]],  # slug -> (its date, its site channels)
) -> set[int]:
    """Release the pieces dated before the campaign week on the site at their own dates, the engine's
    clock standing at each date in turn: the site's history is what it would have been."""
    for slug, (due, channels) in releases.items():
        if channels:
            scheduling.schedule(room, slug, channels, due, editor, now=due - timedelta(minutes=1))
    dues = sorted({due for due, _ in releases.values()})
    if not dues:
        return set()
    clock = FixedClock(dues[0])
    worker = DeliveryWorker(room, clock=clock, windows=schedules)
    for due in dues:
        clock.moment = due
        worker.run_once()
    return _report_new(room, console, set(), room.settings.tz)


def _run(
    room: Newsroom, console: Console, base: str, editor: str, wall_seconds: float
) -> tuple[CampaignResult, datetime]:
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
    dated = {slug: views[slug].revision.dated_at for slug in approved}
    # Pieces dated before the week were published at their dates: released first, in date order.
    earlier = {slug: at for slug, at in dated.items() if at < start}
    console.print(f"   此前的稿件按各自日期发布 / {len(earlier)} earlier pieces released at their own dates")
    site = ("website", "site-feed")
    seen = _archive(
        room,
        console,
        schedules,
        editor,
        {s: (at, [c for c in site if channel_allowed(views[s].meta, c)]) for s, at in earlier.items()},
    )
    # Constitution-week pieces take the campaign's slots; every other approved piece is released on
    # the site at its own date.
    themed = [
        s
        for s in approved
        if s not in earlier and ("constitution" in s or "secrecy" in s or "exhibition" in s)
    ]
    others = [s for s in approved if s not in themed and s not in earlier]
    free = list(slots)
    for slug in sorted(themed, key=lambda s: dated[s]):
        slot = _slot_for(dated[slug], free)
        if slot is None:
            others.append(slug)
            continue
        free.remove(slot)
        meta = views[slug].meta
        channels = [c for c in slot.channels if c in RELEASE_CHANNELS and channel_allowed(meta, c)]
        if not channels:
            continue
        scheduling.schedule(
            room, slug, channels, slot.due, editor, campaign=CAMPAIGN, slot_number=slot.number, now=start
        )
    for slug in others:
        wanted = [c for c in site if channel_allowed(views[slug].meta, c)]
        if wanted:
            scheduling.schedule(room, slug, wanted, dated[slug], editor, now=start)

    end = slots[-1].due + timedelta(minutes=5)
    speed = (end - start).total_seconds() / wall_seconds
    clock = UntilEnd(CompressedClock(start, speed), end)
    worker = DeliveryWorker(room, clock=clock, windows=schedules)
    console.print(
        f"   引擎以 {speed:,.0f} 倍速运行 / the engine runs {speed:,.0f}x fast: 一周约 {wall_seconds:.0f} 秒"
    )
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
    return CampaignResult(done, pending, urls), end


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
