"""A worker's lane threads (one lane per channel, side by side) are kept from round to round: a
release to fifty partners started fifty threads each round. None is left when `run --once` ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from publisher.engine import scheduling
from publisher.engine import worker as worker_module
from publisher.engine.worker import DeliveryWorker
from publisher.newsroom import Newsroom
from tests.review_helpers import approve
from tests.sink import Sink


@pytest.fixture
def second_sink() -> Iterator[Sink]:
    with Sink() as s:
        yield s


def test_the_lanes_of_a_second_round_run_on_the_threads_of_the_first_and_none_outlives_the_run(
    sink_room: Newsroom, sink: Sink, second_sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    (sink_room.root / "channels" / "sink2.toml").write_text(
        f'kind = "sink"\ntitle = "第二接收端"\n[settings]\nurl = "{second_sink.url}"\n', encoding="utf-8"
    )
    pools: list[str] = []

    class CountedPool(ThreadPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            pools.append(kwargs.get("thread_name_prefix", ""))

    monkeypatch.setattr(worker_module, "LanePool", CountedPool)
    room = Newsroom(sink_room.root)
    try:
        due = datetime.now(UTC)
        for slug in ("article-1", "article-2"):
            approve(room, slug)
            scheduling.schedule(room, slug, ["sink", "sink2"], due, "zhouwb")
        worker = DeliveryWorker(room)
        worker.settings = worker.settings.model_copy(update={"batch": 2})  # a round per article
        assert worker.run_once() == 4
    finally:
        room.close()
    assert len(sink.keys) == 2 and len(second_sink.keys) == 2
    # The lane pool, made once; the worker's other pool (the next round's claim, per drain) is not a lane's.
    assert [p for p in pools if p.startswith("lane-")] == [f"lane-{worker.id}"]
    assert not [t for t in threading.enumerate() if t.name.startswith(f"lane-{worker.id}")]
