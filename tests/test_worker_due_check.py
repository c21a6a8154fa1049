"""A round gathers the gate's facts once; each delivery is still decided on what holds at its due
time (a change recorded while the round waits is seen), and the clock arms a bounded number of jobs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from publisher.engine import claims, retraction, scheduling
from publisher.engine.clock import FixedClock, RealClock
from publisher.engine.due_check import DueReader, RoundFacts, due_check, round_stamps
from publisher.engine.pause import set_paused
from publisher.engine.scheduling import idempotency_key
from publisher.engine.worker import ARMED_AHEAD, DeliveryWorker
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.gate import gate_stamps
from publisher.store.tables import Article, Delivery, ReviewAct, StaffUser
from tests.factory import base_meta, write_article
from tests.review_helpers import approve, seed_users
from tests.sink import Sink

T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


@pytest.fixture
def droom(sink_room: Newsroom) -> Newsroom:
    return sink_room  # conftest's newsroom with a sink channel, ingested and staffed


def deliveries(room: Newsroom) -> list[Delivery]:
    with Session(room.engine) as s:
        return list(s.exec(select(Delivery).order_by(col(Delivery.id))))


def approved_article_ids(room: Newsroom) -> list[int]:
    """Every article's id, with article-1 approved."""
    approve(room, "article-1")
    with Session(room.engine) as s:
        return [i for i in s.exec(select(Article.id)) if i is not None]


def after_the_round_read(monkeypatch: pytest.MonkeyPatch, change: Callable[[], object]) -> None:
    """Make `change` once, just after the round gathered its facts and before its first due time."""
    real = RoundFacts.gather.__func__  # type: ignore[attr-defined]
    done: list[bool] = []

    def gather(cls: type[RoundFacts], *args: Any) -> RoundFacts:
        facts: RoundFacts = real(cls, *args)
        if not done:
            done.append(True)
            change()
        return facts

    monkeypatch.setattr(RoundFacts, "gather", classmethod(gather))


