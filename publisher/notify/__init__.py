"""Notifications: who should know what, in the console and outward (e-mail, WeCom, DingTalk robots).

Producers (review acts, the engine's failed, held and missed releases) call `announce` inside their
own transaction: it only writes rows. The engine sends the outbox (`Dispatcher`), retried and
audited, beside its rounds. The console reads through `notices_for`, `unread_count`, `mark_read`.
"""

from publisher.notify.dispatch import Dispatcher, Report, requeue_failed
from publisher.notify.inbox import mark_read, notices_for, unread_count
from publisher.notify.model import Announcement, NoticeKind, NoticeView, OutboxState, OutboxStep
from publisher.notify.produce import announce
from publisher.notify.senders import senders_for

__all__ = [
    "Announcement",
    "Dispatcher",
    "NoticeKind",
    "NoticeView",
    "OutboxState",
    "OutboxStep",
    "Report",
    "announce",
    "mark_read",
    "notices_for",
    "requeue_failed",
    "senders_for",
    "unread_count",
]
