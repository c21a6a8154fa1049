"""A release to many partners at once: the lanes ask for one revision's body HTML together, and it
is rendered once for all of them (supply/ninjs.py), not once per lane that found it missing."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.site.fragments import FragmentCache
from publisher.store.engine import read_session
from publisher.store.tables import Revision
from publisher.supply import ninjs
from publisher.supply.ninjs import Packager, load_sources
from tests.supply_support import PUSH, SECRET, SECRET_ENV

LANES = 8


def test_partners_asking_for_one_revisions_body_at_once_have_it_rendered_once(
    newsroom_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setattr(ninjs, "_BODY_HTML", {})
    renders: list[str] = []
    real = FragmentCache.render_one

    def slow_render(self: FragmentCache, key: str, *args: Any, **kwargs: Any) -> Any:
        renders.append(key)
        time.sleep(0.05)  # long enough for every other lane to find the body missing
        return real(self, key, *args, **kwargs)

    monkeypatch.setattr(FragmentCache, "render_one", slow_render)
    room = Newsroom(newsroom_dir)
    try:
        assert ingest(room).ok
        with read_session(room.engine) as session:
            revision = session.exec(select(Revision)).first()
            assert revision is not None
            sources = load_sources(session, revision.id)
        packagers = [Packager(room, room.channels.channels[PUSH]) for _ in range(LANES)]
        together = threading.Barrier(LANES, timeout=5)
        bodies: list[str] = []

        def lane(packager: Packager) -> None:
            together.wait()
            bodies.append(packager.body_html(revision, sources))

        threads = [threading.Thread(target=lane, args=(p,)) for p in packagers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for p in packagers:
            p.flush()
    finally:
        room.close()
    assert len(renders) == 1
    assert len(bodies) == LANES and len(set(bodies)) == 1 and bodies[0]
