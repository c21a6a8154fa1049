"""Where an approved correction goes: to every channel that released an older revision of the
article, each after its own policy (`KindSettings.correction_policy`).

- "replace" (website, feeds): a release of the corrected revision, due now; until the engine
  performs it the site keeps the revision it released (engine/release.py), then the page shows
  the corrected text with its 更正 note and the feeds their `updated`.
- "note" (WeChat by default: the API cannot edit a published post): nothing is sent; the post is
  listed as showing the older revision (`publisher articles`, `corrections_outstanding`).
- "republish" (WeChat, by choice): the old post is taken down and the corrected one published, as
  two deliveries the engine performs (audit `correction.republish` records the choice). A takedown
  with no retraction behind it retires only posts of superseded revisions (the channel's
  `take_down`), so the two may be performed in either order, and retried, without harm.

Partners follow corrections in supply/service.py (`follow_corrections`: next version, ednote 更正).
Every step is idempotent: one delivery per (channel, article, revision), found by its key.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from publisher import audit
from publisher.delivery.states import DeliveryAction
from publisher.engine import scheduling
from publisher.engine.outstanding import Outstanding, corrections_outstanding
from publisher.newsroom import Newsroom
from publisher.store.engine import write_session
from publisher.store.tables import Article, AuditEvent, Delivery
from publisher.timeutil import utc_now

log = logging.getLogger("publisher.corrections")


@dataclass
class CorrectionPlan:
    queued: list[tuple[str, str]] = field(default_factory=list)  # (channel, slug): release added
    outstanding: list[Outstanding] = field(default_factory=list)  # "note" and "republish"


def correction_key(channel: str, slug: str, revision_id: str) -> str:
    return "cor-" + hashlib.sha256(f"{channel}|{slug}|{revision_id}".encode()).hexdigest()[:40]


def follow_corrections(
    room: Newsroom, actor: str, *, slug: str | None = None, now: datetime | None = None
) -> CorrectionPlan:
    """Queue the corrected revision where the article went (see the module's docstring)."""
    due = now or utc_now()
    plan = CorrectionPlan()
    with write_session(room.engine) as session:
        for item in corrections_outstanding(room, session, slug):
            key = correction_key(item.channel, item.slug, item.corrected_id)
            if item.policy != "replace":
                plan.outstanding.append(item)
                if item.policy == "republish" and not _recorded(session, item.slug, key):
                    audit.append(
                        session,
                        actor=actor,
                        action="correction.republish",
                        object_type="article",
                        object_id=item.slug,
                        revision_id=item.corrected_id,
                        details={"channel": item.channel, "key": key, "live": item.live_number},
                    )
                if item.policy == "republish":
                    article = session.get(Article, item.article_id)
                    assert article is not None
                    if enqueue_republish(session, article, item.channel, actor, due) is not None:
                        plan.queued.append((item.channel, item.slug))
                continue
            if session.exec(select(Delivery.id).where(Delivery.idempotency_key == key)).first() is None:
                # Read by the query above: the session's identity map answers without a round trip.
                article = session.get(Article, item.article_id)
                assert article is not None
                scheduling.add_delivery(
                    session,
                    article,
                    item.channel,
                    due,
                    key,
                    actor,
                    action=DeliveryAction.PUBLISH,
                    why="correction",
                )
                plan.queued.append((item.channel, item.slug))
    return plan


def _recorded(session: Session, slug: str, key: str) -> bool:
    """A republish intent is recorded once per (channel, article, revision)."""
    rows = session.exec(
        select(AuditEvent.details_json).where(
            AuditEvent.object_type == "article",
            AuditEvent.object_id == slug,
            AuditEvent.action == "correction.republish",
        )
    )
    return any(json.loads(details).get("key") == key for details in rows)


def enqueue_republish(
    session: Session, article: Article, channel: str, actor: str, now: datetime | None = None
) -> Delivery | None:
    """The takedown of the superseded post and the release of the corrected revision on a
    "republish" channel; the release, or None when both were added before."""
    assert article.current_revision_id is not None
    key = correction_key(channel, article.slug, article.current_revision_id)
    if session.exec(select(Delivery.id).where(Delivery.idempotency_key == key)).first() is not None:
        return None
    due = now or utc_now()
    scheduling.add_delivery(
        session,
        article,
        channel,
        due,
        "cor-down-" + key.removeprefix("cor-"),
        actor,
        action=DeliveryAction.TAKE_DOWN,
        why="correction",
    )
    return scheduling.add_delivery(
        session, article, channel, due, key, actor, action=DeliveryAction.PUBLISH, why="correction"
    )


def after_approval(room: Newsroom, slug: str, actor: str) -> None:
    """Called once a revision is fully approved. A failure never undoes the approval: the next
    approval or `follow_corrections` catches up."""
    try:
        follow_corrections(room, actor, slug=slug)
    except Exception:  # the approval stands; the follow-up is repeatable
        log.exception("follow-up of corrections for %s failed", slug)
