"""A partner's releases due at one instant go as one bundle: what the partner holds of them read
together, their pushes sent side by side, and still each its own request with its own key,
signature and outcome."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from publisher.engine.clock import FixedClock
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.supply import service
from publisher.supply.sandbox import Received, SandboxPartner
from publisher.timeutil import utc_now
from tests.factory import base_meta, write_article
from tests.review_helpers import seed_users
from tests.supply_support import (
    PUSH,
    SECRET,
    SECRET_ENV,
    T0,
    aim_partners,
    approve,
    deliveries,
    holdings,
    run_engine,
)

SLUGS = ("article-1", "article-2", "article-3")


@pytest.fixture
def partner() -> Iterator[SandboxPartner]:
    with SandboxPartner(SECRET) as sandbox:
        yield sandbox


@pytest.fixture
def sroom(
    newsroom_dir: Path, db_url: str, partner: SandboxPartner, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Newsroom]:
    aim_partners(newsroom_dir, partner.url, timeout=5)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(newsroom_dir)
    assert ingest(room).ok
    seed_users(room)
    yield room
    room.close()


def test_a_partners_releases_due_together_are_pushed_side_by_side_each_with_its_own_key(
    sroom: Newsroom, partner: SandboxPartner
) -> None:
    # The partner answers none of them until all three are in flight at once: sent one after
    # another, the first would wait for the others, break the barrier and fail.
    together = threading.Barrier(len(SLUGS), timeout=4)

    def hold_until_all_arrived(_: Received) -> None:
        together.wait()

    partner.on_receive = hold_until_all_arrived
    clock = FixedClock(T0)
    for slug in SLUGS:
        approve(sroom, slug)
        plan = service.supply_article(sroom, slug, "zhouwb", names=[PUSH], at=clock.now(), now=clock.now())
        assert plan.scheduled, plan.skipped
    assert run_engine(sroom, clock) == len(SLUGS)
    assert not together.broken
    done = deliveries(sroom, PUSH)
    assert [d.status for d in done] == ["done"] * len(SLUGS)
    assert sorted(partner.received) == sorted(d.idempotency_key for d in done)
    assert partner.rejected == [] and partner.duplicates == 0  # every one signed, none sent twice
    assert sorted(h.version for h in holdings(sroom, PUSH)) == [1, 1, 1]


def test_a_refusal_in_a_bundle_is_that_deliverys_own_outcome(
    sroom: Newsroom, partner: SandboxPartner
) -> None:
    partner.fail("400:标题超过本报限制")  # whichever push arrives first is refused
    clock = FixedClock(T0)
    for slug in SLUGS:
        approve(sroom, slug)
        service.supply_article(sroom, slug, "zhouwb", names=[PUSH], at=clock.now(), now=clock.now())
    assert run_engine(sroom, clock) == 2
    outcomes = sorted((d.status, d.last_error or "") for d in deliveries(sroom, PUSH))
    assert [status for status, _ in outcomes] == ["done", "done", "failed"]
    assert "标题超过本报限制" in outcomes[2][1]
    assert len(partner.received) == 2 and len(holdings(sroom, PUSH)) == 2


def test_a_bundle_sends_a_correction_over_what_the_partner_holds_and_a_first_version_beside_it(
    sroom: Newsroom, partner: SandboxPartner
) -> None:
    # Real time: the approval of the correction queues its update at the moment it happens.
    clock = FixedClock(utc_now())
    approve(sroom, "article-1")
    service.supply_article(sroom, "article-1", "zhouwb", names=[PUSH], at=clock.now(), now=clock.now())
    assert run_engine(sroom, clock) == 1
    write_article(sroom.content_dir, "article-1.md", base_meta("article-1", title="测试稿件第1篇（更正）"))
    assert ingest(sroom).revised
    approve(sroom, "article-1")
    update = deliveries(sroom, PUSH)[-1]
    assert update.status == "scheduled"
    # A first supply of another article, due at the very instant of the correction's update.
    approve(sroom, "article-2")
    at = update.next_attempt_at
    service.supply_article(sroom, "article-2", "zhouwb", names=[PUSH], at=at, now=clock.now())
    clock.moment = at + timedelta(seconds=1)
    assert run_engine(sroom, clock) == 2
    by_slug = {item.package["slugline"]: item.package for item in partner.received.values()}
    assert by_slug["article-2"]["version"] == "1" and "ednote" not in by_slug["article-2"]
    assert by_slug["article-1"]["headline"] == "测试稿件第1篇（更正）"
    versions = [p["version"] for p in partner.by_uri(by_slug["article-1"]["uri"])]
    assert versions == ["1", "2"] and by_slug["article-1"]["ednote"].startswith("更正")
    assert sorted(h.version for h in holdings(sroom, PUSH)) == [1, 2]
