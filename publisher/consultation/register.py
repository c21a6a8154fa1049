"""A consultation's row, written from the approved revision when the website puts it live.

The site build calls `register_live` with the articles it shows: a `consultation:` block in the
revision the site shows opens (or updates) the consultation, so its window, clauses and questions
are always those of an approved, live revision; a draft that is not live takes no comments.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, select

from publisher.audit import Entry, append_many
from publisher.consultation.declare import ConsultationDecl, clauses, window
from publisher.store.engine import read_session, write_session
from publisher.store.tables import Consultation, Revision

SERVICE_ACTOR = "system:site"


@dataclass(frozen=True, slots=True)
class Live:
    """An article the website shows, as far as its consultation goes."""

    slug: str
    revision_id: str
    title: str
    meta: dict[str, Any]


def declared(meta: dict[str, Any]) -> ConsultationDecl | None:
    block = meta.get("consultation")
    return None if block is None else ConsultationDecl.model_validate(block)


def register_live(
    engine: Engine,
    live: Iterable[Live],
    tz: ZoneInfo,
    now: datetime,
    on_site: Collection[str] | None = None,
) -> list[str]:
    """Create or update the consultation of every live article that declares one, and note when a
    consultation's feedback report first went live (the contact purge counts from then); returns the
    slugs whose row changed. The body's clauses are read from the stored revision.

    `on_site`: every slug the site shows, when `live` holds only the articles that may declare a
    consultation (a site build passes the few with a `consultation:` block, not a thousand)."""
    live = list(live)
    wanted = [(item, decl) for item in live if (decl := declared(item.meta)) is not None]
    on_site = {item.slug for item in live} if on_site is None else {*on_site, *(i.slug for i in live)}
    changed: list[str] = []
    if not wanted:
        # Most builds have nothing to register: look without taking the write lock (on SQLite a
        # write transaction holds the whole database, the worker's releases included).
        with read_session(engine) as session:
            if not any(row.feedback_slug in on_site for row in _feedback_waiting(session)):
                return changed
    with write_session(engine) as session:
        for row in _feedback_waiting(session):
            if row.feedback_slug not in on_site:
                continue
            row.feedback_published_at = now
            row.updated_at = now
            session.add(row)
            changed.append(row.slug)
        if not wanted:
            return changed
        slugs = [item.slug for item, _ in wanted]
        rows = {r.slug: r for r in session.exec(select(Consultation).where(Consultation.slug.in_(slugs)))}  # type: ignore[attr-defined]
        bodies = dict(
            session.exec(
                select(Revision.id, Revision.body).where(Revision.id.in_([i.revision_id for i, _ in wanted]))  # type: ignore[attr-defined]
            ).all()
        )
        audit: list[Entry] = []
        for item, decl in wanted:
            opens, closes = window(decl, tz)
            heads, _ = clauses(bodies.get(item.revision_id, ""))
            values: dict[str, Any] = {
                "revision_id": item.revision_id,
                "title": item.title[:200],
                "opens_at": opens,
                "closes_at": closes,
                "name_required": decl.name_required,
                "clauses_json": json.dumps([c.as_dict() for c in heads], ensure_ascii=False),
                "questions_json": json.dumps(decl.questions, ensure_ascii=False),
            }
            if decl.feedback is not None:
                values["feedback_slug"] = decl.feedback
                if decl.feedback in on_site:
                    values["feedback_published_at"] = (
                        rows[item.slug].feedback_published_at if item.slug in rows else None
                    ) or now
            found = rows.get(item.slug)
            if found is None:
                row = Consultation(slug=item.slug, created_at=now, updated_at=now, **values)
            elif all(getattr(found, k) == v for k, v in values.items()):
                continue
            else:
                row = found
                for key, value in values.items():
                    setattr(row, key, value)
                row.updated_at = now
            session.add(row)
            changed.append(item.slug)
            audit.append(
                Entry(
                    SERVICE_ACTOR,
                    "consultation.registered",
                    "consultation",
                    item.slug,
                    item.revision_id,
                    {"opens_at": opens.isoformat(), "closes_at": closes.isoformat(), "clauses": len(heads)},
                )
            )
        append_many(session, audit)
    return changed


def _feedback_waiting(session: Session) -> Sequence[Consultation]:
    """The few consultations whose feedback report is not live yet, to be matched to the site by
    the caller: not a query that binds every slug of the site, in every build."""
    return session.exec(
        select(Consultation).where(
            Consultation.feedback_slug.is_not(None),  # type: ignore[union-attr]
            Consultation.feedback_published_at.is_(None),  # type: ignore[union-attr]
        )
    ).all()
