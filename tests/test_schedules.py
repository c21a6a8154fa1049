"""schedules/: key dates, cadences on the Chinese working-day calendar, windows, pause, bad input.

Every time here is fixed in the test: slots are computed from files, never from the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from publisher.errors import ConfigError, NotFound, Problem
from publisher.ingest import check
from publisher.newsroom import Newsroom
from publisher.schedule import load_schedules
from tests.schedule_helpers import SHANGHAI, campaign, load, local, only_campaigns, write_rules

WEEKLY_THU_FRI = 'kind = "weekly"\nweekdays = ["thu", "fri"]\ntimes = ["10:00"]'


def problems_of(root: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load(root)
    return caught.value.problems


# -- the demo newsroom --------------------------------------------------------------------------


def test_demo_schedules_load_and_the_constitution_day_countdown(newsroom_dir: Path) -> None:
    s = load(newsroom_dir)
    assert set(s.campaigns) == {"constitution-day", "legislation", "deputies", "supervision-rivers-lakes"}
    assert not s.paused
    slots = s.slots("constitution-day")
    assert [x.number for x in slots] == list(range(1, 9))
    assert slots[0].due == datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert slots[-1].due == local(2026, 12, 4, 9)
    assert slots[0].label == "距国家宪法日还有7天" and slots[-1].label == "今天是国家宪法日"
    assert "partner-media-centre" in slots[0].channels and slots[0].column == "news"
    # The legislation column reaches into 2027, which chinese-calendar 1.11 does not cover yet.
    assert any("2027" in w.reason and w.severity == "warning" for w in s.warnings)


def test_times_are_local_and_stored_as_aware_utc(newsroom_dir: Path) -> None:
    s = load(newsroom_dir)
    for key in s.campaigns:
        for slot in s.slots(key):
            assert slot.due.tzinfo is UTC
            assert slot.due.astimezone(SHANGHAI).strftime("%H:%M") in {"09:00", "09:30", "10:00"}
    first = s.slots("legislation")[0]
    assert first.due == datetime(2026, 9, 1, 2, 0, tzinfo=UTC)  # Tue 1 Sep 2026, 10:00 +08:00


def test_meeting_linked_key_dates_come_from_the_register(newsroom_dir: Path) -> None:
    s = load(newsroom_dir)
    sc29 = s.key_dates["sc-29"]
    assert sc29.name == "江澜市第十七届人民代表大会常务委员会第二十九次会议"
    assert (sc29.start, sc29.end, sc29.kind) == (date(2026, 11, 25), date(2026, 11, 27), "sc-meeting")
    assert s.key_dates["npc-session-2027"].kind == "congress-session"
    thread = s.slots("supervision-rivers-lakes")
    assert [x.due.astimezone(SHANGHAI).date() for x in thread] == [
        date(2026, 11, 30),  # sc-29.end + 3d
        date(2026, 12, 16),  # sc-29.end + 19d
        date(2026, 12, 25),  # sc-30.end + 1d
        date(2027, 1, 26),  # sc-29.end + 60d
    ]


def test_numbers_are_stable_across_loads_and_slots_filters_by_time(newsroom_dir: Path) -> None:
    first, again = load(newsroom_dir), load(newsroom_dir)
    for key in first.campaigns:
        assert first.slots(key) == again.slots(key)
    window = first.slots("constitution-day", local(2026, 11, 30), local(2026, 12, 2))
    assert [x.number for x in window] == [4, 5]
    assert first.slot("constitution-day", 8).label == "今天是国家宪法日"
    with pytest.raises(NotFound, match="no-such"):
        first.slots("no-such")


# -- cadences on the working-day calendar ---------------------------------------------------------


NEW_YEAR = "start = 2025-12-29\nend = 2026-01-09"


@pytest.mark.parametrize(
    ("policy", "numbers", "days"),
    [
        # 1 Jan (Thu) and 2 Jan (Fri) are the New Year holiday.
        ("publish", [1, 2, 3, 4], [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 8), date(2026, 1, 9)]),
        ("skip", [3, 4], [date(2026, 1, 8), date(2026, 1, 9)]),
        # Both shift to Sunday 4 Jan, a 调休 make-up working day; one slot keeps that instant.
        ("shift", [1, 3, 4], [date(2026, 1, 4), date(2026, 1, 8), date(2026, 1, 9)]),
    ],
)
def test_weekly_cadence_across_new_year(
    newsroom_dir: Path, policy: str, numbers: list[int], days: list[date]
) -> None:
    only_campaigns(
        newsroom_dir,
        column=campaign(WEEKLY_THU_FRI, window=NEW_YEAR, header=f'non_working_day = "{policy}"'),
    )
    slots = load(newsroom_dir).slots("column")
    assert [x.number for x in slots] == numbers
    assert [x.due.astimezone(SHANGHAI).date() for x in slots] == days
    assert all(x.due.astimezone(SHANGHAI).hour == 10 and x.warning is None for x in slots)
    if policy == "shift":
        assert slots[0].shifted_from == date(2026, 1, 1) and slots[1].shifted_from is None


def test_tiaoxiu_weekends_are_working_days(newsroom_dir: Path) -> None:
    # February 2026: Saturdays 14 and 28 are make-up working days; 15-23 is the Spring Festival.
    only_campaigns(
        newsroom_dir,
        saturdays=campaign(
            'kind = "weekly"\nweekdays = ["周六"]\ntimes = ["09:00"]',
            window="start = 2026-02-01\nend = 2026-02-28",
            header='non_working_day = "skip"',
        ),
        daily=campaign(
            'kind = "daily"\ntimes = ["08:30"]',
            window="start = 2026-02-13\nend = 2026-02-24",
            header='non_working_day = "skip"',
        ),
    )
    s = load(newsroom_dir)
    assert [x.due.astimezone(SHANGHAI).date() for x in s.slots("saturdays")] == [
        date(2026, 2, 14),
        date(2026, 2, 28),
    ]
    daily = s.slots("daily")
    assert [x.due.astimezone(SHANGHAI).date() for x in daily] == [
        date(2026, 2, 13),
        date(2026, 2, 14),
        date(2026, 2, 24),
    ]
    assert [x.number for x in daily] == [1, 2, 12]  # the holiday leaves a gap, nothing renumbered


def test_shift_over_the_national_day_holiday_lands_on_the_next_working_day(newsroom_dir: Path) -> None:
    only_campaigns(
        newsroom_dir,
        column=campaign(
            'kind = "weekly"\nweekdays = ["mon", "wed"]\ntimes = ["10:00"]',
            window="start = 2026-09-28\nend = 2026-10-14",
            header='non_working_day = "shift"',
        ),
    )
    slots = load(newsroom_dir).slots("column")
    got = [(x.number, x.due.astimezone(SHANGHAI).date(), x.shifted_from) for x in slots]
    assert got == [
        (1, date(2026, 9, 28), None),
        (2, date(2026, 9, 30), None),
        # Mon 5 and Wed 7 Oct are holidays; Thu 8 Oct is the next working day; #4 folds into #3.
        (3, date(2026, 10, 8), date(2026, 10, 5)),
        (5, date(2026, 10, 12), None),
        (6, date(2026, 10, 14), None),
    ]


def test_uncovered_year_falls_back_to_weekdays_with_a_warning(newsroom_dir: Path) -> None:
    only_campaigns(
        newsroom_dir,
        column=campaign(
            'kind = "daily"\ntimes = ["09:00"]',
            window="start = 2027-01-01\nend = 2027-01-10",
            header='non_working_day = "skip"',
        ),
    )
    s = load(newsroom_dir)
    days = [x.due.astimezone(SHANGHAI).date() for x in s.slots("column")]
    assert days == [date(2027, 1, d) for d in (1, 4, 5, 6, 7, 8)]
    assert all(
        x.warning and "2027" in x.warning and "chinese-calendar" in x.warning for x in s.slots("column")
    )
    assert [(w.file, w.severity) for w in s.warnings] == [("schedules/campaigns/column.toml", "warning")]
    assert "2027" in s.warnings[0].reason

    # The newsroom enters the State Council's notice before the library ships it.
    write_rules(newsroom_dir, '[[calendar.override]]\ndate = 2027-01-01\nworking = false\nname = "元旦"\n')
    assert date(2027, 1, 1) not in [
        x.due.astimezone(SHANGHAI).date() for x in load(newsroom_dir).slots("column")
    ]

    write_rules(newsroom_dir, '[calendar]\nfallback = "every-day"\n')
    assert len(load(newsroom_dir).slots("column")) == 10


def test_publish_policy_never_consults_the_calendar(newsroom_dir: Path) -> None:
    only_campaigns(
        newsroom_dir,
        column=campaign('kind = "daily"\ntimes = ["09:00"]', window="start = 2027-01-01\nend = 2027-01-03"),
    )
    s = load(newsroom_dir)
    assert [x.warning for x in s.slots("column")] == [None, None, None] and not s.warnings


# -- relative windows ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "first", "last"),
    [
        ('"宪法日 - 7d"', '"宪法日"', date(2026, 11, 27), date(2026, 12, 4)),
        ('"constitution-day - 1w"', '"constitution-day + 2天"', date(2026, 11, 27), date(2026, 12, 6)),
        ('"sc-29.end + 1d"', '"sc-17-30.start"', date(2026, 11, 28), date(2026, 12, 22)),
        ('"宪法宣传周"', '"宪法宣传周.end"', date(2026, 11, 30), date(2026, 12, 6)),
        ("2026-11-01", '"2026-11-03"', date(2026, 11, 1), date(2026, 11, 3)),
    ],
)
def test_relative_windows(newsroom_dir: Path, start: str, end: str, first: date, last: date) -> None:
    only_campaigns(
        newsroom_dir,
        rel=campaign(
            'kind = "daily"\ntimes = ["09:00"]', window=f"start = {start}\nend = {end}", header="year = 2026"
        ),
    )
    s = load(newsroom_dir)
    assert (s.campaigns["rel"].start, s.campaigns["rel"].end) == (first, last)
    slots = s.slots("rel")
    assert slots[0].due == local(first.year, first.month, first.day, 9)
    assert slots[-1].due == local(last.year, last.month, last.day, 9)


def test_countdown_to_a_key_date_beyond_the_window(newsroom_dir: Path) -> None:
    only_campaigns(
        newsroom_dir,
        cd=campaign(
            'kind = "countdown"\nto = "npc-session-2027"\ntimes = ["08:00"]',
            window='start = "npc-session-2027 - 3d"\nend = "npc-session-2027.end"',
        ),
    )
    labels = [x.label for x in load(newsroom_dir).slots("cd")]
    assert labels[0] == "距江澜市第十七届人民代表大会第七次会议还有3天"
    assert labels[3] == "今天是江澜市第十七届人民代表大会第七次会议"
    assert labels[-1] == "江澜市第十七届人民代表大会第七次会议后第3天"


# -- quiet hours, blackouts, the pause switch ---------------------------------------------------------


def test_newsroom_quiet_hours_and_blackouts(newsroom_dir: Path) -> None:
    s = load(newsroom_dir)
    late = local(2026, 12, 1, 23, 0)
    reason = s.window_block("wechat", late)
    assert reason is not None and "静默时段 22:00–07:30" in reason and "quiet hours" in reason
    assert s.window_block("website", late) is None
    assert s.next_open("wechat", late) == local(2026, 12, 2, 7, 30)
    assert s.window_block("wechat", local(2026, 12, 2, 7, 30)) is None  # the end is open
    assert s.next_open("wechat", local(2026, 12, 2, 7, 30)) == local(2026, 12, 2, 7, 30)
    # Early morning, before the end on the same day.
    assert s.next_open("wechat", local(2026, 12, 2, 3, 0)) == local(2026, 12, 2, 7, 30)

    during = local(2026, 12, 13, 1, 0)
    blocked = s.window_block("website", during)
    assert blocked is not None and "停发时段" in blocked and "服务器迁移" in blocked and "blackout" in blocked
    assert s.window_block("partner-media-centre", during) is None
    assert s.next_open("website", during) == local(2026, 12, 13, 6, 0)


def test_overlapping_windows_chain_to_the_first_open_minute(newsroom_dir: Path) -> None:
    write_rules(
        newsroom_dir,
        '[[quiet_hours]]\nstart = "22:00"\nend = "07:30"\nchannels = ["wechat"]\n\n'
        '[[blackout]]\nstart = 2026-12-01T20:00:00\nend = 2026-12-01T23:00:00\nreason = "系统演练"\n',
    )
    only_campaigns(newsroom_dir)
    s = load(newsroom_dir)
    # 20:30 blackout -> 23:00 quiet hours -> 07:30 on 2 Dec.
    assert s.next_open("wechat", local(2026, 12, 1, 20, 30)) == local(2026, 12, 2, 7, 30)
    assert s.next_open("website", local(2026, 12, 1, 20, 30)) == local(2026, 12, 1, 23, 0)


def test_annual_key_date_needs_a_year(newsroom_dir: Path) -> None:
    only_campaigns(
        newsroom_dir,
        cd=campaign('kind = "daily"\ntimes = ["09:00"]', window='start = "宪法日 - 7d"\nend = "宪法日"'),
    )
    problems = problems_of(newsroom_dir)
    assert [(p.file, p.field) for p in problems] == [
        ("schedules/campaigns/cd.toml", "window.start"),
        ("schedules/campaigns/cd.toml", "window.end"),
    ]
    assert "year" in problems[0].reason and problems[0].line == 6


def test_campaign_blackouts_and_quiet_hours_shape_the_slots(newsroom_dir: Path) -> None:
    only_campaigns(
        newsroom_dir,
        evening=campaign(
            'kind = "daily"\ntimes = ["21:00", "22:30"]',
            window="start = 2026-12-01\nend = 2026-12-05",
            extra='[[quiet_hours]]\nstart = "22:00"\nend = "06:00"\nchannels = ["wechat"]\n\n'
            '[[blackout]]\nkey_date = "宪法日"\n\n'
            "[[blackout]]\nstart = 2026-12-02T20:00:00\nend = 2026-12-02T21:30:00\n",
            header="year = 2026",
        ),
    )
    slots = load(newsroom_dir).slots("evening")
    got = [(x.number, x.due.astimezone(SHANGHAI).strftime("%m-%d %H:%M"), x.channels) for x in slots]
    assert got == [
        (1, "12-01 21:00", ("website", "wechat")),
        (2, "12-01 22:30", ("website",)),  # wechat's quiet hours
        (4, "12-02 22:30", ("website",)),  # 21:00 on 2 Dec is in the blackout: #3 is a gap
        (5, "12-03 21:00", ("website", "wechat")),
        (6, "12-03 22:30", ("website",)),
        # 4 Dec (宪法日) is blacked out for the whole day: #7 and #8 are gaps.
        (9, "12-05 21:00", ("website", "wechat")),
        (10, "12-05 22:30", ("website",)),
    ]


def test_slots_in_newsroom_windows_carry_a_warning(newsroom_dir: Path) -> None:
    only_campaigns(
        newsroom_dir,
        late=campaign('kind = "daily"\ntimes = ["23:00"]', window="start = 2026-12-01\nend = 2026-12-01"),
    )
    (slot,) = load(newsroom_dir).slots("late")
    assert slot.channels == ("website", "wechat")  # the engine holds it on wechat until 07:30
    assert slot.warning is not None and slot.warning.startswith("wechat: 静默时段")


def test_the_pause_switch(newsroom_dir: Path) -> None:
    assert load(newsroom_dir).paused is False
    write_rules(newsroom_dir, 'paused = true\npause_reason = "突发事件，暂停一切推送"\n')
    s = load(newsroom_dir)
    assert s.paused is True and s.pause_reason == "突发事件，暂停一切推送"


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [('name = "测试"\nchannels = website\n', 2), ('name = "测试"\n\nchannels = ["website"\n', 3)],
)
def test_bad_toml_names_the_line(newsroom_dir: Path, text: str, line: int) -> None:
    only_campaigns(newsroom_dir, broken=text)
    (problem,) = problems_of(newsroom_dir)
    assert problem.file == "schedules/campaigns/broken.toml" and problem.line == line
    assert "TOML 语法错误" in problem.reason


@pytest.mark.parametrize(
    ("text", "field", "line", "needle"),
    [
        (
            campaign(WEEKLY_THU_FRI, window=NEW_YEAR).replace('"legislation"', '"体育"'),
            "column",
            2,
            "未知栏目",
        ),
        (
            campaign(WEEKLY_THU_FRI, window=NEW_YEAR).replace('"wechat"]', '"weibo"]'),
            "channels.1",
            3,
            "unknown channel 'weibo'",
        ),
        (
            campaign(WEEKLY_THU_FRI, window='start = "春节 - 3d"\nend = 2026-01-09'),
            "window.start",
            6,
            "未知的关键日期",
        ),
        (
            campaign('kind = "weekly"\nweekdays = ["thu"]\ntimes = ["25:00"]', window=NEW_YEAR),
            "cadence.times.0",
            12,
            "HH:MM",
        ),
        (
            campaign(
                'kind = "weekly"\nweekdays = ["thursday", "礼拜八"]\ntimes = ["09:00"]', window=NEW_YEAR
            ),
            "cadence.weekdays.1",
            11,
            "weekday",
        ),
        (
            campaign(WEEKLY_THU_FRI, window="start = 2026-01-09\nend = 2026-01-01"),
            "window.end",
            7,
            "ends before it starts",
        ),
        (campaign(WEEKLY_THU_FRI), "", None, "needs a [window]"),
        (campaign('kind = "monthly"', window=NEW_YEAR), "cadence.kind", 10, "kind"),
        (
            campaign(
                WEEKLY_THU_FRI, window=NEW_YEAR, extra='[[quiet_hours]]\nstart = "22:00"\nend = "22:00"\n'
            ),
            "quiet_hours.0",
            14,
            "same time",
        ),
        (
            campaign(
                WEEKLY_THU_FRI, window=NEW_YEAR, extra="[[blackout]]\nstart = 2026-01-02\nend = 2026-01-01\n"
            ),
            "blackout.0.end",
            16,
            "blackout ends before it starts",
        ),
        (
            campaign(WEEKLY_THU_FRI, window=NEW_YEAR, header='label = "{name} {bogus}"'),
            "label",
            4,
            "label template",
        ),
        (campaign(WEEKLY_THU_FRI, window=NEW_YEAR, header="colour = 3"), "colour", 4, "unknown key 'colour'"),
    ],
)
def test_bad_campaign_fields_name_file_field_and_line(
    newsroom_dir: Path, text: str, field: str, line: int | None, needle: str
) -> None:
    only_campaigns(newsroom_dir, bad=text)
    problems = problems_of(newsroom_dir)
    assert len(problems) == 1, problems
    (p,) = problems
    assert p.file == "schedules/campaigns/bad.toml"
    assert (p.field or "") == field
    assert p.line == line
    assert needle in p.reason


def test_every_problem_in_every_file_at_once(newsroom_dir: Path) -> None:
    only_campaigns(
        newsroom_dir,
        one=campaign(WEEKLY_THU_FRI, window=NEW_YEAR)
        .replace('"legislation"', '"体育"')
        .replace('"wechat"]', '"weibo"]'),
        two=campaign('kind = "daily"\ntimes = ["7pm"]', window='start = "nowhere"\nend = 2026-01-01'),
        Bad_Name=campaign(WEEKLY_THU_FRI, window=NEW_YEAR),
    )
    kd = newsroom_dir / "schedules" / "key-dates.toml"
    kd.write_text(
        kd.read_text(encoding="utf-8")
        + '\n[[dated]]\nkey = "sc-31"\nmeeting = "sc-17-31"\n'
        + '\n[[dated]]\nkey = "sc-29-again"\nmeeting = "sc-17-29"\nstart = 2026-11-24\n'
        + '\n[[annual]]\nkey = "dup"\nname = "国家宪法日"\ndate = "13-01"\n',
        encoding="utf-8",
    )
    write_rules(newsroom_dir, '[[quiet_hours]]\nstart = "22:00"\nend = "07:00"\nchannels = ["tiktok"]\n')
    problems = problems_of(newsroom_dir)
    where = {(p.file, p.field) for p in problems}
    assert ("schedules/campaigns/one.toml", "column") in where
    assert ("schedules/campaigns/one.toml", "channels.1") in where
    assert ("schedules/campaigns/two.toml", "cadence.times.0") in where
    assert ("schedules/key-dates.toml", "annual.2.date") in where
    assert ("schedules/newsroom.toml", "quiet_hours.0.channels.0") in where
    assert any(p.file == "schedules/campaigns/Bad-Name.toml" and "file name" in p.reason for p in problems)
    with pytest.raises(ConfigError) as caught:
        load(newsroom_dir)
    assert "schedules/campaigns/one.toml:2 [column]" in str(caught.value)


def test_key_date_problems(newsroom_dir: Path) -> None:
    kd = newsroom_dir / "schedules" / "key-dates.toml"
    kd.write_text(
        kd.read_text(encoding="utf-8")
        + '\n[[dated]]\nkey = "sc-31"\nmeeting = "sc-17-31"\n'
        + '\n[[dated]]\nkey = "sc-29-again"\nmeeting = "sc-17-29"\nstart = 2026-11-24\n'
        + '\n[[dated]]\nkey = "dup"\nname = "国家宪法日"\nstart = 2026-12-04\n',
        encoding="utf-8",
    )
    problems = problems_of(newsroom_dir)
    reasons = {p.field: p.reason for p in problems}
    assert "no meeting 'sc-17-31'" in reasons["dated.6.meeting"]
    assert "differs from meetings.toml" in reasons["dated.7.start"]
    assert "names two key dates" in reasons["dated.8.key"]
    assert all(p.file == "schedules/key-dates.toml" and p.line for p in problems)

    only_campaigns(newsroom_dir)
    kd.write_text('[[dated]]\nkey = "no-date"\nname = "无日期"\n', encoding="utf-8")
    (problem,) = problems_of(newsroom_dir)
    assert problem.field == "dated.0" and problem.line == 1 and "needs `start`" in problem.reason


def test_publisher_check_reports_schedules_problems(newsroom_dir: Path) -> None:
    only_campaigns(
        newsroom_dir, bad=campaign(WEEKLY_THU_FRI, window=NEW_YEAR).replace('"legislation"', '"体育"')
    )
    report = check(Newsroom(newsroom_dir))
    assert not report.ok
    assert any(p.file == "schedules/campaigns/bad.toml" and p.field == "column" for p in report.problems)


def test_publisher_check_passes_the_demo_with_only_warnings(newsroom_dir: Path) -> None:
    report = check(Newsroom(newsroom_dir))
    assert report.ok
    assert any(p.severity == "warning" and "2027" in p.reason for p in report.problems)


def test_no_schedules_folder_is_an_empty_plan(newsroom_dir: Path) -> None:
    import shutil

    shutil.rmtree(newsroom_dir / "schedules")
    s = load_schedules(Newsroom(newsroom_dir))
    assert s.campaigns == {} and not s.paused
    assert s.next_open("wechat", local(2026, 1, 1)) == local(2026, 1, 1)
    assert s.window_block("wechat", local(2026, 1, 1) + timedelta(hours=23)) is None
