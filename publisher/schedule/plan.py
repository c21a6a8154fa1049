"""The plan: every slot with its state (filled, held for approval, empty), a month, iCalendar.

Read-only: the store is only queried, and a newsroom without a database yet has only empty slots.
"""

from __future__ import annotations

import calendar as pycal
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import inspect, select
from sqlmodel import Session, col

from publisher.errors import PublisherError
from publisher.newsroom import Newsroom
from publisher.schedule.schedules import Schedules, Slot
from publisher.schedule.workdays import fallback_warning
from publisher.store.engine import make_engine
from publisher.store.tables import Article, Delivery, ReviewState
from publisher.timeutil import show

State = Literal["filled", "held", "empty"]
STATE_LABELS: dict[str, str] = {"filled": "已排稿", "held": "待审批", "empty": "空缺"}
# What a calendar event lasts: staff see a block, not a point.
EVENT_MINUTES = 30


@dataclass(frozen=True, slots=True)
class PlannedSlot:
    slot: Slot
    state: State
    articles: tuple[str, ...] = ()  # slugs of the articles scheduled into it


@dataclass
class Plan:
    as_of: datetime
    month: tuple[int, int]
    campaigns: list[str]
    rows: list[PlannedSlot]  # the month's slots
    horizon_days: int
    horizon_empty: list[PlannedSlot]  # empty slots due between as_of and as_of + horizon
    paused: bool
    pause_reason: str
    warnings: list[str] = field(default_factory=list)


def parse_month(text: str) -> tuple[int, int]:
    try:
        year, month = (int(x) for x in text.split("-"))
        date(year, month, 1)
    except ValueError:
        raise PublisherError(f"月份应写作 YYYY-MM / month must be YYYY-MM, not {text!r}") from None
    return year, month


def month_bounds(month: tuple[int, int], schedules: Schedules) -> tuple[datetime, datetime]:
    year, m = month
    first = date(year, m, 1)
    after = date(year + (m == 12), m % 12 + 1, 1)
    tz = schedules.tz
    return (
        datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC),
        datetime.combine(after, time(0), tzinfo=tz).astimezone(UTC),
    )


def _deliveries(newsroom: Newsroom, campaigns: list[str]) -> dict[tuple[str, int], list[tuple[str, bool]]]:
    """(campaign, slot number) -> [(article slug, current revision approved)]."""
    url = newsroom.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return {}
    # A plain engine, not newsroom.engine: planning must not migrate or create anything.
    engine = make_engine(url)
    found: dict[tuple[str, int], list[tuple[str, bool]]] = defaultdict(list)
    try:
        if not inspect(engine).has_table(Delivery.__tablename__):
            return {}
        with Session(engine) as session:
            rows = session.execute(
                select(
                    col(Delivery.campaign),
                    col(Delivery.slot_number),
                    col(Article.slug),
                    col(ReviewState.status),
                )
                .join(Article, col(Article.id) == col(Delivery.article_id))
                .outerjoin(ReviewState, col(ReviewState.revision_id) == col(Article.current_revision_id))
                .where(col(Delivery.campaign).in_(campaigns))
                .where(col(Delivery.slot_number).is_not(None))
                .where(col(Delivery.status) != "canceled")
                .order_by(col(Delivery.id))
            )
            for campaign, number, slug, status in rows:
                found[(campaign, number)].append((slug, status == "approved"))
    finally:
        engine.dispose()
    return found


SlotEntries = dict[tuple[str, int], list[tuple[str, bool]]]  # (campaign, number) -> [(slug, approved)]


def slot_state(slot: Slot, deliveries: SlotEntries) -> PlannedSlot:
    """Filled (an approved article is planned in it), held for approval, or empty: the one rule."""
    entries = deliveries.get((slot.campaign, slot.number), [])
    slugs = tuple(dict.fromkeys(slug for slug, _ in entries))
    if not entries:
        return PlannedSlot(slot, "empty")
    if any(approved for _, approved in entries):
        return PlannedSlot(slot, "filled", slugs)
    return PlannedSlot(slot, "held", slugs)


def _opening_month(
    month: tuple[int, int], schedules: Schedules, keys: list[str], as_of: datetime
) -> tuple[int, int]:
    """A month without slots is no place to open: show the month of the next slot (else the last)."""
    slots = sorted((s for key in keys for s in schedules.slots(key)), key=lambda s: s.due)
    lo, hi = month_bounds(month, schedules)
    if not slots or any(lo <= s.due < hi for s in slots):
        return month
    upcoming = [s for s in slots if s.due >= as_of] or slots[-1:]
    due = upcoming[0].due.astimezone(schedules.tz)
    return (due.year, due.month)


