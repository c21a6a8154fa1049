"""The consultation's group commit: every item answered after its batch, and no writer left idle."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from publisher.consultation.batching import GroupCommit

ANSWER_WITHIN_S = 10.0


class Recorder:
    def __init__(self, refuse: frozenset[int] = frozenset()) -> None:
        self.batches: list[list[int]] = []
        self.refuse = refuse

    def write_batch(self, items: Sequence[int]) -> list[int]:
        if self.refuse & set(items):
            raise ValueError("one of the batch is refused")
        self.batches.append(list(items))
        return [item * 10 for item in items]

    def write_one(self, item: int) -> int:
        if item in self.refuse:
            raise ValueError(f"{item} refused")
        self.batches.append([item])
        return item * 10


def test_every_submitter_gets_its_own_result_and_items_share_batches() -> None:
    recorder = Recorder()
    gate = threading.Event()
    slow_first = GroupCommit(recorder.write_batch, recorder.write_one)
    # The first batch waits until the rest have queued, so they must share the next ones.
    original = recorder.write_batch

    def held(items: Sequence[int]) -> list[int]:
        gate.wait(ANSWER_WITHIN_S)
        return original(items)

    slow_first.write_batch = held
    futures = [slow_first.submit_future(n) for n in range(50)]
    gate.set()
    assert [f.result(ANSWER_WITHIN_S) for f in futures] == [n * 10 for n in range(50)]
    assert len(recorder.batches) < 50


def test_a_refused_item_fails_alone_and_its_batch_mates_are_written() -> None:
    recorder = Recorder(refuse=frozenset({3}))
    commit = GroupCommit(recorder.write_batch, recorder.write_one)
    with ThreadPoolExecutor(8) as pool:
        futures = {n: pool.submit(commit.submit, n) for n in range(8)}
    for n, future in futures.items():
        if n == 3:
            with pytest.raises(ValueError, match="3 refused"):
                future.result(ANSWER_WITHIN_S)
        else:
            assert future.result(ANSWER_WITHIN_S) == n * 10


def test_an_idle_writer_ends_and_the_next_submission_starts_another() -> None:
    commit = GroupCommit(Recorder().write_batch, Recorder().write_one, idle_s=0.05)
    assert commit.submit(1) == 10
    assert commit.running
    deadline = time.monotonic() + ANSWER_WITHIN_S
    while commit.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not commit.running
    assert commit.submit(2) == 20
    assert commit.running


def test_no_item_is_stranded_while_writers_end_and_start_again() -> None:
    # An idle time shorter than the gaps between submissions makes the writer end and restart
    # hundreds of times; an item queued as one writer decided to end must still be answered.
    commit = GroupCommit(Recorder().write_batch, Recorder().write_one, idle_s=0.0005)

    def submit_spaced(start: int) -> list[int]:
        out = []
        for n in range(start, start + 100):
            out.append(commit.submit_future(n).result(ANSWER_WITHIN_S))
            time.sleep(0.0007 if n % 2 else 0)
        return out

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(submit_spaced, range(0, 400, 100)))
    assert sorted(r for chunk in results for r in chunk) == [n * 10 for n in range(400)]
