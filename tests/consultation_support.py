"""Consultations and comments for the handling tests, inserted as rows (the citizen side that
receives them is built and tested on its own)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from publisher.newsroom import Newsroom
from publisher.store.engine import write_session
from publisher.store.tables import (
    Article,
    Consultation,
    ConsultationAttachment,
    ConsultationComment,
    ConsultationContact,
)

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
