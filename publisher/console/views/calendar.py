"""日历: a month or a week in the newsroom's timezone on the working-day calendar.

Each day carries its flags (working day, holiday, 调休 working day, a guess where chinese-calendar
has no data), the key dates and meetings that span it, its releases as tiles (channel, local time,
state, article, the review stage of the revision it carries) and the campaign slots still empty.

Queries per view: three (the day counts, the tiles, the slot fillers), whatever the number of
releases: a day shows its first tiles (`MONTH_TILES`, `WEEK_TILES`) and counts the rest. Both are
asked per local day, as ranges of UTC due times the index answers (a LIMIT per day for the tiles),
so a busy month costs a few index reads a day, not a ranking of every release in it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, case, func, literal, union_all
from sqlalchemy import select as sql_select
from sqlmodel import Session, col

from publisher.delivery.states import DeliveryState
from publisher.errors import PublisherError
from publisher.review.plan import plan_from_json
from publisher.schedule.keydates import KeyDate
from publisher.schedule.plan import SlotEntries, month_weeks, slot_state
from publisher.schedule.schedules import Schedules, Slot
from publisher.schedule.workdays import fallback_warning
from publisher.store.tables import Article, Delivery, ReviewState, Revision
from publisher.store.types import UTCDateTime
from publisher.timeutil import local

# A day's tiles beyond these are counted, not listed: a month cell shows a few, a week column more.
MONTH_TILES = 6
WEEK_TILES = 40
_REVIEW_LABELS = {"approved": "已通过", "rejected": "被退回", "withdrawn": "已撤回"}


@dataclass(frozen=True, slots=True)
class Marker:
    key: str
    name: str
    kind: str  # the key date's kind: sc-meeting, congress-session, event, ...
    meeting: str | None  # the register's meeting id, when it is a meeting


@dataclass(frozen=True, slots=True)
class Tile:
    delivery_id: int
    channel: str
    time: str  # HH:MM, newsroom time
    due_at: datetime  # UTC
    state: str
    action: str  # publish | kill (a takedown)
    slug: str
    title: str
    review: str  # the review stage of the revision it carries (送审 stage, 已通过, 未送审, ...)


@dataclass(frozen=True, slots=True)
class EmptySlot:
    campaign: str
    number: int
    time: str  # HH:MM, newsroom time
    due_at: datetime
    channels: tuple[str, ...]
    label: str
    warning: str | None


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    in_period: bool  # False for the neighbouring months' days that fill a month's first and last week
    working: bool
    holiday: str | None  # the holiday's (or override's) name
    makeup_workday: bool  # 调休: a weekend day that is a working day (班)
    day_off: bool  # a holiday off (休)
    guessed: bool  # no holiday data for the year: the fallback decided
    markers: tuple[Marker, ...]
    tiles: tuple[Tile, ...]
    more: int  # releases that day beyond the tiles listed
    empty_slots: tuple[EmptySlot, ...]


@dataclass(frozen=True, slots=True)
class CalendarView:
    kind: Literal["month", "week"]
    first: date  # the period's first and last day
    last: date
    weeks: tuple[tuple[CalendarDay, ...], ...]  # Monday first
    empty_slots: tuple[EmptySlot, ...]  # of the period, in time order
    warnings: tuple[str, ...]


def day_bounds(days: list[date], tz: ZoneInfo) -> list[tuple[date, datetime, datetime]]:
    """Each newsroom-local day with the UTC instants it starts and ends at: computed here, where the
    zone database is, so a day is exact in any zone and the database compares plain timestamps."""
    return [
        (
            d,
            datetime.combine(d, time(0), tz).astimezone(UTC),
            datetime.combine(d + timedelta(days=1), time(0), tz).astimezone(UTC),
        )
        for d in days
    ]


def _shown(lo: ColumnElement[Any], hi: ColumnElement[Any]) -> tuple[ColumnElement[bool], ...]:
    return (
        col(Delivery.due_at) >= lo,
        col(Delivery.due_at) < hi,
        col(Delivery.status) != DeliveryState.CANCELED,
    )


# The statements are built once per shape (number of days, tiles a day) with the days' bounds as
# parameters: a month's 42 days make a statement of a few hundred clauses, costlier to build than
# to run. `_bounds_params` gives the values.
def _lo(i: int) -> BindParameter[Any]:
    return bindparam(f"lo_{i}", type_=UTCDateTime())


def _hi(i: int) -> BindParameter[Any]:
    return bindparam(f"hi_{i}", type_=UTCDateTime())


def _bounds_params(bounds: list[tuple[date, datetime, datetime]]) -> dict[str, datetime]:
    params: dict[str, datetime] = {}
    for i, (_d, lo, hi) in enumerate(bounds):
        params[f"lo_{i}"], params[f"hi_{i}"] = lo, hi
    return params


def _day_of(first: int, last: int) -> ColumnElement[int]:
    """The index of the day (among days `first`..`last`, day i ending at `hi_i`) a due time falls
    in, found by halving: a few comparisons a row, where a flat CASE would make one per day."""
    if first == last:
        return literal(first)
    middle = (first + last) // 2
    return case(
        (col(Delivery.due_at) < _hi(middle), _day_of(first, middle)),
        else_=_day_of(middle + 1, last),
    )


@lru_cache(maxsize=8)
def _day_totals_statement(days: int) -> Select[int, int]:
    day = _day_of(0, days - 1)
    return sql_select(day, func.count()).where(*_shown(_lo(0), _hi(days - 1))).group_by(day)


def _day_totals(session: Session, bounds: list[tuple[date, datetime, datetime]]) -> dict[date, int]:
    """Releases shown on each day: one range scan of the period, each due time put in its day by
    comparing it with the days' UTC bounds (no per-row date arithmetic, exact in any zone)."""
    counted = session.execute(_day_totals_statement(len(bounds)), _bounds_params(bounds))
    return {bounds[i][0]: n for i, n in counted}


