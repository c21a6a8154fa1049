"""`publisher run`: one worker. The database says what is due; APScheduler is the clock that wakes
the worker at each due instant; claims are leases, so any number of workers may share the work.
"""

from __future__ import annotations

import bisect
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Collection
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor as LanePool
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from publisher.auth.identity import SERVICE_ACCOUNT, service_identity
from publisher.channels.registry import Channel
from publisher.consultation.purge import Purged
from publisher.consultation.purge import purge as purge_contacts
from publisher.delivery.contract import (
    BundlingPerformer,
    Deferred,
    DeliveryError,
    ParallelPerformer,
    Performer,
    Permanent,
    Receipt,
    TimedPerformer,
    Unknown,
)
from publisher.delivery.states import DeliveryAction, DeliveryState, Step
from publisher.engine import claims
from publisher.engine.alerts import TroubleAlerts
from publisher.engine.claims import Claim, Outcome
from publisher.engine.clock import Clock, RealClock
from publisher.engine.decision import Defer, DueFacts, Go, Hold, asks_gate, decide_due
from publisher.engine.due_check import DueReader, RoundFacts, SharedRound
from publisher.engine.lanes import LaneClaims, SharedClaims, Turns
from publisher.engine.pause import is_paused
from publisher.engine.performers import performer_for
from publisher.engine.release import newsroom_gate
from publisher.errors import ConfigError
from publisher.inspection.configured import load_settings
from publisher.newsroom import Newsroom
from publisher.notify import Dispatcher, Report, senders_for
from publisher.notify.senders import close_all
from publisher.review.gate import Gate
from publisher.schedule.load import load_schedules
from publisher.store.engine import write_session
from publisher.store.tables import Article, Delivery, Revision, Worker

if TYPE_CHECKING:
    from publisher.inspection.findings import Report as InspectionReport

log = logging.getLogger("publisher.engine")


