"""The WeChat sandbox and adapter set up for tests: the real wechatpy client over real HTTP."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import httpx

from publisher.articles import get_article
from publisher.channels.kinds import WechatSettings
from publisher.channels.wechat.adapter import WechatAdapter
from publisher.channels.wechat.render import WechatRendition
from publisher.channels.wechat.sandbox import State
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import Revision

APP_ID = "wx-sandbox-jianglan"

# Fast enough for tests, and still the real asynchrony: status 1 first, then the outcome.
FAST: dict[str, Any] = {
    "poll_seconds": 0.05,
    "publish_wait_seconds": 10.0,
    "reconcile_seconds": 5.0,
    "backoff_seconds": 0.01,
    "timeout_seconds": 5.0,
    "quiet_hours": [],
    "pushes_per_day": 20,
    # Every test of a module speaks as one account from one process: the account's real per-minute
    # limit (RateLimiter, tested on its own) would make a later test wait out the minute.
    "api_calls_per_minute": 100_000,
}


def reset(state: State) -> None:
    fresh = State(app_id=state.app_id, secret=state.secret, publish_delay=0.15)
    for field in dataclasses.fields(State):
        if field.name != "lock":
            setattr(state, field.name, getattr(fresh, field.name))


def publish_now(state: State, submits: int = 1) -> None:
    """WeChat finishes the publications submitted so far at once, rather than at their ready time:
    the tests that need a post to appear long after something gave up need not wait that long for
    it. Waits (a few seconds at most) for `submits` submits to land: a delayed one lands late."""
    deadline = time.monotonic() + 10
    while True:
        with state.lock:
            if len(state.jobs) >= submits:
                for job in state.jobs.values():
                    job.ready_at = min(job.ready_at, time.time())
                return
        assert time.monotonic() < deadline, f"{submits} submit(s) expected, {len(state.jobs)} landed"
        time.sleep(0.02)


def fault(base: str, path: str, **kwargs: Any) -> None:
    httpx.post(f"{base}/sandbox/faults", json={"path": path, **kwargs}).raise_for_status()


def sandbox_state(base: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{base}/sandbox/state").json()
    return data


def adapter(room: Newsroom, base: str, gate: bool = False, **settings: Any) -> WechatAdapter:
    channel = room.channels.channels["wechat"]
    assert isinstance(channel.settings, WechatSettings)
    widened = channel.settings.model_copy(update={"api_base": base, **FAST, **settings})
    channel = dataclasses.replace(channel, settings=widened)
    if gate:
        return WechatAdapter(channel, room, sleep=_no_sleep)
    return WechatAdapter(channel, room, gate=None, sleep=_short_sleep)


def _short_sleep(seconds: float) -> None:
    import time

    time.sleep(min(seconds, 0.05))


def _no_sleep(seconds: float) -> None:
    return None


def revisions(room: Newsroom, *slugs: str) -> list[Revision]:
    ingest(room, actor="test")
    with read_session(room.engine) as session:
        return [get_article(session, slug).revision for slug in slugs]


def bundle(room: Newsroom, wechat: WechatAdapter, *slugs: str) -> list[WechatRendition]:
    """Renditions of the slugs, the first the headline, the others by falling priority."""
    return [
        wechat.render(revision, priority=len(slugs) - i, headline=i == 0)
        for i, revision in enumerate(revisions(room, *slugs))
    ]


def calls(state: dict[str, Any], path: str) -> int:
    return int(state["calls"].get(path, 0))
