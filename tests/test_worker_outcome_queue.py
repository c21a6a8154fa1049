"""The queue between a round's lanes and the recorder (`OutcomeQueue`): outcomes go in one at a time
and come out in groups, in order, bigger when the recorder has fallen behind; queued and in the
recorder's hands they are at most `room` (so sent-but-unrecorded outcomes stay within
`MAX_UNRECORDED`), and it wakes the recorder for a group's first outcome and for a full group, not
for every outcome."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from publisher.delivery.states import DeliveryState, Step
from publisher.engine.claims import Outcome
from publisher.engine.worker import OutcomeQueue
from publisher.store.tables import Delivery

NOW = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


def outcomes(n: int) -> list[Outcome]:
    return [
        Outcome(
            Delivery(
                id=i,
                article_id=1,
                channel="sink",
                due_at=NOW,
                status=DeliveryState.CLAIMED,
                next_attempt_at=NOW,
                idempotency_key=f"q-{i}",
                created_by="zhouwb",
                created_at=NOW,
                updated_at=NOW,
            ),
            Step.RELEASE,
        )
        for i in range(n)
    ]


def test_outcomes_come_out_in_order_in_groups_and_a_short_group_after_its_wait() -> None:
    q = OutcomeQueue(3, most=3, room=7)
    items = outcomes(5)
    for o in items:
        q.put(o)
    assert q.take(60) == items[:3]  # full: no wait
    started = time.monotonic()
    assert q.take(0.05) == items[3:]
    assert time.monotonic() - started >= 0.04  # the short group waited for company


def test_a_full_group_is_taken_as_soon_as_it_is_full() -> None:
    q = OutcomeQueue(3, most=6, room=9)
    items = outcomes(3)
    taken: list[list[Outcome] | None] = []
    recorder = threading.Thread(target=lambda: taken.append(q.take(60)))
    recorder.start()
    for o in items:
        time.sleep(0.01)
        q.put(o)
    recorder.join(5)
    assert not recorder.is_alive() and taken == [items]


def test_a_recorder_that_fell_behind_takes_what_has_arrived_up_to_its_most() -> None:
    q = OutcomeQueue(2, most=5, room=8)
    items = outcomes(7)
    for o in items:
        q.put(o)
    first = q.take(60)
    assert first == items[:5]
    q.recorded(first)
    assert q.take(60) == items[5:]


def test_a_lane_waits_while_the_queue_and_the_recorder_s_group_fill_the_room() -> None:
    q = OutcomeQueue(2, most=3, room=4)
    items = outcomes(5)
    for o in items[:4]:
        q.put(o)
    fifth = threading.Thread(target=q.put, args=(items[4],))
    fifth.start()
    fifth.join(0.1)
    assert fifth.is_alive()  # no room: the lane waits, so the records cannot fall further behind
    group = q.take(60)
    assert group == items[:3]
    fifth.join(0.1)
    assert fifth.is_alive()  # taken is not recorded: the group still counts against the room
    q.recorded(group)
    fifth.join(5)
    assert not fifth.is_alive()
    assert q.take(0) == items[3:]


def test_closed_the_rest_comes_out_without_waiting_then_none() -> None:
    q = OutcomeQueue(3, most=3, room=7)
    items = outcomes(4)
    for o in items:
        q.put(o)
    q.close()
    started = time.monotonic()
    assert q.take(60) == items[:3]
    assert q.take(60) == items[3:]
    assert q.take(60) is None
    assert time.monotonic() - started < 5


def test_the_recorder_is_woken_twice_per_group_not_per_outcome() -> None:
    q = OutcomeQueue(10, most=20, room=30)
    wakes = 0
    notify = q._arrived.notify

    def counted(n: int = 1) -> None:
        nonlocal wakes
        wakes += 1
        notify(n)

    q._arrived.notify = counted  # type: ignore[method-assign]
    for o in outcomes(20):
        q.put(o)
    assert wakes == 2  # the first outcome and the tenth; the next ten go to the group already woken for
