"""What a draft's page shows of its consultation (征求意见): the form per clause and for the whole
draft, the window, how many comments were received, and the feedback report once published.

Called by the site build with the articles it puts live: their consultations are registered (or
updated) from the very revisions shown (`consultation/register.py`), then read back for the page.
The page is static; its small script (static/consultation.js) gives each form a random submission
key and refreshes the count and the window's state from the API between builds.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlmodel import select

from publisher.config import ConsultationSettings
from publisher.consultation.register import Live, register_live
from publisher.consultation.states import CommenterType
from publisher.site.select import Item
from publisher.store.engine import read_session
from publisher.store.tables import Consultation, ConsultationComment


def _show(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def consultation_views(
    engine: Engine, items: list[Item], settings: ConsultationSettings, tz: ZoneInfo, now: datetime
) -> dict[str, dict[str, Any]]:
    """slug -> the consultation context of its page, for every live article that declares one."""
    # Only an item with a `consultation:` block can declare one; every slug is on the site.
    live = [
        Live(i.slug, i.revision_id, i.title, {"consultation": i.consultation})
        for i in items
        if i.consultation is not None
    ]
    register_live(engine, live, tz, now, on_site=[i.slug for i in items])
    slugs = [i.slug for i in items if i.consultation is not None]
    if not slugs:
        return {}
    # The intake rules (screening, grouping) load only for a site that shows a consultation.
    from publisher.consultation.intake import phase

    with read_session(engine) as session:
        rows = session.exec(select(Consultation).where(Consultation.slug.in_(slugs))).all()  # type: ignore[attr-defined]
        totals = dict(
            session.exec(
                select(ConsultationComment.slug, func.count())
                .where(ConsultationComment.slug.in_(slugs))  # type: ignore[attr-defined]
                .group_by(ConsultationComment.slug)
            ).all()
        )
    views: dict[str, dict[str, Any]] = {}
    api = settings.api_base
    for row in rows:
        current = phase(row, now)
        published = row.feedback_slug if row.feedback_published_at is not None else None
        views[row.slug] = {
            "slug": row.slug,
            "api": f"{api}/consultations/{row.slug}" if api else None,
            "lookup": f"{api}/consultations/receipts" if api else None,
            "phase": current.value,
            "phase_label": current.label,
            "opens": _show(row.opens_at, tz),
            "closes": _show(row.closes_at, tz),
            "closes_at": row.closes_at.isoformat(),
            "name_required": row.name_required,
            "clauses": json.loads(row.clauses_json),
            "questions": json.loads(row.questions_json),
            "total": totals.get(row.slug, 0),
            "feedback_url": f"/articles/{published}.html" if published else None,
            "max_chars": settings.max_chars,
            "max_mb": round(settings.max_attachment_bytes / 1048576, 1),
            "types": [{"value": t.value, "label": t.label} for t in CommenterType],
        }
    return views
