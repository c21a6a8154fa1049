"""Deleting what identifies a commenter once it has served: `contact_retention_days` after the
feedback report is published, each comment's contact row is deleted, its name cleared, and an
attachment's original file name (often a person's name) replaced by a neutral one. The comments,
their handling and the attachments' bytes stay.

When was the report published? `Consultation.feedback_published_at`; while it is empty, the purge
reads it from the engine's record: the first finished release of the feedback article
(`feedback_slug`) on any channel, and keeps it on the consultation. The purge therefore needs no
hook into the engine, and an article released by any channel starts the clock the same way.

Run by `publisher consultation purge` (a person with Act.CONSULT) and by `publisher run` with each
scheduled inspection (the engine's service account). Idempotent: a second run finds nothing, and a
comment imported later is purged by the next run. One transaction and one `consultation.purged`
audit event (with the counts) per consultation that had anything to delete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from publisher import audit
from publisher.auth.identity import Identity, Via
from publisher.auth.permissions import Act, require
from publisher.errors import NotFound
from publisher.store.engine import write_session
from publisher.store.tables import (
    Article,
    Consultation,
    ConsultationAttachment,
    ConsultationComment,
    ConsultationContact,
    Delivery,
)


@dataclass(frozen=True, slots=True)
class Purged:
    slug: str
    contacts: int
    names: int
    attachments: int


@dataclass(frozen=True, slots=True)
class Waiting:
    slug: str
    purge_at: datetime | None  # None: the feedback report is not published yet


def report_published_at(session: Session, consultation: Consultation) -> datetime | None:
    if consultation.feedback_published_at is not None:
        return consultation.feedback_published_at
    if not consultation.feedback_slug:
        return None
    first: datetime | None = session.exec(
        select(func.min(Delivery.done_at))
        .join(Article, col(Article.id) == col(Delivery.article_id))
        .where(
            Article.slug == consultation.feedback_slug,
            Delivery.action == "publish",
            Delivery.status == "done",
        )
    ).one()
    return first


def _purge_one(session: Session, consultation: Consultation, actor: str, now: datetime) -> Purged | None:
    ids = list(
        session.exec(select(ConsultationComment.id).where(ConsultationComment.slug == consultation.slug))
    )
    if not ids:
        return None
    contacts = session.exec(
        select(func.count())
        .select_from(ConsultationContact)
        .where(col(ConsultationContact.comment_id).in_(ids))
    ).one()
    session.exec(delete(ConsultationContact).where(col(ConsultationContact.comment_id).in_(ids)))
    named = list(
        session.exec(
            select(ConsultationComment).where(
                ConsultationComment.slug == consultation.slug, col(ConsultationComment.name).is_not(None)
            )
        )
    )
    for comment in named:
        comment.name, comment.updated_at, comment.updated_by = None, now, actor
        session.add(comment)
    renamed = 0
    for attachment in session.exec(
        select(ConsultationAttachment).where(col(ConsultationAttachment.comment_id).in_(ids))
    ):
        neutral = f"附件-{attachment.comment_id}{_suffix(attachment.filename)}"
        if attachment.filename != neutral:
            attachment.filename = neutral
            session.add(attachment)
            renamed += 1
    if not (contacts or named or renamed):
        return None
    if consultation.contacts_purged_at is None:
        consultation.contacts_purged_at = now
    consultation.updated_at = now
    session.add(consultation)
    purged = Purged(consultation.slug, contacts, len(named), renamed)
    audit.append(
        session,
        actor=actor,
        action="consultation.purged",
        object_type="consultation",
        object_id=consultation.slug,
        details={"contacts": contacts, "names": len(named), "attachments": renamed},
    )
    return purged


def _suffix(filename: str) -> str:
    dot = filename.rfind(".")
    tail = filename[dot:].lower() if dot > 0 else ""
    return tail if tail.isascii() and 1 < len(tail) <= 6 else ""


def purge(
    engine: Engine, actor: Identity, retention_days: int, now: datetime, *, slug: str | None = None
) -> tuple[list[Purged], list[Waiting]]:
    """Purge every consultation (or `slug`) whose retention has run out; the others are returned
    with the moment theirs will (None: the report is not published yet)."""
    if actor.via is not Via.SERVICE:
        require(actor, Act.CONSULT)
    done: list[Purged] = []
    waiting: list[Waiting] = []
    with write_session(engine) as session:
        query = select(Consultation.slug).order_by(col(Consultation.slug))
        if slug is not None:
            query = query.where(Consultation.slug == slug)
        slugs = list(session.exec(query))
    if slug is not None and not slugs:
        raise NotFound(f"找不到征求意见 / no consultation {slug!r}")
    for name in slugs:
        # One transaction per consultation: one that fails leaves the others purged.
        with write_session(engine) as session:
            consultation = session.get(Consultation, name, with_for_update=True)
            if consultation is None:
                continue
            published = report_published_at(session, consultation)
            if published is not None and consultation.feedback_published_at is None:
                consultation.feedback_published_at = published
                session.add(consultation)
            due = None if published is None else published + timedelta(days=retention_days)
            if due is None or now < due:
                waiting.append(Waiting(name, due))
                continue
            result = _purge_one(session, consultation, actor.username, now)
            if result is not None:
                done.append(result)
    return done, waiting