def build_plan(
    newsroom: Newsroom,
    schedules: Schedules,
    *,
    campaign: str | None = None,
    month: tuple[int, int] | None = None,
    horizon_days: int | None = None,
    as_of: datetime,
) -> Plan:
    keys = [schedules.campaign(campaign).key] if campaign else sorted(schedules.campaigns)
    horizon = schedules.horizon_days if horizon_days is None else horizon_days
    if horizon < 0:
        raise PublisherError("预警天数不能为负 / --horizon-days must not be negative")
    local_now = as_of.astimezone(schedules.tz)
    if month is None:
        month = _opening_month((local_now.year, local_now.month), schedules, keys, as_of)
    lo, hi = month_bounds(month, schedules)
    deliveries = _deliveries(newsroom, keys)
    rows = [slot_state(s, deliveries) for key in keys for s in schedules.slots(key, lo, hi)]
    rows.sort(key=lambda p: (p.slot.due, p.slot.campaign, p.slot.number))
    until = as_of + timedelta(days=horizon)
    soon = [slot_state(s, deliveries) for key in keys for s in schedules.slots(key, as_of, until)]
    empty = sorted((p for p in soon if p.state == "empty"), key=lambda p: (p.slot.due, p.slot.campaign))
    return Plan(
        as_of=as_of,
        month=month,
        campaigns=keys,
        rows=rows,
        horizon_days=horizon,
        horizon_empty=empty,
        paused=schedules.paused,
        pause_reason=schedules.pause_reason,
        warnings=[
            fallback_warning(year, schedules.calendar.settings.fallback)
            for year in sorted(set().union(*(schedules.guessed_years.get(k, frozenset()) for k in keys)))
        ],
    )


def month_weeks(month: tuple[int, int]) -> list[list[date | None]]:
    """Weeks of the month, Monday first; days outside it are None."""
    year, m = month
    return [
        [d if d.month == m else None for d in week]
        for week in pycal.Calendar(firstweekday=0).monthdatescalendar(year, m)
    ]


def slot_dict(planned: PlannedSlot, schedules: Schedules) -> dict[str, Any]:
    s = planned.slot
    return {
        "campaign": s.campaign,
        "number": s.number,
        "due": s.due.isoformat(),
        "local": show(s.due, schedules.tz),
        "channels": list(s.channels),
        "column": s.column,
        "label": s.label,
        "shifted_from": s.shifted_from.isoformat() if s.shifted_from else None,
        "warning": s.warning,
        "state": planned.state,
        "articles": list(planned.articles),
    }


def plan_dict(plan: Plan, schedules: Schedules) -> dict[str, Any]:
    return {
        "as_of": plan.as_of.isoformat(),
        "month": f"{plan.month[0]:04d}-{plan.month[1]:02d}",
        "timezone": schedules.tz.key,
        "paused": plan.paused,
        "pause_reason": plan.pause_reason,
        "campaigns": [
            {
                "key": c.key,
                "name": c.name,
                "column": c.column,
                "channels": list(c.channels),
                "cadence": c.cadence,
                "non_working_day": c.non_working_day,
                "window": [c.start.isoformat(), c.end.isoformat()],
                "source": c.source,
            }
            for c in (schedules.campaigns[k] for k in plan.campaigns)
        ],
        "slots": [slot_dict(p, schedules) for p in plan.rows],
        "horizon": {
            "days": plan.horizon_days,
            "empty": [slot_dict(p, schedules) for p in plan.horizon_empty],
        },
        "warnings": plan.warnings,
    }


def to_ics(planned: list[PlannedSlot], schedules: Schedules, newsroom_name: str, stamp: datetime) -> bytes:
    """An iCalendar file staff subscribe to; UIDs are stable so a re-import updates, not duplicates."""
    from icalendar import Calendar, Event  # only `plan --ics` needs it; every command would pay

    cal = Calendar()
    cal.add("prodid", "-//publisher//schedules//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{newsroom_name} 发布排期")
    cal.add("x-wr-timezone", schedules.tz.key)
    for p in planned:
        s = p.slot
        campaign = schedules.campaigns[s.campaign]
        event = Event()
        event.add("uid", f"{s.campaign}-{s.number}@publisher")
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("dtstart", s.due)
        event.add("dtend", s.due + timedelta(minutes=EVENT_MINUTES))
        event.add("summary", f"[{STATE_LABELS[p.state]}] {s.label}")
        lines = [
            f"战役 / campaign: {campaign.name} ({s.campaign} #{s.number})",
            f"渠道 / channels: {', '.join(s.channels)}",
            f"状态 / state: {STATE_LABELS[p.state]} ({p.state})",
        ]
        if p.articles:
            lines.append(f"稿件 / articles: {', '.join(p.articles)}")
        if s.shifted_from:
            lines.append(
                f"原定 {s.shifted_from.isoformat()}，遇非工作日顺延 / shifted from a non-working day"
            )
        if s.warning:
            lines.append(s.warning)
        event.add("description", "\n".join(lines))
        event.add("categories", [campaign.name])
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data


def all_slots(schedules: Schedules, keys: list[str], month: tuple[int, int] | None) -> list[Slot]:
    lo, hi = month_bounds(month, schedules) if month else (None, None)
    return [s for key in keys for s in schedules.slots(key, lo, hi)]


def plan_states(newsroom: Newsroom, slots: list[Slot]) -> list[PlannedSlot]:
    deliveries = _deliveries(newsroom, sorted({s.campaign for s in slots}))
    return [slot_state(s, deliveries) for s in slots]
