"""日历: month and week on the working-day calendar, with release tiles and empty slots."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlmodel import Session

from publisher.console.views import calendar
from publisher.console.views.calendar import CalendarView, month_view, week_view
from publisher.engine.scheduling import schedule
from publisher.errors import PublisherError
from publisher.newsroom import Newsroom
from publisher.schedule.load import load_schedules
from tests.console_world import NOW, build


def test_the_month_marks_holidays_and_makeup_working_days(room: Newsroom) -> None:
    schedules = load_schedules(room)
    with Session(room.engine) as session:
        october = month_view(session, schedules, 2026, 10)
    days = {d.day: d for week in october.weeks for d in week}
    assert october.weeks[0][0].day == date(2026, 9, 28) and not october.weeks[0][0].in_period
    national = days[date(2026, 10, 1)]
    assert national.day_off and not national.working and national.holiday == "国庆节"
    makeup = days[date(2026, 10, 10)]  # a Saturday worked for the National Day holiday (调休)
    assert makeup.makeup_workday and makeup.working
    assert all(len(week) == 7 for week in october.weeks)


def test_the_month_shows_key_dates_meetings_tiles_and_empty_slots(room: Newsroom) -> None:
    build(room)  # article-1 on the website at 10:00 on 27 November
    schedules = load_schedules(room)
    with Session(room.engine) as session:
        november = month_view(session, schedules, 2026, 11)
    days = {d.day: d for week in november.weeks for d in week}
    meeting = days[date(2026, 11, 26)].markers
    assert [m.meeting for m in meeting if m.meeting] == ["sc-17-29"]
    assert "宪法宣传周" in " ".join(m.name for m in days[date(2026, 11, 30)].markers)
    (tile,) = days[date(2026, 11, 27)].tiles
    assert (tile.channel, tile.time, tile.state, tile.slug, tile.review) == (
        "website",
        "10:00",
        "scheduled",
        "article-1",
        "已通过",
    )
    countdown = [s for s in november.empty_slots if s.campaign == "constitution-day"]
    assert countdown and countdown[0].time == "09:00"
    assert all(s.due_at.month == 11 or s.due_at.day == 30 for s in november.empty_slots)


def test_a_slot_with_a_release_planned_in_it_is_no_longer_empty(room: Newsroom) -> None:
    build(room)
    schedules = load_schedules(room)
    first = schedules.slots("constitution-day")[0]
    with Session(room.engine) as session:
        before = week_view(session, schedules, first.due.date())
    schedule(
        room,
        "article-1",
        list(first.channels),
        first.due,
        "zhouwb",
        campaign="constitution-day",
        slot_number=first.number,
        now=NOW,
    )
    with Session(room.engine) as session:
        after = week_view(session, schedules, first.due.date())

    def numbered(view: CalendarView) -> set[tuple[str, int]]:
        return {(s.campaign, s.number) for s in view.empty_slots}

    assert ("constitution-day", first.number) in numbered(before) - numbered(after)
    day = next(d for d in after.weeks[0] if d.day == first.due.astimezone(schedules.tz).date())
    assert {t.channel for t in day.tiles} >= set(first.channels)


def test_a_crowded_day_lists_its_first_tiles_and_counts_the_rest(
    room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(room)
    late_evening = datetime(2026, 11, 27, 15, 30, tzinfo=NOW.tzinfo)  # 23:30 local on the 27th
    schedule(room, "article-1", ["wechat"], late_evening, "zhouwb", now=NOW)
    monkeypatch.setattr(calendar, "WEEK_TILES", 1)
    schedules = load_schedules(room)
    with Session(room.engine) as session:
        week = week_view(session, schedules, date(2026, 11, 27))
    assert week.first == date(2026, 11, 23) and week.last == date(2026, 11, 29)
    day = next(d for d in week.weeks[0] if d.day == date(2026, 11, 27))
    assert [t.time for t in day.tiles] == ["10:00"] and day.more == 1
    assert all(not d.tiles for d in week.weeks[0] if d.day != date(2026, 11, 27))


def test_a_month_that_does_not_exist_is_refused(room: Newsroom) -> None:
    with Session(room.engine) as session, pytest.raises(PublisherError, match="no such month"):
        month_view(session, load_schedules(room), 2026, 13)
