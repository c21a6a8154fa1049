"""A test newsroom carrying the demo's 征求意见 draft, built and live, with a clock of our own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from publisher.consultation.intake import CommentIn, Intake
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.site.build import build_site
from publisher.web.app import create_app
from publisher.web.testing import serving
from tests.factory import REPO
from tests.site_support import allow_all, website

SLUG = "property-management-draft-comments"
DRAFT = REPO / "content" / "legislation" / f"{SLUG}.md"
# Inside the demo's window (2026-11-02 09:00 to the end of 2026-12-01, Asia/Shanghai).
OPEN = datetime.fromisoformat("2026-11-20T10:00:00+08:00")
BEFORE = datetime.fromisoformat("2026-11-01T10:00:00+08:00")
AFTER = datetime.fromisoformat("2026-12-02T00:00:01+08:00")


def add_draft(root: Path, text: str | None = None) -> Path:
    """The demo's draft (or a variant of its text) with its cover, into a test newsroom."""
    target = root / "content" / "legislation" / DRAFT.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text if text is not None else DRAFT.read_text(encoding="utf-8"), encoding="utf-8")
    shutil.copytree(DRAFT.parent / "images", target.parent / "images", dirs_exist_ok=True)
    return target


def go_live(room: Newsroom, now: datetime = OPEN) -> None:
    """Ingest and build the website: the consultation is registered from the revision it shows."""
    assert ingest(room).ok
    build_site(room, website(room), allow_all, now=now, workers=1)


def comment(**overrides: Any) -> CommentIn:
    fields: dict[str, Any] = {
        "slug": SLUG,
        "body": "建议将首次业主大会的筹备时限由六十日缩短为三十日。",
        "contact": "13912345678",
        "consent": True,
    }
    fields.update(overrides)
    return CommentIn(**fields)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def app_with_clock(room: Newsroom, clock: Clock) -> FastAPI:
    app = create_app(room)
    app.state.clock = clock
    return app


@contextmanager
def served(room: Newsroom, clock: Clock) -> Iterator[tuple[str, Intake]]:
    app = app_with_clock(room, clock)
    intake = app.state.consultation_intake = Intake(room)
    with serving(room, app) as base:
        yield base, intake