def _first_of_each_day(days: int, per_day: int) -> Select[tuple[int]]:
    """The ids of each day's first `per_day` releases (by due time): a LIMIT per day, so the
    database reads a few index entries a day instead of ranking every release of the period."""
    firsts = []
    for i in range(days):
        day = (
            sql_select(col(Delivery.id).label("id"))
            .where(*_shown(_lo(i), _hi(i)))
            .order_by(col(Delivery.due_at), col(Delivery.id))
            .limit(per_day)
            .subquery()
        )
        firsts.append(sql_select(day.c.id))
    return sql_select(union_all(*firsts).subquery().c.id)


TileRows = Select[int | None, str, datetime, str, str, str, str, str, int, str, *tuple[Any, ...]]


@lru_cache(maxsize=8)
def _tiles_statement(days: int, per_day: int) -> TileRows:
    """Each day's first tiles with their article, title and the review of the revision carried."""
    carried = func.coalesce(col(Delivery.revision_id), col(Article.current_revision_id))
    return (
        sql_select(
            col(Delivery.id),
            col(Delivery.channel),
            col(Delivery.due_at),
            col(Delivery.status),
            col(Delivery.action),
            col(Article.slug),
            col(Revision.title),
            col(ReviewState.status),
            col(ReviewState.stage_index),
            col(ReviewState.plan_json),
        )
        .join(Article, col(Article.id) == col(Delivery.article_id))
        .join(Revision, col(Revision.id) == col(Article.current_revision_id), isouter=True)
        .join(ReviewState, col(ReviewState.revision_id) == carried, isouter=True)
        .where(col(Delivery.id).in_(_first_of_each_day(days, per_day)))
        .order_by(col(Delivery.due_at), col(Delivery.id))
    )


@lru_cache(maxsize=256)  # a plan is written once at submission; tiles share a handful of them
def _stage_names(plan_json: str) -> tuple[str, ...]:
    return tuple(stage.name for stage in plan_from_json(plan_json))


def _review_label(status: str | None, stage_index: int | None, plan_json: str | None) -> str:
    if status == "in_review" and plan_json is not None and stage_index is not None:
        return f"{_stage_names(plan_json)[stage_index]}中"
    return _REVIEW_LABELS.get(status or "", "未送审")


def _markers(key_dates: dict[str, KeyDate], first: date, last: date) -> dict[date, list[Marker]]:
    out: dict[date, list[Marker]] = defaultdict(list)
    # A key date is listed under its aliases too, and a meeting also under its register id: once each.
    unique: dict[str, KeyDate] = {}
    for kd in sorted(key_dates.values(), key=lambda k: (k.meeting is not None and k.key == k.meeting, k.key)):
        unique.setdefault(kd.meeting or kd.key, kd)
    for kd in unique.values():
        years = {first.year, last.year, first.year - 1}  # an annual span may start the year before
        spans = [kd.span(None)] if not kd.annual else [kd.span(y) for y in sorted(years)]
        for start, end in spans:
            day = max(start, first)
            while day <= min(end, last):
                out[day].append(Marker(kd.key, kd.name, kd.kind, kd.meeting))
                day += timedelta(days=1)
    return out


def _empty(slot: Slot, tz: ZoneInfo) -> EmptySlot:
    return EmptySlot(
        slot.campaign,
        slot.number,
        local(slot.due, tz).strftime("%H:%M"),
        slot.due,
        slot.channels,
        slot.label,
        slot.warning,
    )


