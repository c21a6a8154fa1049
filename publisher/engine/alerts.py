"""The duty editors hear of a release that failed, was held or was missed: the engine calls
`TroubleAlerts.tell` in the transaction that records the outcome (publisher/engine/claims.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from publisher.config import NotifySettings
from publisher.delivery.states import DeliveryState
from publisher.notify import Announcement, NoticeKind, announce
from publisher.store.tables import Article, Revision
from publisher.timeutil import show

KINDS = {  # the notice's kind, its headline, and how the sentence ends
    DeliveryState.FAILED: (NoticeKind.DELIVERY_FAILED, "发布失败", "失败"),
    DeliveryState.HELD: (NoticeKind.DELIVERY_HELD, "发布被拦下", "被拦下，未发出"),
    DeliveryState.MISSED: (NoticeKind.DELIVERY_MISSED, "错过发布", "已过补发宽限期，未发出"),
}


@dataclass(frozen=True, slots=True)
class Trouble:
    delivery_id: int
    article_id: int
    channel: str
    status: DeliveryState
    reason: str | None
    due_at: datetime
    attempt: int  # tells one failure of a delivery from the next after a person re-arms it


class TroubleAlerts:
    def __init__(self, settings: NotifySettings, tz: ZoneInfo, channel_titles: Mapping[str, str]) -> None:
        self.settings = settings
        self.tz = tz
        self.titles = channel_titles

    @staticmethod
    def concerns(status: str) -> bool:
        return status in KINDS

    def tell(self, session: Session, troubles: Sequence[Trouble], now: datetime) -> None:
        if not troubles or not self.settings.duty_editors:
            return
        wanted = {t.article_id for t in troubles}
        rows = session.exec(
            select(Article.id, Article.slug, Revision.title)
            .join(Revision, col(Revision.id) == col(Article.current_revision_id), isouter=True)
            .where(col(Article.id).in_(wanted))
        ).all()
        articles = {article_id: (slug, title or slug) for article_id, slug, title in rows}
        for t in troubles:
            kind, headline, ending = KINDS[t.status]
            slug, title = articles.get(t.article_id, (str(t.article_id), str(t.article_id)))
            channel = self.titles.get(t.channel, t.channel)
            announce(
                session,
                self.settings,
                Announcement(
                    kind=kind,
                    recipients=tuple(self.settings.duty_editors),
                    title=f"{headline}：《{title}》→ {channel}",
                    body=f"《{title}》在「{channel}」（{t.channel}）的发布{ending}。\n"
                    f"计划时间：{show(t.due_at, self.tz)}\n原因：{t.reason or '未知 / unknown'}",
                    ref=f"delivery:{t.delivery_id}:{t.status}:{t.attempt}:{t.due_at.timestamp():.0f}",
                    link=f"/articles/{slug}",
                ),
                now,
            )