class _SkippedWatchFilter(logging.Filter):
    """A `watch` that finds the previous one still draining is skipped by design: not worth a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_SkippedWatchFilter())
# Sent but not yet recorded, at most: the queue and the group in the recorder's hands (`room`), and
# the one being handed over. A worker killed outright can leave only these to be sent again (with
# the same idempotency key, so a receiver that honours it counts each once).
MAX_UNRECORDED = 31
FINISH_GROUP = 15  # outcomes that wake the recorder for a group
FINISH_MOST = 20  # outcomes recorded per transaction at most: the lanes keep room to run ahead
FINISH_AFTER = 0.05  # seconds an outcome may wait for its group
TROUBLES_KEPT = 100  # failed or held releases a worker remembers for its report
ARMED_AHEAD = 256  # clock jobs a worker keeps armed at most: the next due instants
INSPECTION_GRACE_SECONDS = 600  # a worker that was busy at the minute still inspects within this


class OutcomeQueue:
    """Outcomes on their way from a round's lanes to the recorder, taken in groups.

    A `queue.Queue` woke the recorder at every outcome put, only for it to take one item and wait
    again for the rest of its group: a thread switch per delivery. This one wakes it twice per
    group: at the first outcome (its group's deadline starts then) and when `group` have arrived.
    The recorder takes what has arrived by then, up to `most`: one that fell behind (a busy
    worker, a slow database) takes bigger groups, and since recording costs mostly per group (a
    transaction, its round trips), it catches up instead of falling further behind.

    Bounded: outcomes queued or in the recorder's hands are at most `room`. A lane putting one into
    a full queue waits until the recorder has recorded a group (`recorded`), so sent-but-unrecorded
    outcomes stay within `MAX_UNRECORDED` however big the groups grow."""

    def __init__(self, group: int, *, most: int, room: int) -> None:
        assert group <= most < room  # room for the lanes beside the biggest group
        self._group = group
        self._most = most
        self._room = room
        self._items: list[Outcome] = []
        self._held = 0  # taken by the recorder, not yet recorded
        self._closed = False
        lock = threading.Lock()
        self._arrived = threading.Condition(lock)  # the recorder waits here
        self._taken = threading.Condition(lock)  # lanes wait here for room

    def put(self, outcome: Outcome) -> None:
        with self._arrived:
            while len(self._items) + self._held >= self._room:
                self._taken.wait()
            self._items.append(outcome)
            if len(self._items) in (1, self._group):
                self._arrived.notify()

    def close(self) -> None:
        """No more outcomes: `take` hands over what is left without waiting, then None."""
        with self._arrived:
            self._closed = True
            self._arrived.notify()

    def take(self, after: float) -> list[Outcome] | None:
        """The next group: waits for a first outcome, then until `group` have arrived, `after`
        seconds have passed since that outcome was seen, or the queue is closed; hands over what
        has arrived, up to `most`. None once the queue is closed and empty. The taker calls
        `recorded` when it is done with the group."""
        with self._arrived:
            while not self._items and not self._closed:
                self._arrived.wait()
            if not self._items:
                return None
            deadline = time.monotonic() + after
            while len(self._items) < self._group and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            group, self._items = self._items[: self._most], self._items[self._most :]
            self._held += len(group)
            return group

    def recorded(self, group: list[Outcome]) -> None:
        """The recorder is done with a group `take` handed over (recorded, or given up on: a lost
        record is the lease's to retry): its room is the lanes' again."""
        with self._taken:
            self._held -= len(group)
            self._taken.notify_all()


class WindowPolicy(Protocol):
    """Quiet hours and blackout windows (the schedules/ files)."""

    paused: bool

    def window_block(self, channel: str, at: datetime) -> str | None: ...

    def next_open(self, channel: str, at: datetime) -> datetime: ...


def unexpected(exc: BaseException) -> str:
    return f"意外错误，稍后重试 / unexpected error, will retry: {type(exc).__name__}: {exc}"


@dataclass(frozen=True, slots=True)
class Ready:
    """A claimed delivery that passed every check: only the side effect remains."""

    claim: Claim
    channel: Channel
    revision: Revision


class Lane(NamedTuple):
    """What a round's lane reads with: its session, its due checks' connection, and the round's
    revisions it has made its session's (by revision id)."""

    session: Session
    reader: DueReader
    merged: dict[str, Revision]


class DeliveryWorker:
    def __init__(
        self,
        room: Newsroom,
        *,
        clock: Clock | None = None,
        gate: Gate | None = None,
        windows: WindowPolicy | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.room = room
        self.settings = room.settings.engine
        self.clock = clock or RealClock()
        self.gate = newsroom_gate(room) if gate is None else gate
        self.windows = windows
        # The audit log names the account first: every act of a worker is the service account's.
        self.id = (
            worker_id or f"{SERVICE_ACCOUNT}@{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        )
        # Leases and look-ahead are wall-clock promises: under a compressed clock they stretch.
        self.lease = timedelta(seconds=self.settings.lease_seconds) * self.clock.speed
        self.limits = {name: c.limits for name, c in room.channels.channels.items()}
        self._performers: dict[str, Performer] = {}
        self._performers_lock = threading.Lock()
        # The lane threads, kept from round to round (see `_lane_pool`).
        self._lanes: LanePool | None = None
        self._lanes_width = 0
        self._bundling: dict[str, bool] = {}
        self._widths: dict[str, int] = {}  # by channel: how many lanes share its claims (`_width`)
        self._counting = threading.Lock()  # the round's lanes share `processed` and `unrecorded`
        self._armed: set[datetime] = set()
        self._stop = threading.Event()
        # Held while clock jobs are added and while `shutdown` takes the scheduler away: APScheduler's
        # shutdown holds its job-store lock while it waits for running jobs, so a running `watch`
        # adding a job then would wait on that lock for ever.
        self._arming = threading.Lock()
        self._dispatching = threading.Lock()
        self._again = threading.Event()
        # Bounded: a round may run ahead of the records only this far, so a worker killed
        # mid-round leaves at most this many sent-but-unrecorded deliveries to be resent.
        self._outcomes = OutcomeQueue(FINISH_GROUP, most=FINISH_MOST, room=MAX_UNRECORDED - 1)
        self._recorder: threading.Thread | None = None
        self._pause_checked = float("-inf")
        # The last round's gate facts: the next round uses them for articles whose stamps are unchanged.
        self._last_round: RoundFacts | None = None
        self._pause_cached = False
        self.ahead = timedelta(seconds=self.settings.claim_ahead_seconds) * self.clock.speed
        self._scheduler: BackgroundScheduler | None = None
        self._only: frozenset[int] | None = None
        self.processed = 0
        # Releases this worker found failed, held, missed or of unknown outcome: `run --once` exits
        # non-zero on them, so that cron alerts someone. A long run keeps only the latest.
        self.troubles: deque[str] = deque(maxlen=TROUBLES_KEPT)
        self.trouble_count = 0
        self.alerts = TroubleAlerts(
            room.settings.notify, room.settings.tz, {n: c.title for n, c in room.channels.channels.items()}
        )

    @cached_property
    def notices(self) -> Dispatcher:
        return Dispatcher(
            self.room.engine, self.room.settings.notify, self.id, senders_for(self.room.settings.notify)
        )

    # -- life cycle -------------------------------------------------------------------------------
    def register(self) -> None:
        now = self.clock.now()
        with write_session(self.room.engine) as session:
            session.merge(
                Worker(
                    id=self.id,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    started_at=now,
                    heartbeat_at=now,
                    state="running",
                )
            )

    def heartbeat(self, state: str = "running") -> None:
        with write_session(self.room.engine) as session:
            worker = session.get(Worker, self.id)
            if worker is not None:
                worker.heartbeat_at, worker.state, worker.processed = self.clock.now(), state, self.processed
                session.add(worker)

    def start(self) -> None:
        """Register, settle what fell due while no one was running, and arm the clock."""
        self.register()
        self.catch_up()
        self._recorder = threading.Thread(target=self._record_loop, name=f"recorder-{self.id}", daemon=True)
        self._recorder.start()
        scheduler = BackgroundScheduler(
            timezone="UTC",
            # Notices go out on a thread of their own: a slow mail server never delays a release.
            executors={"default": ThreadPoolExecutor(4), "notify": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "misfire_grace_time": None},
        )
        self._scheduler = scheduler
        scheduler.start()
        scheduler.add_job(self.watch, "interval", seconds=self.settings.poll_seconds, id="watch")
        scheduler.add_job(self.heartbeat, "interval", seconds=self.settings.heartbeat_seconds, id="heartbeat")
        scheduler.add_job(
            self.send_notices, "interval", seconds=self.settings.poll_seconds, id="notify", executor="notify"
        )
        self._arm_inspections(scheduler)
        self.reconcile()
        self.dispatch()

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            self.shutdown()

    def request_stop(self) -> None:
        self._stop.set()

    def shutdown(self) -> None:
        """Finish in-flight work, give back unperformed claims, say goodbye."""
        with self._arming:
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        if self._recorder is not None:
            self._outcomes.close()
            self._recorder.join()
            self._recorder = None
        self._close_lanes()
        claims.release(self.room.engine, self.id, self.clock.now())
        self.heartbeat("stopped")
        for performer in self._performers.values():
            performer.close()
        self._performers.clear()
        if "notices" in self.__dict__:
            close_all(self.notices.senders)

    def run_once(self, only: Collection[int] | None = None) -> int:
        """Do what is due now and return (for cron); `only`: just these deliveries (a retraction's
        takedowns, performed at once without performing anything else that is due)."""
        self.register()
        self.catch_up()
        self.reconcile_unknown()
        self._only = None if only is None else frozenset(only)
        try:
            done = self.dispatch()
        finally:
            self._only = None
            self._close_lanes()
        claims.release(self.room.engine, self.id, self.clock.now())
        if only is None:
            self.send_notices()  # after the releases, so no release waits behind a message
        self.heartbeat("stopped")
        return done

    def send_notices(self) -> Report:
        """One bounded batch of outward notices (e-mail, group robots), never the releases' time."""
        if self._stop.is_set():
            return Report()
        try:
            return self.notices.run(self.clock.now())
        except Exception:  # the outbox keeps them: the next round tries again
            log.exception("sending notices failed")
            return Report()

    # -- inspection (定期清查) ----------------------------------------------------------------------
    def _arm_inspections(self, scheduler: BackgroundScheduler) -> None:
        """A job at each local time schedules/newsroom.toml names for `[inspection] at`. Every worker
        arms them; the run's row is claimed once (`perform_scheduled`), so one worker inspects."""
        try:
            plan = load_schedules(self.room).inspection
            probes_per_day = load_settings(self.room)[0].uptime.probes_per_day
        except ConfigError as exc:  # `publisher check` names the problem; releases go on
            log.warning("no scheduled inspection: %s", exc)
            return
        tz = self.room.settings.tz
        if plan.probe:
            every = 86400 / probes_per_day
            scheduler.add_job(self.probe_due, "interval", seconds=every, id="uptime-probe")
        for moment in plan.at:
            scheduler.add_job(
                self.inspect_due,
                CronTrigger(hour=moment.hour, minute=moment.minute, timezone=tz),
                id=f"inspection-{moment:%H%M}",
                misfire_grace_time=INSPECTION_GRACE_SECONDS,
            )
            # The consultation purge rides on the inspection's times: a daily housekeeping slot the
            # newsroom already chose. Every worker may run it; the purge is idempotent.
            scheduler.add_job(
                self.purge_contacts_due,
                CronTrigger(hour=moment.hour, minute=moment.minute, timezone=tz),
                id=f"consultation-purge-{moment:%H%M}",
                misfire_grace_time=INSPECTION_GRACE_SECONDS,
            )

    def inspect_due(self, slot: datetime | None = None) -> InspectionReport | None:
        """Perform the inspection due at `slot` (this minute) unless another worker has."""
        tz = self.room.settings.tz
        slot = (slot or self.clock.now()).astimezone(tz).replace(second=0, microsecond=0)
        try:
            from publisher.inspection.run import perform_scheduled  # only when one is due: it is large

            plan = load_schedules(self.room).inspection
            report = perform_scheduled(self.room, slot, self.id, plan.live_url)
        except Exception:  # an inspection never stops the releases
            log.exception("inspection due at %s failed", slot.isoformat())
            return None
        if report is not None:
            level = logging.INFO if report.passed else logging.WARNING
            log.log(level, "inspection %s score %g vetoes %d", slot.isoformat(), report.score, report.vetoes)
        return report

    def purge_contacts_due(self) -> list[Purged]:
        """Delete consultation contacts whose retention after the feedback report has run out."""
        try:
            days = self.room.settings.consultation.contact_retention_days
            done, _ = purge_contacts(self.room.engine, service_identity(), days, self.clock.now())
        except Exception:  # housekeeping never stops the releases
            log.exception("consultation contact purge failed")
            return []
        for item in done:
            log.info("consultation %s: %d contacts purged", item.slug, item.contacts)
        return done

    def probe_due(self) -> None:
        """Record this slot's uptime probe of each website, unless another worker has."""
        try:
            from publisher.inspection.run import probe_sites  # only when a probe is due: it is large

            plan = load_schedules(self.room).inspection
            for row in probe_sites(self.room, live_url=plan.live_url, now=self.clock.now()):
                log.log(
                    logging.INFO if row.ok else logging.WARNING,
                    "probe %s %s %s",
                    row.channel,
                    row.url,
                    row.status,
                )
        except Exception:  # a probe never stops the releases
            log.exception("uptime probe failed")

    # -- the clock --------------------------------------------------------------------------------
    def catch_up(self) -> int:
        now = self.clock.now()
        cutoff = now - timedelta(seconds=self.settings.grace_seconds)
        missed = claims.mark_missed(self.room.engine, cutoff, self.id, now, self.alerts)
        if missed:
            log.warning("%d releases missed while no worker ran", missed)
            with self._counting:
                self.troubles.append(f"错过 {missed} 项 / {missed} missed")
                self.trouble_count += 1
        return missed

    def reconcile(self) -> None:
        """Arm clock jobs for the next `ARMED_AHEAD` due instants within the horizon the database
        knows of. Memory follows that bound, not the number of scheduled rows: when the bound cut
        the list short, a job at the last instant read looks again (and `watch` does anyway).
        An instant within `claim_ahead_seconds` after an armed one needs no job of its own: the
        round that wakes at the armed one claims it too, and its lane waits for its instant."""
        if self._scheduler is None:
            return
        horizon = self.clock.now() + timedelta(seconds=self.settings.horizon_seconds) * self.clock.speed
        instants = claims.due_instants(self.room.engine, horizon, ARMED_AHEAD)
        with self._arming:
            scheduler = self._scheduler
            if scheduler is None:  # shut down while the instants were read
                return
            armed = sorted(self._armed)
            for instant in instants:
                before = bisect.bisect_right(armed, instant)
                if before and instant - armed[before - 1] <= self.ahead:
                    continue
                bisect.insort(armed, instant)
                self._armed.add(instant)
                scheduler.add_job(
                    self.dispatch,
                    "date",
                    # Woken a claim-ahead early: the round's claim and its gate facts are read
                    # before the instant, and its lane waits for it, so they add nothing to its lateness.
                    run_date=self.clock.to_wall(instant - self.ahead),
                    id=f"due-{instant.isoformat()}",
                    replace_existing=True,
                )
            # Only ahead of now: instants already past are being drained, and a job for a past
            # instant would run at once and read the same list again, and again.
            if len(instants) == ARMED_AHEAD and instants[-1] > self.clock.now():
                scheduler.add_job(
                    self.reconcile,
                    "date",
                    run_date=self.clock.to_wall(instants[-1]),
                    id="arm-more",
                    replace_existing=True,
                )

    def watch(self) -> None:
        """Pick up work scheduled by others, retries, expired leases, and forget instants gone by."""
        now = self.clock.now()
        with self._arming:  # `reconcile` also runs as the clock job that arms more
            self._armed = {t for t in self._armed if t > now - timedelta(minutes=1)}
        self.reconcile()
        self.reconcile_unknown()
        self.dispatch()

    def reconcile_unknown(self) -> int:
        """Ask the channel what became of attempts with an unknown outcome: done if it acted, due
        again (at once) if it did not. Never a blind resend."""
        settled = 0
        for d in claims.unknown_outcomes(self.room.engine):
            channel = self.room.channels.channels.get(d.channel)
            if channel is None:
                continue
            try:
                found = self._performer(channel).reconcile(d)
            except DeliveryError as exc:
                log.warning("reconciling delivery %s failed: %s", d.id, exc)
                continue
            except Exception:  # one channel's trouble must not stop the others being reconciled
                log.exception("reconciling delivery %s failed unexpectedly", d.id)
                continue
            now = self.clock.now()
            if found is not None:
                outcome = Outcome(d, Step.RECONCILED_DONE, d.revision_id, receipt_json=found.to_json())
            else:
                outcome = Outcome(
                    d,
                    Step.RECONCILED_RETRY,
                    d.revision_id,
                    error="核对：对方未收到，重新发送 / reconciled: not received, sending again",
                    next_attempt_at=now,
                )
            settled += claims.settle_unknown(self.room.engine, d, outcome, self.id, now)
        return settled

    # -- the work ---------------------------------------------------------------------------------
    def dispatch(self) -> int:
        """Claim what is due and perform it. One round at a time per worker: a clock job that fires
        while a round runs asks it to look again instead of competing with it for the CPU."""
        if not self._dispatching.acquire(blocking=False):
            self._again.set()
            return 0
        try:
            done = 0
            self._again.set()
            while self._again.is_set() and not self._stop.is_set():
                self._again.clear()
                done += self._drain()
            return done
        finally:
            self._dispatching.release()

    def _drain(self) -> int:
        """Rounds until nothing is due. A full round suggests more is due behind it: the next
        round's claim is made on a thread of its own while this round runs, so its round trips
        are off the path from one release to the next. Claims made and not performed (the worker
        stopping, a round failing) are given back at once."""
        done = 0
        with LanePool(1, thread_name_prefix=f"claim-{self.id}") as claimer:
            ahead: Future[list[Claim]] | None = None
            try:
                while not self._stop.is_set():
                    if ahead is None:
                        if self._paused():
                            return done
                        batch = self._claim()
                    else:
                        batch, ahead = ahead.result(), None
                    if not batch:
                        return done
                    if len(batch) >= self.settings.batch and not self._paused():
                        ahead = claimer.submit(self._claim)
                    done += self._work(batch)
            finally:
                if ahead is not None:
                    self._give_back(ahead)
        return done

    def _claim(self) -> list[Claim]:
        return claims.claim_due(
            self.room.engine,
            self.id,
            self.clock.now(),
            self.lease,
            self.settings.batch,
            self.limits,
            self.room.settings.tz,
            ahead=self.ahead,
            only=self._only,
        )

    def _give_back(self, ahead: Future[list[Claim]]) -> None:
        """The claims of a round that will not run, released now rather than at their leases' end."""
        try:
            unperformed = ahead.result()
        except Exception:  # the claim failed: nothing was claimed
            log.exception("claiming the next round failed")
            return
        released = [Outcome(c.delivery, Step.RELEASE) for c in unperformed]
        claims.finish(self.room.engine, self.id, released, self.clock.now())

    def _paused(self) -> bool:
        """The pause switch, read at most once per poll interval: every round asking would put a
        query in front of every release."""
        now = time.monotonic()
        if now >= self._pause_checked + self.settings.poll_seconds:
            with Session(self.room.engine) as session:
                self._pause_cached = is_paused(session)
            self._pause_checked = now
        return self._pause_cached or (self.windows is not None and self.windows.paused)

    def _work(self, batch: list[Claim]) -> int:
        """Perform a round: one lane per channel, the lanes side by side, so a partner hanging to
        its timeout holds back only its own channel. Within a lane deliveries go one at a time, in
        due order, each on its instant; the claim's limits already bound what a channel may take.
        A channel whose performer takes several sends at once has its claims shared by that many
        lanes (`engine/lanes.py`; one article's deliveries still one at a time, in due order)."""
        channels: dict[str, list[Claim]] = {}
        for claim in batch:
            channels.setdefault(claim.delivery.channel, []).append(claim)
        lanes: list[LaneClaims | Turns] = []
        for claims_ in channels.values():
            width = min(
                self._width(claims_[0].delivery.channel), len({c.delivery.article_id for c in claims_})
            )
            if width > 1:
                shared = SharedClaims(claims_)
                lanes += [shared.turns() for _ in range(width)]
            else:
                lanes.append(LaneClaims(claims_))
        unrecorded: list[Outcome] = []
        facts = SharedRound(
            self.room.engine, {c.delivery.article_id for c in batch}, self.gate, self._last_round
        )
        try:
            if len(lanes) == 1:
                done = self._lane(lanes[0], unrecorded, facts)
            else:
                pool = self._lane_pool(len(lanes))
                done = sum(pool.map(lambda lane: self._lane(lane, unrecorded, facts), lanes))
        finally:
            # Rounds run one at a time (`dispatch`), so the next one finds these as they were left.
            self._last_round = facts.gathered
        claims.finish(self.room.engine, self.id, unrecorded, self.clock.now(), self.alerts)
        return done

    def _lane_pool(self, lanes: int) -> LanePool:
        """Threads for a round's lanes, kept for the next round: a round of one release to fifty
        partners started fifty threads and stopped them again. As many threads as the round has
        lanes (at least one per channel), so every lane still runs side by side with the others."""
        if self._lanes is None or self._lanes_width < lanes:
            if self._lanes is not None:
                self._lanes.shutdown(wait=False)  # idle: the last round's lanes have all ended
            self._lanes_width = max(lanes, len(self.room.channels.channels))
            self._lanes = LanePool(self._lanes_width, thread_name_prefix=f"lane-{self.id}")
        return self._lanes

    def _close_lanes(self) -> None:
        lanes, self._lanes = self._lanes, None
        if lanes is not None:
            lanes.shutdown()

    def _lane(self, lane: LaneClaims | Turns, unrecorded: list[Outcome], shared: SharedRound) -> int:
        """One channel's share of a round, on its own thread with its own session; whatever goes
        wrong here ends as outcomes of these deliveries, never as the end of the round."""
        done = 0
        settled: set[int | None] = set()
        bundles: dict[datetime, list[Ready]] = {}
        slugs: dict[int, str] = {}

        def emit(outcome: Outcome) -> None:
            nonlocal done
            done += outcome.status == DeliveryState.DONE
            settled.add(outcome.delivery.id)
            if outcome.action:
                self._log_release(outcome, slugs.get(outcome.delivery.article_id, "?"))
            if self._recorder is not None:
                self._outcomes.put(outcome)
            else:
                with self._counting:
                    unrecorded.append(outcome)

        def flush(before: datetime | None = None) -> None:
            for due in [k for k in bundles if before is None or k < before]:
                for outcome in self._run_bundle(bundles.pop(due)):
                    emit(outcome)

        try:
            facts = shared.facts()
            slugs.update((article_id, a.slug) for article_id, a in facts.articles.items())
            # One connection per lane, for its session and its due checks (`DueReader`), taken after
            # the round's facts: a lane holding one while it waits for the gathering's would leave
            # none for it when many lanes run side by side. Rows stay loaded across the commits that
            # end SQLite's read snapshots.
            with (
                self.room.engine.connect() as connection,
                Session(connection, expire_on_commit=False) as session,
                closing(DueReader(session, connection)) as reader,
            ):
                reading = Lane(session, reader, {})
                for claim in lane:
                    due = claim.delivery.next_attempt_at
                    flush(before=due)
                    # Claimed a moment ahead, performed on the dot: the claim is off the lateness path.
                    wait = (self.clock.to_wall(due) - RealClock().now()).total_seconds()
                    if (
                        wait > 0 and self._stop.wait(wait)
                    ) or self.clock.now() >= claim.expires - self.lease / 3:
                        emit(Outcome(claim.delivery, Step.RELEASE))
                        continue
                    prepared = self._prepare_guarded(claim, reading, facts)
                    with self._counting:
                        self.processed += 1
                    if isinstance(prepared, Outcome):
                        emit(prepared)
                    elif prepared.claim.delivery.action == DeliveryAction.PUBLISH and self._bundles(
                        prepared.channel
                    ):
                        # Releases due together on a bundling channel go as one (WeChat: one post of
                        # up to 8; a website: one rebuild).
                        bundles.setdefault(due, []).append(prepared)
                    else:
                        emit(self._run(prepared))
                flush()
        except Exception:
            # The lane's session or bookkeeping failed: what it did not settle goes back to the
            # queue now instead of waiting for its lease to run out.
            log.exception("a round's lane for %s failed", lane.channel)
            for claim in lane.unfinished():
                if claim.delivery.id not in settled:
                    emit(Outcome(claim.delivery, Step.RELEASE))
        return done

    def _log_release(self, outcome: Outcome, slug: str) -> None:
        """One line per release, for whoever watches `publisher run`."""
        d = outcome.delivery
        late = (self.clock.now() - d.due_at).total_seconds() / self.clock.speed
        trouble = outcome.status in (DeliveryState.FAILED, DeliveryState.HELD, DeliveryState.UNKNOWN)
        if trouble:
            with self._counting:
                self.troubles.append(f"{slug} → {d.channel}: {outcome.status} ({outcome.error or ''})")
                self.trouble_count += 1
        log.log(
            logging.WARNING if trouble else logging.INFO,
            "%s %s %s rev %s late %.1fs%s",
            slug,
            d.channel,
            outcome.status,
            (outcome.revision_id or "-")[:12],
            late,
            f" ({outcome.error})" if outcome.error and outcome.status != DeliveryState.DONE else "",
        )

    def _record_loop(self) -> None:
        """Record outcomes in small groups, beside the round that performs them: one commit for
        several, and the next release never waits behind the bookkeeping of the last."""
        while (group := self._outcomes.take(FINISH_AFTER)) is not None:
            try:
                claims.finish(self.room.engine, self.id, group, self.clock.now(), self.alerts)
            except Exception:  # a lost record is retried by the lease; the worker must live on
                log.exception("recording %d outcomes failed", len(group))
            finally:
                self._outcomes.recorded(group)

    def _bundles(self, channel: Channel) -> bool:
        """Whether the channel's performer sends releases due together as one; a channel with no
        working performer does not, and `_run` turns its error into the delivery's outcome."""
        known = self._bundling.get(channel.name)
        if known is None:
            try:
                performer = self._performer(channel)
            except Exception:
                return False
            # Asked once per channel: a runtime protocol check costs more than the rest of the round's
            # bookkeeping for a delivery.
            known = self._bundling[channel.name] = (
                isinstance(performer, BundlingPerformer) and performer.bundle > 1
            )
        return known

    def _width(self, name: str) -> int:
        """How many lanes may share the channel's claims: its performer's `parallel`, or one (a
        bundling channel's releases due together go in one send from one lane)."""
        known = self._widths.get(name)
        if known is None:
            channel = self.room.channels.channels.get(name)
            if channel is None or self._bundles(channel):
                return 1
            try:
                performer = self._performer(channel)
            except Exception:  # `_run` turns the error into each delivery's outcome, in one lane
                return 1
            # Asked once per channel, as `_bundles` is: a runtime protocol check is not cheap.
            known = self._widths[name] = (
                max(1, performer.parallel) if isinstance(performer, ParallelPerformer) else 1
            )
        return known

    def _performer(self, channel: Channel) -> Performer:
        with self._performers_lock:
            performer = self._performers.get(channel.name)
            if performer is None:
                performer = performer_for(self.room, channel)
                if isinstance(performer, TimedPerformer):
                    performer.use_clock(self.clock.now)
                self._performers[channel.name] = performer
            return performer

    def _backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        if retry_after is not None:
            return timedelta(seconds=retry_after)
        ceiling = min(
            self.settings.backoff_max_seconds, self.settings.backoff_base_seconds * 2 ** (attempts - 1)
        )
        return timedelta(seconds=ceiling * random.uniform(0.5, 1.0))  # jitter keeps workers from stampeding

    def _prepare(self, claim: Claim, lane: Lane, round_: RoundFacts) -> Outcome | Ready:
        """Everything short of the side effect: read the facts, let `decide_due` decide."""
        d = claim.delivery
        session = lane.session
        checked = lane.reader.check(d.article_id)
        if checked.paused or (self.windows is not None and self.windows.paused):
            return Outcome(d, Step.RELEASE)  # paused since the claim: given back, not performed
        now = self.clock.now()
        channel = self.room.channels.channels.get(d.channel)
        gate = round_.gate
        if checked.stamp is not None and checked.stamp == round_.stamps.get(d.article_id):
            # Nothing the gate reads has changed since the round read it: its facts hold now.
            shared = round_.revisions.get(d.article_id)
            # The round's row, made this lane's without a query (once per lane: a revision is
            # immutable): a performer that reads more goes through the lane's session (one pooled
            # connection per lane), and the shared row is never attached to two sessions at once.
            revision = None if shared is None else lane.merged.get(shared.id)
            if revision is None and shared is not None:
                revision = lane.merged[shared.id] = session.merge(shared, load=False)
        else:
            # Read afresh, after the due check: SQLite keeps a read transaction's snapshot from its
            # first read, so the session's is ended first (PostgreSQL reads committed data anyway).
            session.commit()
            session.expire_all()
            lane.merged.clear()
            article = session.get(Article, d.article_id)
            revision = session.get(Revision, article.current_revision_id) if article else None
            gate = self.gate
        facts = DueFacts(
            revision.id if revision else None,
            round_.meta(revision) if revision else {},
            gate(session, revision, channel, now)
            if revision is not None and channel is not None and channel.enabled and asks_gate(d)
            else None,
        )
        decision = decide_due(d, facts, channel, self.windows, now)
        if isinstance(decision, Go):
            assert channel is not None and revision is not None  # a Go needs both
            return Ready(claim, channel, revision)
        if isinstance(decision, Defer):
            return Outcome(
                d, Step.DEFER, decision.revision_id, error=decision.reason, next_attempt_at=decision.until
            )
        if isinstance(decision, Hold):
            return Outcome(d, Step.HOLD, decision.revision_id, error="；".join(decision.reasons))
        return Outcome(d, Step.FAIL, error=decision.reason)

    def _prepare_guarded(self, claim: Claim, lane: Lane, round_: RoundFacts) -> Outcome | Ready:
        """`_prepare`, with anything unforeseen (a broken file, a database hiccup) as a retry of
        this delivery with the reason: nothing was sent yet."""
        try:
            return self._prepare(claim, lane, round_)
        except Exception as exc:
            log.exception("preparing delivery %s failed", claim.delivery.id)
            return self._retry(claim.delivery, None, unexpected(exc), None)

    def _run(self, ready: Ready) -> Outcome:
        d, revision = ready.claim.delivery, ready.revision
        performer: Performer | None = None
        try:
            performer = self._performer(ready.channel)
            if ready.claim.reclaimed and not performer.retry_safe:
                found = performer.reconcile(d)
                if found is not None:
                    return Outcome(d, Step.DONE, revision.id, receipt_json=found.to_json())
            result: Receipt | DeliveryError = (
                performer.take_down(d, revision)
                if d.action == DeliveryAction.TAKE_DOWN
                else performer.perform(d, revision)
            )
        except DeliveryError as exc:
            result = exc
        except Exception as exc:
            # A bug or a broken dependency in one delivery is that delivery's outcome, with its
            # reason; the round goes on. Whether the other side acted is not known.
            log.exception("delivery %s failed unexpectedly", d.id)
            result = Unknown(unexpected(exc))
        # No performer: nothing was sent, so trying again later is safe.
        return self._settle(d, revision.id, performer is None or performer.retry_safe, result)

    def _run_bundle(self, group: list[Ready]) -> list[Outcome]:
        if len(group) == 1:
            # Alone at its instant: performed as any delivery, without asking the performer's
            # protocol at runtime (that check cost more than the rest of the round's bookkeeping).
            return [self._run(group[0])]
        performer = self._performer(group[0].channel)
        size = performer.bundle if isinstance(performer, BundlingPerformer) else 1
        outcomes: list[Outcome] = []
        for start in range(0, len(group), size):
            part = group[start : start + size]
            if len(part) == 1:
                outcomes.append(self._run(part[0]))
                continue
            assert isinstance(performer, BundlingPerformer)  # size > 1 only for one
            try:
                results = performer.perform_bundle([(r.claim.delivery, r.revision) for r in part])
            except DeliveryError as exc:
                results = [exc] * len(part)
            except Exception as exc:
                log.exception("a bundle of %d deliveries failed unexpectedly", len(part))
                results = [Unknown(unexpected(exc))] * len(part)
            outcomes += [
                self._settle(r.claim.delivery, r.revision.id, performer.retry_safe, result)
                for r, result in zip(part, results, strict=True)
            ]
        return outcomes

    def _settle(
        self, d: Delivery, revision_id: str, retry_safe: bool, result: Receipt | DeliveryError
    ) -> Outcome:
        """A performer's answer as the delivery's next state."""
        if isinstance(result, Receipt):
            return Outcome(d, Step.DONE, revision_id, receipt_json=result.to_json(), after=result.ledger)
        if isinstance(result, Permanent):
            return Outcome(d, Step.FAIL, revision_id, error=result.reason)
        if isinstance(result, Deferred) and result.retry_after is not None:
            # The state lives on the other side (or in the channel's own rows): come back then,
            # without using up the delivery's attempts.
            return Outcome(
                d,
                Step.DEFER,
                revision_id,
                error=result.reason,
                next_attempt_at=self.clock.now() + timedelta(seconds=result.retry_after),
            )
        if isinstance(result, Unknown) and not retry_safe:
            return Outcome(d, Step.LOSE, revision_id, error=result.reason)
        return self._retry(d, revision_id, result.reason, result.retry_after)

    def _retry(self, d: Delivery, revision_id: str | None, reason: str, retry_after: float | None) -> Outcome:
        if d.attempts >= self.settings.max_attempts:
            return Outcome(
                d,
                Step.FAIL,
                revision_id,
                error=f"{reason}（已重试 {d.attempts} 次 / after {d.attempts} attempts）",
            )
        return Outcome(
            d,
            Step.RETRY,
            revision_id,
            error=reason,
            next_attempt_at=self.clock.now() + self._backoff(d.attempts, retry_after),
        )
