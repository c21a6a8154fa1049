"""Writing notices: one row per person told, and one outbox row per outward channel that applies.

Called inside the transaction of the act that causes the notice (a review act, a delivery's
outcome), so the notice commits or vanishes with the act. It only writes rows: sending is the
engine's (publisher/notify/dispatch.py), so a mail server or robot that is down never holds up the
act. An event (`Announcement.ref`) tells a person once, and a group robot once, however many
times it is announced.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from publisher.config import NotifySettings, WebhookSettings
from publisher.notify.model import EMAIL, Announcement, OutboxStep
from publisher.store.tables import Notice, NoticeOutbox, StaffUser

log = logging.getLogger("publisher.notify")


def _roles(user: StaffUser) -> set[str]:
    roles: list[str] = json.loads(user.roles_json)
    return set(roles)


def _heard_by(webhook: WebhookSettings, user: StaffUser) -> bool:
    return user.username in webhook.usernames or bool(_roles(user) & set(webhook.roles))


def announce(session: Session, settings: NotifySettings, news: Announcement, now: datetime) -> list[Notice]:
    """Tell `news.recipients` (active staff only) about one event; returns the notices written now
    (none for people already told of this event). In a savepoint: should writing the notice fail,
    it is logged and the act that caused it still commits."""
    try:
        with session.begin_nested():
            return _write(session, settings, news, now)
    except Exception:
        log.exception("notice %s could not be written", news.ref)
        return []


def _write(session: Session, settings: NotifySettings, news: Announcement, now: datetime) -> list[Notice]:
    wanted = list(dict.fromkeys(news.recipients))
    if not wanted:
        return []
    told = set(
        session.exec(select(Notice.username).where(Notice.ref == news.ref, col(Notice.username).in_(wanted)))
    )
    users = {
        u.username: u
        for u in session.exec(
            select(StaffUser).where(col(StaffUser.username).in_(wanted), col(StaffUser.active).is_(True))
        )
    }
    fresh = [users[name] for name in wanted if name in users and name not in told]
    if not fresh:
        return []
    notices = [
        Notice(
            username=user.username,
            kind=news.kind,
            title=news.title[:300],
            body=news.body,
            link=news.link,
            ref=news.ref,
            created_at=now,
        )
        for user in fresh
    ]
    session.add_all(notices)
    session.flush()
    session.add_all(_outward(session, settings, news, list(zip(fresh, notices, strict=True)), now))
    return notices


def _outward(
    session: Session,
    settings: NotifySettings,
    news: Announcement,
    told: list[tuple[StaffUser, Notice]],
    now: datetime,
) -> Iterable[NoticeOutbox]:
    queued = set(
        session.exec(select(NoticeOutbox.channel, NoticeOutbox.recipient).where(NoticeOutbox.ref == news.ref))
    )
    base = {"kind": news.kind.value, "title": news.title, "body": news.body, "link": news.link}

    def message(channel: str, recipient: str, notice: Notice, payload: dict[str, object]) -> NoticeOutbox:
        assert notice.id is not None  # flushed
        return NoticeOutbox(
            notice_id=notice.id,
            channel=channel,
            recipient=recipient,
            ref=news.ref,
            payload_json=json.dumps(payload, ensure_ascii=False),
            state=OutboxStep.QUEUE.apply(None),
            next_attempt_at=now,
            created_at=now,
        )

    if settings.smtp is not None:
        for user, notice in told:
            if user.email and (EMAIL, user.email) not in queued:
                yield message(EMAIL, user.email, notice, base | {"to": [user.display_name]})
    for webhook in settings.webhooks:
        # A group robot posts once per event, naming everyone it concerns.
        heard = [(u, n) for u, n in told if _heard_by(webhook, u)]
        if heard and (webhook.name, webhook.name) not in queued:
            names = [u.display_name for u, _ in heard]
            yield message(webhook.name, webhook.name, heard[0][1], base | {"to": names})
