"""The worker's decision for a due delivery, called with plain values (no database, no clock), and
the rules it asks kept in one place each: the embargo in `review/gate.py`, quiet hours in
`schedule/windows.py`."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from publisher.channels.kinds import PartnerSettings, WebsiteSettings, WechatSettings
from publisher.channels.registry import Channel, Limits
from publisher.delivery.states import DeliveryAction
from publisher.engine.decision import (
    Decision,
    Defer,
    DueFacts,
    Fail,
    Go,
    Hold,
    Windows,
    asks_gate,
    decide_due,
)
from publisher.review.gate import GateDecision
from publisher.schedule.schedules import Schedules
from publisher.schedule.windows import QuietWindow, daily_windows, next_open
from publisher.timeutil import day_start, next_day_start

SH = ZoneInfo("Asia/Shanghai")
PACKAGE = Path(__file__).resolve().parent.parent / "publisher"

MORNING = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai: no window blocks
MIDNIGHT = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 00:00 in Shanghai: inside 23:00–06:30
QUIET_ENDS = datetime(2026, 12, 3, 22, 30, tzinfo=UTC)  # 06:30 in Shanghai
EMBARGO_TEXT = "2026-12-04T12:00:00+08:00"
EMBARGO = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)
EMBARGO_REASON = f"禁发至 {EMBARGO_TEXT} / embargoed until {EMBARGO_TEXT}"
QUIET_REASON = "静默时段 23:00–06:30 / quiet hours 23:00–06:30 (Asia/Shanghai)"
REFUSAL = "尚未提交审核 / never submitted for review"

WINDOWS = Schedules(campaigns={}, paused=False, tz=SH, windows=(QuietWindow(time(23), time(6, 30), SH),))
WEBSITE = Channel(
    "website",
    "website",
    "网站",
    "",
    True,
    False,
    WebsiteSettings(base_url="https://npc.example"),
    "website.toml",
)
PARTNER = Channel(
    "xinhua",
    "partner",
    "新华社",
    "",
    True,
    True,
    PartnerSettings(outlet="新华社", mode=["pull"]),
    "xinhua.toml",
)
TRUSTED = replace(PARTNER, settings=PartnerSettings(outlet="新华社", mode=["pull"], trusted_for_embargo=True))

APPROVED = DueFacts("rev-1", {"slug": "a"}, GateDecision.allow())
EMBARGOED = DueFacts("rev-1", {"slug": "a", "embargo": EMBARGO_TEXT}, GateDecision.deny(EMBARGO_REASON))
EMBARGOED_TRUSTED = DueFacts("rev-1", {"slug": "a", "embargo": EMBARGO_TEXT}, GateDecision.allow())
REFUSED = DueFacts("rev-1", {"slug": "a"}, GateDecision.deny(REFUSAL))


@dataclass(frozen=True)
class Due:
    channel: str
    action: str = DeliveryAction.PUBLISH


@dataclass(frozen=True)
class Case:
    delivery: Due
    facts: DueFacts
    channel: Channel | None
    windows: Windows | None
    now: datetime
    expected: Decision


CASES = {
    "a takedown goes out in quiet hours, under embargo, without the gate": Case(
        Due("website", DeliveryAction.TAKE_DOWN),
        DueFacts("rev-1", {"embargo": EMBARGO_TEXT}, None),
        WEBSITE,
        WINDOWS,
        MIDNIGHT,
        Go(),
    ),
    "a release in quiet hours waits until they end": Case(
        Due("website"), APPROVED, WEBSITE, WINDOWS, MIDNIGHT, Defer(QUIET_ENDS, QUIET_REASON)
    ),
    "a release with no windows to keep goes at midnight": Case(
        Due("website"), APPROVED, WEBSITE, None, MIDNIGHT, Go()
    ),
    "an embargoed release waits for the embargo's moment": Case(
        Due("website"), EMBARGOED, WEBSITE, WINDOWS, MORNING, Defer(EMBARGO, EMBARGO_REASON, "rev-1")
    ),
    "an embargoed release to an untrusted partner waits too": Case(
        Due("xinhua"), EMBARGOED, PARTNER, WINDOWS, MORNING, Defer(EMBARGO, EMBARGO_REASON, "rev-1")
    ),
    "a partner trusted with embargoes is not deferred": Case(
        Due("xinhua"), EMBARGOED_TRUSTED, TRUSTED, WINDOWS, MORNING, Go()
    ),
    "an embargo lifts at its moment exactly": Case(
        Due("website"),
        DueFacts("rev-1", {"embargo": EMBARGO_TEXT}, GateDecision.allow()),
        WEBSITE,
        None,
        EMBARGO,
        Go(),
    ),
    "a release the gate refuses is held with the gate's reasons": Case(
        Due("website"), REFUSED, WEBSITE, WINDOWS, MORNING, Hold((REFUSAL,), "rev-1")
    ),
    "a release the gate was not asked about is held, never sent": Case(
        Due("website"),
        DueFacts("rev-1", {}, None),
        WEBSITE,
        WINDOWS,
        MORNING,
        Hold(("未经发布闸门检查 / the publication gate was not asked",), "rev-1"),
    ),
    "a release on a disabled channel fails": Case(
        Due("website"),
        APPROVED,
        replace(WEBSITE, enabled=False),
        WINDOWS,
        MORNING,
        Fail("渠道不存在或已停用 / channel website unavailable"),
    ),
    "a release on a channel that no longer exists fails": Case(
        Due("gone"), APPROVED, None, WINDOWS, MORNING, Fail("渠道不存在或已停用 / channel gone unavailable")
    ),
    "a disabled channel fails even in quiet hours": Case(
        Due("website"),
        APPROVED,
        replace(WEBSITE, enabled=False),
        WINDOWS,
        MIDNIGHT,
        Fail("渠道不存在或已停用 / channel website unavailable"),
    ),
    "an article without a revision fails": Case(
        Due("website"), DueFacts(None), WEBSITE, WINDOWS, MORNING, Fail("稿件没有版本 / no revision")
    ),
    "an approved release outside every window goes": Case(
        Due("website"), APPROVED, WEBSITE, WINDOWS, MORNING, Go()
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_decision_for_a_due_delivery(name: str) -> None:
    case = CASES[name]
    assert decide_due(case.delivery, case.facts, case.channel, case.windows, case.now) == case.expected


def test_only_a_release_asks_the_gate_never_a_takedown() -> None:
    assert asks_gate(Due("website"))
    assert not asks_gate(Due("website", DeliveryAction.TAKE_DOWN))


def test_a_wechat_accounts_quiet_hours_are_the_schedules_quiet_windows() -> None:
    windows = daily_windows(["22:00-07:00", "12:00-12:00"], SH)
    # The empty span blocks nothing (as the account's own check always read it).
    assert windows == (QuietWindow(time(22), time(7), SH),)
    at_night = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    assert next_open(windows, "wechat", at_night) == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)
    assert next_open(windows, "wechat", MORNING) == MORNING
    assert next_open(daily_windows(["12:00-12:00"], SH), "wechat", MORNING) == MORNING


def _embargo_readers(tree: ast.AST) -> list[int]:
    """Lines that read `"embargo"` out of a mapping: `x["embargo"]` or `x.get("embargo")`."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            key: ast.expr | None = node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            key = node.args[0] if node.args else None
        else:
            continue
        if isinstance(key, ast.Constant) and key.value == "embargo":
            lines.append(node.lineno)
    return lines