def test_a_retraction_recorded_while_the_round_waits_holds_the_release_at_its_due_time(
    droom: Newsroom, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve(droom, "article-1")
    scheduling.schedule(droom, "article-1", ["sink"], T0, "zhouwb", now=T0 - timedelta(days=1))
    after_the_round_read(
        monkeypatch, lambda: retraction.retract(droom, "article-1", "数据有误", "zhouwb", now=T0)
    )
    DeliveryWorker(droom, clock=FixedClock(T0)).run_once()
    [d] = [x for x in deliveries(droom) if x.action == "publish"]
    assert d.status == "held" and "retracted" in (d.last_error or "")
    assert [b for b in sink.bodies.values() if b["action"] == "publish"] == []  # only its takedown


def test_a_new_revision_made_current_while_the_round_waits_is_the_one_the_gate_judges(
    droom: Newsroom, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve(droom, "article-1")
    scheduling.schedule(droom, "article-1", ["sink"], T0, "zhouwb", now=T0 - timedelta(days=1))

    def revise() -> None:
        write_article(
            droom.root / "content", "article-1.md", base_meta("article-1"), "改写后的正文，尚未审核。\n"
        )
        assert ingest(droom).ok

    after_the_round_read(monkeypatch, revise)
    DeliveryWorker(droom, clock=FixedClock(T0)).run_once()
    [d] = deliveries(droom)
    with Session(droom.engine) as s:
        article = s.exec(select(Article).where(Article.slug == "article-1")).one()
    assert d.status == "held" and "never submitted" in (d.last_error or "")
    assert d.revision_id == article.current_revision_id  # the revision current at the due time
    assert sink.distinct == 0


def test_a_signer_whose_roles_change_while_the_round_waits_is_judged_as_they_are_at_the_due_time(
    droom: Newsroom, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve(droom, "article-1")
    scheduling.schedule(droom, "article-1", ["sink"], T0, "zhouwb", now=T0 - timedelta(days=1))
    with Session(droom.engine) as s:
        article = s.exec(select(Article).where(Article.slug == "article-1")).one()
        last = s.exec(
            select(ReviewAct)
            .where(ReviewAct.revision_id == article.current_revision_id, ReviewAct.act == "approve")
            .order_by(col(ReviewAct.id).desc())
        ).first()
    assert last is not None

    def demote() -> None:
        # An account edited behind the round's back: the stage it signed needs a role it no longer has.
        with droom.engine.begin() as conn:
            conn.execute(
                update(StaffUser)
                .where(col(StaffUser.username) == last.username)
                .values(roles_json='["editor"]')
            )

    after_the_round_read(monkeypatch, demote)
    DeliveryWorker(droom, clock=FixedClock(T0)).run_once()
    [d] = deliveries(droom)
    assert d.status == "held" and sink.distinct == 0


def test_the_pause_switch_set_while_the_round_waits_gives_the_release_back_unperformed(
    droom: Newsroom, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve(droom, "article-1")
    scheduling.schedule(droom, "article-1", ["sink"], T0, "zhouwb", now=T0 - timedelta(days=1))
    after_the_round_read(monkeypatch, lambda: set_paused(droom, True, "zhouwb", "演练"))
    assert DeliveryWorker(droom, clock=FixedClock(T0)).run_once() == 0
    [d] = deliveries(droom)
    assert d.status == "scheduled" and d.lease_owner is None
    assert sink.distinct == 0


def test_an_unchanged_article_goes_out_on_the_facts_the_round_gathered(droom: Newsroom, sink: Sink) -> None:
    approve(droom, "article-1")
    approve(droom, "article-2")
    for slug in ("article-1", "article-2"):
        scheduling.schedule(droom, slug, ["sink"], T0, "zhouwb", now=T0 - timedelta(days=1))
    assert DeliveryWorker(droom, clock=FixedClock(T0)).run_once() == 2
    assert [d.status for d in deliveries(droom)] == ["done", "done"] and sink.distinct == 2


def schedule_rows(room: Newsroom, dues: list[datetime]) -> None:
    with Session(room.engine) as s:
        article_id = s.exec(select(Article.id).where(Article.slug == "article-1")).one()
    now = datetime.now(UTC)
    rows = [
        {
            "article_id": article_id,
            "channel": "sink",
            "due_at": due,
            "status": "scheduled",
            "attempts": 0,
            "next_attempt_at": due,
            "created_by": "test",
            "created_at": now,
            "updated_at": now,
            "idempotency_key": idempotency_key(f"article-1-{n}", "sink", due),
        }
        for n, due in enumerate(dues)
    ]
    with room.engine.begin() as conn:
        conn.execute(insert(Delivery), rows)


def armed(w: DeliveryWorker) -> list[str]:
    assert w._scheduler is not None
    return [job.id for job in w._scheduler.get_jobs() if job.id.startswith("due-") or job.id == "arm-more"]


def test_the_clock_arms_only_the_next_instants_however_many_are_scheduled(droom: Newsroom) -> None:
    start = datetime.now(UTC) + timedelta(minutes=1)
    schedule_rows(droom, [start + timedelta(seconds=n) for n in range(ARMED_AHEAD + 100)])
    w = DeliveryWorker(droom, clock=RealClock())
    w.start()
    try:
        jobs = armed(w)
        assert len([j for j in jobs if j.startswith("due-")]) == ARMED_AHEAD
        assert "arm-more" in jobs  # the last armed instant looks for the next ones
    finally:
        w.request_stop()
        w.shutdown()


def test_instants_within_the_claim_ahead_of_an_armed_one_share_its_clock_job(droom: Newsroom) -> None:
    start = datetime.now(UTC) + timedelta(minutes=1)
    step = timedelta(milliseconds=20)
    schedule_rows(droom, [start + n * step for n in range(10)] + [start + timedelta(seconds=30)])
    w = DeliveryWorker(droom, clock=RealClock())
    assert w.ahead >= 10 * step  # the default look-ahead covers the ten
    w.start()
    try:
        assert sorted(armed(w)) == sorted(
            [f"due-{start.isoformat()}", f"due-{(start + timedelta(seconds=30)).isoformat()}"]
        )
    finally:
        w.request_stop()
        w.shutdown()


def test_the_clock_wakes_a_claim_ahead_before_the_instant_so_the_claim_is_off_the_lateness_path(
    droom: Newsroom,
) -> None:
    start = datetime.now(UTC) + timedelta(minutes=1)
    schedule_rows(droom, [start])
    w = DeliveryWorker(droom, clock=RealClock())
    assert w.ahead > timedelta(0)
    w.start()
    try:
        assert w._scheduler is not None
        job = w._scheduler.get_job(f"due-{start.isoformat()}")
        assert job is not None and job.next_run_time == start - w.ahead
    finally:
        w.request_stop()
        w.shutdown()


def test_a_round_over_several_channels_gathers_its_facts_once(
    newsroom_dir: Path, db_url: str, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("sink", "sink2", "sink3"):
        (newsroom_dir / "channels" / f"{name}.toml").write_text(
            f'kind = "sink"\ntitle = "接收端{name}"\n[settings]\nurl = "{sink.url}"\n', encoding="utf-8"
        )
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(newsroom_dir)
    try:
        assert ingest(room).ok
        seed_users(room)
        approve(room, "article-1")
        scheduling.schedule(
            room, "article-1", ["sink", "sink2", "sink3"], T0, "zhouwb", now=T0 - timedelta(days=1)
        )
        calls = count_gathers(monkeypatch)
        # Three lanes side by side, one delivery each: one gathering serves them all.
        assert DeliveryWorker(room, clock=FixedClock(T0)).run_once() == 3
        assert len(calls) == 1 and sink.distinct == 3
    finally:
        room.close()


def one_per_round(w: DeliveryWorker) -> DeliveryWorker:
    w.settings = w.settings.model_copy(update={"batch": 1})
    return w


def count_gathers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    real = RoundFacts.gather.__func__  # type: ignore[attr-defined]
    calls: list[int] = []

    def gather(cls: type[RoundFacts], *args: Any) -> RoundFacts:
        calls.append(1)
        facts: RoundFacts = real(cls, *args)
        return facts

    monkeypatch.setattr(RoundFacts, "gather", classmethod(gather))
    return calls


def test_rounds_of_an_unchanged_article_after_the_first_go_out_on_the_facts_it_gathered(
    droom: Newsroom, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve(droom, "article-1")
    schedule_rows(droom, [T0 - timedelta(seconds=n) for n in range(3)])
    calls = count_gathers(monkeypatch)
    assert one_per_round(DeliveryWorker(droom, clock=FixedClock(T0))).run_once() == 3
    assert len(calls) == 1 and sink.distinct == 3


def test_a_signer_demoted_between_two_rounds_holds_the_release_of_the_second(
    droom: Newsroom, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve(droom, "article-1")
    schedule_rows(droom, [T0 - timedelta(seconds=2), T0 - timedelta(seconds=1)])
    with Session(droom.engine) as s:
        signers = set(s.exec(select(ReviewAct.username).where(ReviewAct.act == "approve")))
    real = claims.finish
    done: list[bool] = []

    def finish(*args: Any, **kwargs: Any) -> int:
        landed = real(*args, **kwargs)
        if not done:  # the first round is recorded: its signers lose their roles before the second
            done.append(True)
            with droom.engine.begin() as conn:
                conn.execute(
                    update(StaffUser)
                    .where(col(StaffUser.username).in_(signers))
                    .values(roles_json='["editor"]')
                )
        return landed

    monkeypatch.setattr(claims, "finish", finish)
    assert one_per_round(DeliveryWorker(droom, clock=FixedClock(T0))).run_once() == 1
    assert [d.status for d in deliveries(droom)] == ["done", "held"] and sink.distinct == 1


def test_the_stamp_read_at_the_due_time_equals_the_one_the_round_read_while_nothing_changed(
    droom: Newsroom,
) -> None:
    ids = approved_article_ids(droom)
    with Session(droom.engine) as s:
        round_stamps = gate_stamps(s, ids)
        for article_id in ids:
            checked = due_check(s, article_id)
            assert checked.stamp == round_stamps[article_id] and not checked.paused
    set_paused(droom, True, "zhouwb", "演练")
    with Session(droom.engine) as s:
        assert due_check(s, ids[0]).paused


def test_a_round_s_stamps_read_on_the_driver_are_the_gate_s_stamps(droom: Newsroom) -> None:
    ids = approved_article_ids(droom)
    asked = [*ids, max(ids) + 1]  # one gone: absent from both
    for _ in range(2):  # the second round on the statement compiled for the first
        with Session(droom.engine) as s:
            stamps = round_stamps(s, asked)
        with Session(droom.engine) as s:
            assert stamps == gate_stamps(s, asked) and set(stamps) == set(ids)
        with droom.engine.begin() as conn:  # the signers' roles are part of the stamp
            conn.execute(update(StaffUser).values(roles_json='["editor"]'))
    with Session(droom.engine) as s:
        assert round_stamps(s, ids[:1]) == gate_stamps(s, ids[:1])


def test_a_lane_s_due_reader_reads_what_due_check_reads_and_each_change_once_it_is_committed(
    droom: Newsroom,
) -> None:
    ids = approved_article_ids(droom)
    gone = max(ids) + 1
    with droom.engine.connect() as connection, Session(connection) as lane:
        reader = DueReader(lane, connection)
        for article_id in [*ids, gone]:
            with Session(droom.engine) as s:
                assert reader.check(article_id) == due_check(s, article_id)
        before = reader.check(ids[0])
        lane.get(Article, ids[0])  # the lane's session reads (SQLite: a snapshot from here on)
        # Written on another connection after the lane's reads: the reader's next checks see it.
        set_paused(droom, True, "zhouwb", "演练")
        with droom.engine.begin() as conn:  # the signers' roles are part of the stamp
            conn.execute(update(StaffUser).values(roles_json='["editor"]'))
        after = reader.check(ids[0])
        assert after.paused and reader.check(gone).paused
        assert after.stamp != before.stamp
        with Session(droom.engine) as s:
            assert after == due_check(s, ids[0])


def test_a_lane_s_due_reader_reads_on_after_its_connection_is_replaced_and_after_it_is_closed(
    droom: Newsroom,
) -> None:
    ids = approved_article_ids(droom)
    with Session(droom.engine) as s:
        expected = due_check(s, ids[0])
    with droom.engine.connect() as connection, Session(connection) as lane:
        reader = DueReader(lane, connection)
        assert reader.check(ids[0]) == expected
        first = connection.connection.dbapi_connection
        connection.invalidate()  # the pool drops the driver's connection: the next use opens another
        assert reader.check(ids[0]) == expected
        assert connection.connection.dbapi_connection is not first
        set_paused(droom, True, "zhouwb", "演练")
        assert reader.check(ids[0]).paused  # the kept cursor reads what is committed now
        reader.close()
        reader.close()  # twice is harmless
        assert reader.check(ids[0]).paused  # and a closed reader opens a cursor again when asked


def rounds_of(w: DeliveryWorker, size: int) -> DeliveryWorker:
    w.settings = w.settings.model_copy(update={"batch": size})
    return w


def test_a_full_round_s_successor_is_claimed_on_a_thread_of_its_own_while_it_runs(
    droom: Newsroom, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve(droom, "article-1")
    schedule_rows(droom, [T0] * 5)
    real = claims.claim_due
    claimed_on: list[tuple[str, int]] = []

    def claim_due(*args: Any, **kwargs: Any) -> list[claims.Claim]:
        taken = real(*args, **kwargs)
        claimed_on.append((threading.current_thread().name.split("-")[0], len(taken)))
        return taken

    monkeypatch.setattr(claims, "claim_due", claim_due)
    assert rounds_of(DeliveryWorker(droom, clock=FixedClock(T0)), 2).run_once() == 5
    # Rounds of 2, 2 and 1: the two after a full round were claimed while it ran; the last, not full,
    # leaves the next claim (finding nothing) to the end of its round.
    assert claimed_on == [("MainThread", 2), ("claim", 2), ("claim", 1), ("MainThread", 0)]
    assert {d.status for d in deliveries(droom)} == {"done"} and sink.distinct == 5


def test_claims_made_for_a_round_that_will_not_run_are_given_back_at_once(
    droom: Newsroom, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve(droom, "article-1")
    schedule_rows(droom, [T0] * 4)
    w = rounds_of(DeliveryWorker(droom, clock=FixedClock(T0)), 2)
    real = claims.finish

    def finish(*args: Any, **kwargs: Any) -> int:
        w.request_stop()  # the first round is over, the next one claimed while it ran: stop here
        landed: int = real(*args, **kwargs)
        return landed

    monkeypatch.setattr(claims, "finish", finish)
    w.register()
    assert w.dispatch() == 2
    assert [d.status for d in deliveries(droom)] == ["done", "done", "scheduled", "scheduled"]
    assert all(d.lease_owner is None for d in deliveries(droom))
