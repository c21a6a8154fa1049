"""日历 over real HTTP: the month and week, scheduling an approved article into a slot and moving a
release with the command line's rules and warnings, and the revocable iCalendar subscription."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select

from publisher.engine.scheduling import schedule
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.schedule import load_schedules
from publisher.schedule.schedules import Slot
from publisher.store.engine import read_session
from publisher.store.tables import CalendarFeed, Delivery
from publisher.timeutil import local, utc_now
from tests.console_helpers import console_server, seed_staff, sign_in
from tests.factory import base_meta, write_article
from tests.review_helpers import approve

HOSTILE = '<script>alert("x")</script>**粗**'


@pytest.fixture
def planned(room: Newsroom) -> Newsroom:
    write_article(room.content_dir, "hostile.md", base_meta("hostile-piece", title=HOSTILE))
    assert ingest(room).ok
    seed_staff(room)
    approve(room, "article-1")
    approve(room, "hostile-piece")
    return room


def first_slot(room: Newsroom) -> Slot:
    schedules = load_schedules(room)
    return min(
        (s for key in schedules.campaigns for s in schedules.slots(key, utc_now() + timedelta(hours=1))),
        key=lambda s: s.due,
    )


def deliveries(room: Newsroom) -> list[Delivery]:
    with read_session(room.engine) as session:
        return list(session.exec(select(Delivery).order_by(col(Delivery.id))))


def test_the_month_shows_release_tiles_escaped_and_the_working_day_calendar(planned: Newsroom) -> None:
    due = utc_now() + timedelta(days=1)
    schedule(planned, "hostile-piece", ["website"], due, "zhouwb")
    day = local(due, planned.settings.tz).date()
    with console_server(planned) as base:
        client, _ = sign_in(base, "wangxm")  # any staff may look
        month = client.get("/calendar", params={"date": day.isoformat()})
        assert month.status_code == 200
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;**粗**" in month.text
        assert "<script>alert" not in month.text
        assert "website" in month.text and "已通过" in month.text
        assert "空时段" in month.text
        assert "排入" not in month.text  # an author sees the plan, not the planner's forms
        week = client.get("/calendar", params={"view": "week", "date": day.isoformat()})
        assert week.status_code == 200 and week.text.count('class="cal-day') == 7
        october = client.get("/calendar", params={"date": "2026-10-01"})
        assert "国庆节" in october.text and "班" in october.text
        bad = client.get("/calendar", params={"date": "2026-13-01"})
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text


def test_an_editor_schedules_an_approved_article_into_an_empty_slot(planned: Newsroom) -> None:
    slot = first_slot(planned)
    with console_server(planned) as base:
        client, csrf = sign_in(base, "zhouwb")
        page = client.get(
            "/calendar", params={"date": local(slot.due, planned.settings.tz).date().isoformat()}
        )
        assert 'value="article-1"' in page.text
        done = client.post(
            "/calendar/schedule",
            data={"csrf_token": csrf, "slug": "article-1", "campaign": slot.campaign, "number": slot.number},
        )
        assert done.status_code == 200 and "已将 article-1 排入" in done.text
    made = deliveries(planned)
    assert {d.channel for d in made} == set(slot.channels)
    assert all(
        (d.campaign, d.slot_number, d.due_at, d.created_by)
        == (slot.campaign, slot.number, slot.due, "zhouwb")
        for d in made
    )


def test_an_unapproved_article_is_refused_a_slot_with_the_rules_message(planned: Newsroom) -> None:
    slot = first_slot(planned)
    with console_server(planned) as base:
        client, csrf = sign_in(base, "zhouwb")
        refused = client.post(
            "/calendar/schedule",
            data={"csrf_token": csrf, "slug": "article-3", "campaign": slot.campaign, "number": slot.number},
        )
        assert refused.status_code == 400
        assert "尚未审核通过" in refused.text and "not approved yet" in refused.text
    assert deliveries(planned) == []


def test_a_role_without_the_schedule_permission_or_the_csrf_token_changes_nothing(planned: Newsroom) -> None:
    slot = first_slot(planned)
    form = {"slug": "article-1", "campaign": slot.campaign, "number": str(slot.number)}
    with console_server(planned) as base:
        author, csrf = sign_in(base, "wangxm")
        forbidden = author.post("/calendar/schedule", data={**form, "csrf_token": csrf})
        assert forbidden.status_code == 403 and "editor" in forbidden.text
        editor, _ = sign_in(base, "zhouwb")
        forged = editor.post("/calendar/schedule", data=form)
        assert forged.status_code == 403 and "CSRF" in forged.text
    assert deliveries(planned) == []


def test_moving_a_release_into_quiet_hours_warns_as_the_engine_will_hold_it(planned: Newsroom) -> None:
    tz = planned.settings.tz
    tomorrow = local(utc_now(), tz).date() + timedelta(days=1)
    first = schedule(planned, "article-1", ["wechat"], utc_now() + timedelta(hours=3), "zhouwb").items[0]
    with console_server(planned) as base:
        client, csrf = sign_in(base, "liangyu")
        moved = client.post(
            "/calendar/move",
            data={"csrf_token": csrf, "delivery": first.delivery_id, "at": f"{tomorrow.isoformat()}T23:30"},
        )
        assert moved.status_code == 200
        assert "已将 article-1 在 wechat 的发布改到" in moved.text and "公众号夜间不推送" in moved.text
        bad = client.post(
            "/calendar/move", data={"csrf_token": csrf, "delivery": first.delivery_id, "at": "明天"}
        )
        assert bad.status_code == 400 and "格式有误" in bad.text
    (release,) = deliveries(planned)
    assert local(release.due_at, tz).strftime("%Y-%m-%d %H:%M") == f"{tomorrow.isoformat()} 23:30"


def test_a_calendar_subscription_works_without_a_session_until_it_is_revoked(planned: Newsroom) -> None:
    with console_server(planned) as base:
        client, csrf = sign_in(base, "wangxm")
        issued = client.post("/calendar/feeds", data={"csrf_token": csrf})
        assert issued.status_code == 200
        start = issued.text.index("/calendar/ics/")
        path = issued.text[start : issued.text.index(".ics", start) + 4]
        token = path.removeprefix("/calendar/ics/").removesuffix(".ics")
        feed = httpx.get(base + path)
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
        assert "BEGIN:VCALENDAR" in feed.text and "BEGIN:VEVENT" in feed.text
        with read_session(planned.engine) as session:
            (row,) = session.exec(select(CalendarFeed)).all()
        assert token not in row.token_hash and row.username == "wangxm"
        other, other_csrf = sign_in(base, "lijing")
        assert (
            other.post(f"/calendar/feeds/{row.id}/revoke", data={"csrf_token": other_csrf}).status_code == 404
        )
        assert httpx.get(base + path).status_code == 200
        revoked = client.post(f"/calendar/feeds/{row.id}/revoke", data={"csrf_token": csrf})
        assert revoked.status_code == 200 and "已停用" in revoked.text
        assert httpx.get(base + path).status_code == 404
        assert httpx.get(f"{base}/calendar/ics/cal_guess.ics").status_code == 404