def test_only_the_gate_module_reads_an_embargo_from_the_front_matter() -> None:
    owner = PACKAGE / "review" / "gate.py"
    copies = {
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in PACKAGE.rglob("*.py")
        if path != owner
        for line in _embargo_readers(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert copies == set(), "ask publisher.review.gate.embargo_of / embargo_holds instead"
    assert _embargo_readers(ast.parse(owner.read_text(encoding="utf-8")))  # the owner still reads it


@pytest.mark.parametrize(
    ("limits", "in_flight", "done_today", "room"),
    [
        (Limits(), 5, 50, None),
        (Limits(max_in_flight=2), 1, 50, 1),
        (Limits(per_day=3), 1, 1, 1),
        (Limits(per_day=3, max_in_flight=4), 0, 3, 0),
        (Limits(per_day=3, max_in_flight=1), 2, 0, 0),
    ],
)
def test_a_channel_starts_no_more_than_its_quotas_leave_room_for(
    limits: Limits, in_flight: int, done_today: int, room: int | None
) -> None:
    assert limits.room(in_flight, done_today) == room


def test_a_channels_day_is_spent_only_when_it_has_a_daily_quota_and_used_it() -> None:
    assert Limits(per_day=2).day_spent(2) and not Limits(per_day=2).day_spent(1)
    assert not Limits(max_in_flight=1).day_spent(1000)


def test_a_wechat_account_that_mass_sends_has_one_push_a_day() -> None:
    account = {"app_id": "wx1", "app_secret_env": "WX_SECRET"}
    assert WechatSettings(**account, pushes_per_day=5).push_limit == 5
    assert WechatSettings(**account, mass_send=True).push_limit == 1


def test_the_newsrooms_day_runs_from_local_midnight_to_local_midnight() -> None:
    late = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)  # 01:30 on the 4th in Shanghai
    assert day_start(late, SH) == datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
    assert next_day_start(late, SH) == datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
