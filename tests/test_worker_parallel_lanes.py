"""A channel whose performer takes several sends at once (`ParallelPerformer`, the sink) has its
claims of a round shared by that many lanes (`engine/lanes.py`). Each delivery is still checked
just before its own send, on its own lane, so a change committed while another lane's send is in
flight stops the deliveries checked after it; one article's deliveries never overlap and go in due
order; nothing is sent twice."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlmodel import Session, col, select

from publisher.delivery.contract import ParallelPerformer, Receipt
from publisher.engine import retraction, scheduling
from publisher.engine.claims import Claim
from publisher.engine.clock import FixedClock
from publisher.engine.due_check import DueCheck, DueReader
from publisher.engine.lanes import SharedClaims
from publisher.engine.performers import SinkPerformer
from publisher.engine.scheduling import idempotency_key
from publisher.engine.worker import DeliveryWorker
from publisher.newsroom import Newsroom
from publisher.store.tables import Article, Delivery, Revision
from tests.review_helpers import approve
from tests.sink import Sink

T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


def deliveries(room: Newsroom) -> list[Delivery]:
    with Session(room.engine) as s:
        return list(s.exec(select(Delivery).order_by(col(Delivery.id))))


def article_ids(room: Newsroom) -> dict[str, int]:
    with Session(room.engine) as s:
        return {a.slug: a.id for a in s.exec(select(Article)) if a.id is not None}


def schedule_many(room: Newsroom, per_article: int, slugs: list[str]) -> None:
    """`per_article` sink releases of each article, due a millisecond apart from T0 on, interleaved."""
    ids = article_ids(room)
    rows = []
    for n in range(per_article * len(slugs)):
        slug = slugs[n % len(slugs)]
        due = T0 + timedelta(milliseconds=n)
        rows.append(
            {
                "article_id": ids[slug],
                "channel": "sink",
                "due_at": due,
                "status": "scheduled",
                "attempts": 0,
                "next_attempt_at": due,
                "created_by": "test",
                "created_at": T0,
                "updated_at": T0,
                "idempotency_key": idempotency_key(f"{slug}-{n}", "sink", due),
            }
        )
    with room.engine.begin() as conn:
        conn.execute(insert(Delivery), rows)


def test_the_sink_declares_that_it_takes_two_sends_at_once() -> None:
    performer = SinkPerformer("http://127.0.0.1:9/")
    assert isinstance(performer, ParallelPerformer) and performer.parallel == 2


def test_a_retraction_committed_while_another_lane_sends_stops_the_release_checked_after_it(
    sink_room: Newsroom, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # article-1's send is held in flight; meanwhile the other lane comes to article-2's due check:
    # the retraction is committed just before that check, in the very window a release checked
    # ahead of its turn would miss. The check sees it, and article-2 is never sent.
    for slug in ("article-1", "article-2"):
        approve(sink_room, slug)
        scheduling.schedule(sink_room, slug, ["sink"], T0, "zhouwb", now=T0 - timedelta(days=1))
    ids = article_ids(sink_room)
    in_flight, retracted = threading.Event(), threading.Event()
    real_check, real_perform = DueReader.check, SinkPerformer.perform

    def check(reader: DueReader, article_id: int) -> DueCheck:
        if article_id == ids["article-2"] and not retracted.is_set():
            assert in_flight.wait(10), "the lanes did not overlap"
            retraction.retract(sink_room, "article-2", "数据有误", "zhouwb", now=T0)
            retracted.set()
        return real_check(reader, article_id)

    def perform(performer: SinkPerformer, delivery: Delivery, revision: Revision) -> Receipt:
        if delivery.article_id == ids["article-1"]:
            in_flight.set()
            assert retracted.wait(10)  # article-1's send stays in flight until the change is committed
        return real_perform(performer, delivery, revision)

    monkeypatch.setattr(DueReader, "check", check)
    monkeypatch.setattr(SinkPerformer, "perform", perform)
    DeliveryWorker(sink_room, clock=FixedClock(T0)).run_once()
    status = {d.article_id: d.status for d in deliveries(sink_room) if d.action == "publish"}
    assert status == {ids["article-1"]: "done", ids["article-2"]: "held"}
    assert [b["action"] for b in sink.bodies.values()] == ["publish", "kill"]  # article-2: only its takedown
    assert sink.duplicates == 0


def test_every_send_follows_its_own_due_check_on_its_own_lane(
    sink_room: Newsroom, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a lane does between a delivery's due check and its send is that delivery's decision
    # alone: the next check on that lane comes after the send, so no check is read ahead of its turn.
    for slug in ("article-1", "article-2", "article-3"):
        approve(sink_room, slug)
    schedule_many(sink_room, 6, ["article-1", "article-2", "article-3"])
    sink.delay = 0.005
    events: dict[int, list[tuple[str, int]]] = defaultdict(list)  # by thread
    real_check, real_perform = DueReader.check, SinkPerformer.perform

    def check(reader: DueReader, article_id: int) -> DueCheck:
        events[threading.get_ident()].append(("check", article_id))
        return real_check(reader, article_id)

    def perform(performer: SinkPerformer, delivery: Delivery, revision: Revision) -> Receipt:
        events[threading.get_ident()].append(("send", delivery.article_id))
        return real_perform(performer, delivery, revision)

    monkeypatch.setattr(DueReader, "check", check)
    monkeypatch.setattr(SinkPerformer, "perform", perform)
    assert DeliveryWorker(sink_room, clock=FixedClock(T0 + timedelta(seconds=1))).run_once() == 18
    assert len(events) == 2  # two lanes shared the channel
    for lane in events.values():
        assert [kind for kind, _ in lane] == ["check", "send"] * (len(lane) // 2)
        assert all(lane[n][1] == lane[n + 1][1] for n in range(0, len(lane), 2))
    assert sink.distinct == 18 and sink.duplicates == 0


def test_one_articles_releases_never_overlap_and_go_in_due_order(
    sink_room: Newsroom, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    for slug in ("article-1", "article-2"):
        approve(sink_room, slug)
    schedule_many(sink_room, 8, ["article-1", "article-2"])
    flying: dict[int, int] = defaultdict(int)
    most_at_once = 0
    overlapped_one_article = False
    sent: list[tuple[int, datetime]] = []
    lock = threading.Lock()
    real = SinkPerformer.perform

    def perform(performer: SinkPerformer, delivery: Delivery, revision: Revision) -> Receipt:
        nonlocal most_at_once, overlapped_one_article
        with lock:
            flying[delivery.article_id] += 1
            overlapped_one_article |= flying[delivery.article_id] > 1
            most_at_once = max(most_at_once, sum(flying.values()))
            sent.append((delivery.article_id, delivery.due_at))
        try:
            return real(performer, delivery, revision)
        finally:
            with lock:
                flying[delivery.article_id] -= 1

    sink.delay = 0.01
    monkeypatch.setattr(SinkPerformer, "perform", perform)
    assert DeliveryWorker(sink_room, clock=FixedClock(T0 + timedelta(seconds=1))).run_once() == 16
    assert most_at_once == 2 and not overlapped_one_article
    for article in {a for a, _ in sent}:
        dues = [due for a, due in sent if a == article]
        assert dues == sorted(dues) and len(dues) == 8
    assert all(d.status == "done" for d in deliveries(sink_room))
    assert sink.distinct == 16 and sink.duplicates == 0


def claim(delivery_id: int, article_id: int) -> Claim:
    delivery = Delivery(
        id=delivery_id,
        article_id=article_id,
        channel="sink",
        due_at=T0,
        status="claimed",
        next_attempt_at=T0,
        idempotency_key=f"k{delivery_id}",
        created_by="test",
        created_at=T0,
        updated_at=T0,
    )
    return Claim(delivery, reclaimed=False)


def test_shared_claims_hand_out_the_earliest_claim_of_an_article_no_lane_holds() -> None:
    a1, b1, a2, b2, c1 = claim(1, 10), claim(2, 20), claim(3, 10), claim(4, 20), claim(5, 30)
    shared = SharedClaims([a1, b1, a2, b2, c1])
    assert shared.take(None) is a1
    assert shared.take(None) is b1  # article 10 is held: its next one waits
    assert shared.take(None) is c1
    got: list[Any] = []
    waiting = threading.Thread(target=lambda: got.append(shared.take(None)))
    waiting.start()
    waiting.join(0.1)
    assert waiting.is_alive()  # both pending claims' articles are held
    assert shared.take(a1) is a2  # finished with a1: article 10's next
    shared.take(b1)  # finished with b1: the waiting lane gets b2, or this one does
    waiting.join(5)
    assert not waiting.is_alive()


def test_a_failed_lane_takes_back_what_no_lane_has_started() -> None:
    a1, b1, a2, b2 = claim(1, 10), claim(2, 20), claim(3, 10), claim(4, 20)
    shared = SharedClaims([a1, b1, a2, b2])
    failing, other = shared.turns(), shared.turns()
    mine, theirs = iter(failing), iter(other)
    assert next(mine) is a1 and next(theirs) is b1
    assert failing.unfinished() == [a1, a2, b2]  # its own, and every claim not yet handed out
    assert list(theirs) == []  # the other lane finishes b1 and finds nothing left


def test_a_lane_that_fails_gives_back_what_it_held_and_what_no_lane_had_started(
    sink_room: Newsroom, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    for slug in ("article-1", "article-2", "article-3"):
        approve(sink_room, slug)
    schedule_many(sink_room, 4, ["article-1", "article-2", "article-3"])
    sink.delay = 0.01
    calls: list[int] = []
    lock = threading.Lock()
    real = DeliveryWorker._prepare_guarded

    def prepare(worker: DeliveryWorker, claim: Claim, *args: Any) -> Any:
        with lock:
            calls.append(1)
            third = len(calls) == 3
        if third:  # the lane's own bookkeeping failing, past the guard of one delivery's preparation
            raise RuntimeError("the lane's session broke")
        return real(worker, claim, *args)

    monkeypatch.setattr(DeliveryWorker, "_prepare_guarded", prepare)
    worker = DeliveryWorker(sink_room, clock=FixedClock(T0 + timedelta(seconds=1)))
    # The two lanes' first, and the other lane's next if it had taken it when this one failed.
    done = worker._work(worker._claim())
    assert done in (2, 3)
    rows = deliveries(sink_room)
    assert sorted(d.status for d in rows) == ["done"] * done + ["scheduled"] * (12 - done)
    assert all(d.lease_owner is None for d in rows)  # given back now, not when the lease ends
    assert sink.distinct == done and sink.duplicates == 0
