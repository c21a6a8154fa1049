"""Consultations and comments for the tests: rows inserted directly for the handling tests, and
the demo's draft taken live on a test newsroom for the intake tests."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlmodel import select

from publisher.consultation.intake import CommentIn, Intake
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.site.build import build_site
from publisher.store.engine import write_session
from publisher.store.tables import (
    Article,
    Consultation,
    ConsultationAttachment,
    ConsultationComment,
    ConsultationContact,
)
from publisher.web.app import create_app
from publisher.web.testing import serving
from tests.factory import REPO
from tests.site_support import allow_all, website

OPENS = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
CLAUSES = [
    {"key": "3", "label": "第三条", "heading": "职责分工"},
    {"key": "12", "label": "第十二条", "heading": "公共收益公示"},
]


def make_consultation(
    room: Newsroom,
    slug: str = "property-draft",
    *,
    opens: datetime = OPENS,
    days: int = 30,
    article: str | None = None,
) -> Consultation:
    """A consultation; with `article`, opened on that (ingested) article's current revision."""
    with write_session(room.engine) as session:
        revision_id = "0" * 64
        if article is not None:
            found = session.exec(select(Article).where(Article.slug == article)).one()
            revision_id = found.current_revision_id or revision_id
        row = Consultation(
            slug=slug,
            revision_id=revision_id,
            title="《江澜市物业管理条例（草案）》",
            opens_at=opens,
            closes_at=opens + timedelta(days=days),
            clauses_json=json.dumps(CLAUSES, ensure_ascii=False),
            questions_json="[]",
            created_at=opens,
            updated_at=opens,
        )
        session.add(row)
        session.flush()
        session.expunge(row)
    return row


_serial = iter(range(1, 1_000_000))


def add_comment(
    room: Newsroom,
    slug: str = "property-draft",
    *,
    body: str = "建议公共收益按季度公示。",
    clause: str | None = "12",
    commenter_type: str = "individual",
    received: datetime = OPENS + timedelta(days=1),
    name: str | None = "张三",
    contact: str | None = "13812345678",
    group_id: int | None = None,
    moderation: str = "pending",
    attachment: str | None = None,
) -> ConsultationComment:
    n = next(_serial)
    with write_session(room.engine) as session:
        comment = ConsultationComment(
            receipt=f"ZQ{n:08d}",
            slug=slug,
            clause=clause,
            commenter_type=commenter_type,
            name=name,
            body=body,
            fingerprint=hashlib.sha256(body.encode()).hexdigest(),
            group_id=group_id,
            source="online",
            received_at=received,
            moderation=moderation,
            updated_at=received,
        )
        session.add(comment)
        session.flush()
        assert comment.id is not None
        if contact is not None:
            session.add(
                ConsultationContact(
                    comment_id=comment.id,
                    kind="email" if "@" in contact else "phone",
                    value=contact,
                    contact_hash=hashlib.sha256(contact.encode()).hexdigest(),
                )
            )
        if attachment is not None:
            session.add(
                ConsultationAttachment(
                    comment_id=comment.id,
                    filename=attachment,
                    media_type="application/pdf",
                    size=10,
                    sha256="a" * 64,
                )
            )
        session.flush()
        session.expunge(comment)
    return comment


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