def _view(
    session: Session,
    schedules: Schedules,
    kind: Literal["month", "week"],
    grid: list[list[date]],
    first: date,
    last: date,
    tiles_per_day: int,
) -> CalendarView:
    tz = schedules.tz
    lo = datetime.combine(grid[0][0], time(0), tz).astimezone(UTC)
    hi = datetime.combine(grid[-1][-1] + timedelta(days=1), time(0), tz).astimezone(UTC)
    bounds = day_bounds([d for week in grid for d in week], tz)
    totals = _day_totals(session, bounds)
    tiles: dict[date, list[Tile]] = defaultdict(list)
    for (
        delivery_id,
        channel,
        due_at,
        state,
        action,
        slug,
        title,
        status,
        stage_index,
        plan_json,
    ) in session.execute(_tiles_statement(len(bounds), tiles_per_day), _bounds_params(bounds)):
        at = local(due_at, tz)
        tiles[at.date()].append(
            Tile(
                delivery_id,
                channel,
                at.strftime("%H:%M"),
                due_at,
                state,
                action,
                slug,
                title or slug,
                _review_label(status, stage_index, plan_json),
            )
        )
    slots = sorted(
        (s for key in sorted(schedules.campaigns) for s in schedules.slots(key, lo, hi)),
        key=lambda s: (s.due, s.campaign, s.number),
    )
    fillers: SlotEntries = defaultdict(list)
    for campaign, number, slug, review in session.execute(
        sql_select(
            col(Delivery.campaign), col(Delivery.slot_number), col(Article.slug), col(ReviewState.status)
        )
        .join(Article, col(Article.id) == col(Delivery.article_id))
        .join(ReviewState, col(ReviewState.revision_id) == col(Article.current_revision_id), isouter=True)
        .where(col(Delivery.campaign).in_({s.campaign for s in slots}))
        .where(col(Delivery.slot_number).in_({s.number for s in slots}))
        .where(col(Delivery.status) != DeliveryState.CANCELED)
        # In the slot index's order: ordering by id alone lets a planner scan the whole table.
        .order_by(col(Delivery.campaign), col(Delivery.slot_number), col(Delivery.id))
    ):
        fillers[(campaign, number)].append((slug, review == "approved"))
    empty: dict[date, list[EmptySlot]] = defaultdict(list)
    for slot in slots:
        if slot_state(slot, fillers).state == "empty":
            empty[local(slot.due, tz).date()].append(_empty(slot, tz))
    markers = _markers(schedules.key_dates, grid[0][0], grid[-1][-1])
    calendar = schedules.calendar
    weeks = []
    guessed_years: set[int] = set()
    for week in grid:
        days = []
        for d in week:
            info = calendar.day(d)
            if info.guessed:
                guessed_years.add(d.year)
            listed = tiles.get(d, [])
            days.append(
                CalendarDay(
                    d,
                    first <= d <= last,
                    info.working,
                    info.name,
                    calendar.is_makeup_workday(d),
                    calendar.is_holiday(d),
                    info.guessed,
                    tuple(markers.get(d, ())),
                    tuple(listed),
                    totals.get(d, 0) - len(listed),
                    tuple(empty.get(d, ())),
                )
            )
        weeks.append(tuple(days))
    return CalendarView(
        kind,
        first,
        last,
        tuple(weeks),
        tuple(e for d in sorted(empty) if first <= d <= last for e in empty[d]),
        tuple(fallback_warning(y, calendar.settings.fallback) for y in sorted(guessed_years)),
    )


def month_view(session: Session, schedules: Schedules, year: int, month: int) -> CalendarView:
    try:
        first = date(year, month, 1)
    except ValueError:
        raise PublisherError(f"没有这个月份 / no such month: {year}-{month:02d}") from None
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    weeks = month_weeks((year, month))
    # month_weeks leaves the neighbouring months' days out (None); the grid shows them greyed.
    grid = []
    for week in weeks:
        monday = next(d for d in week if d is not None) - timedelta(
            days=next(i for i, d in enumerate(week) if d is not None)
        )
        grid.append([monday + timedelta(days=i) for i in range(7)])
    return _view(session, schedules, "month", grid, first, last, MONTH_TILES)


def week_view(session: Session, schedules: Schedules, day: date) -> CalendarView:
    """The week (Monday to Sunday) that holds `day`."""
    monday = day - timedelta(days=day.weekday())
    grid = [[monday + timedelta(days=i) for i in range(7)]]
    return _view(session, schedules, "week", grid, monday, monday + timedelta(days=6), WEEK_TILES)
