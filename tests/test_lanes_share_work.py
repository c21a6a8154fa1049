"""A release to many partners runs one lane per partner, side by side: what the lanes ask for
together is worked out once for all of them (a revision's secrecy screening), and each lane
renders with a converter of its own, so lanes rendering at once each get their own body's HTML."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from publisher.review import gate
from publisher.review.checks import BUILTIN_MARKINGS, Subject, check_secrecy
from publisher.site import render
from publisher.site.quick_markdown import QuickMarkdown

LANES = 8


def side_by_side(work: Callable[[int], Any]) -> list[Any]:
    """`work(i)` on LANES threads started together; the results in lane order."""
    together = threading.Barrier(LANES, timeout=10)
    results: list[Any] = [None] * LANES

    def lane(i: int) -> None:
        together.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=lane, args=(i,)) for i in range(LANES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.fixture
def switch_often() -> Iterator[None]:
    """Threads hand over the interpreter every few microseconds, so overlapping work interleaves."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_each_lane_builds_its_converter_once_and_keeps_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # A converter holds the state of the document it converts, so lanes must not share one; a lane
    # asking again gets the one it built (building costs more than a small conversion).
    monkeypatch.setattr(render, "_converter", render._Converter())
    built: list[QuickMarkdown] = []

    class SlowToBuild(QuickMarkdown):
        def __init__(self, **kwargs: Any) -> None:
            time.sleep(0.05)  # long enough for every other lane to find no converter yet
            super().__init__(**kwargs)
            built.append(self)

    monkeypatch.setattr(render, "QuickMarkdown", SlowToBuild)
    pairs = side_by_side(lambda _: (render.markdown_converter(), render.markdown_converter()))
    assert len(built) == LANES
    assert all(first is again for first, again in pairs)
    assert len({id(first) for first, _ in pairs}) == LANES


def test_lanes_rendering_at_once_each_get_their_own_bodys_html(switch_often: None) -> None:
    bodies = [
        "\n\n".join(
            [
                f"# 第{i}篇标题",
                *(f"## 第{i}篇第{p}节\n\n第{i}篇第{p}段：**条例**草案审议。" for p in range(12)),
            ]
        )
        for i in range(LANES)
    ]
    alone = [render.render_markdown(body) for body in bodies]
    for _ in range(5):
        assert side_by_side(lambda i: render.render_markdown(bodies[i])) == alone


def test_lanes_asking_whether_one_revision_carries_a_mark_screen_it_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gate, "_marked", {})
    screened: list[str] = []

    def slow_screening(subject: Subject, markings: Any) -> Any:
        screened.append(subject.body)
        time.sleep(0.05)  # long enough for every other lane to find no answer yet
        return check_secrecy(subject, markings)

    monkeypatch.setattr(gate, "check_secrecy", slow_screening)
    subject = Subject({"title": "标题"}, "正文。\n\n机密★\n")
    answers = side_by_side(lambda _: gate._carries_mark("rev-1", lambda: subject, BUILTIN_MARKINGS))
    assert answers == [True] * LANES
    assert screened == [subject.body]
