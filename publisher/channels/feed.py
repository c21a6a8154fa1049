"""The feed channel adapter: RSS 2.0, Atom 1.0 and JSON Feed 1.1 published beside a website."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

from publisher.channels.kinds import FeedSettings
from publisher.channels.protocol import Receipt, Rendition
from publisher.channels.registry import Channel
from publisher.channels.website import SiteBuildingAdapter, WebsiteAdapter, slug_of
from publisher.delivery.contract import Permanent
from publisher.errors import Problem, PublisherError
from publisher.newsroom import Newsroom
from publisher.review.gate import Gate
from publisher.site import build
from publisher.site.feeds import absolute, feed_path
from publisher.site.site import article_url
from publisher.store.tables import Revision


class FeedAdapter(SiteBuildingAdapter):
    kind = "feed"

    def __init__(
        self,
        room: Newsroom,
        channel: Channel,
        gate: Gate,
        *,
        now: datetime | None = None,
        workers: int | None = None,
    ) -> None:
        super().__init__(room, channel, gate, now=now, workers=workers)
        self.settings = cast(FeedSettings, channel.settings)
        site = room.channels.channels.get(self.settings.site)
        if site is None or site.kind != "website":
            raise PublisherError(
                f"{channel.source}: settings.site 须为网站渠道 / must name a website channel, not {self.settings.site!r}"
            )
        self.site = WebsiteAdapter(room, site, gate, now=now, workers=workers)

    @property
    def base_url(self) -> str:
        return self.site.settings.base_url.rstrip("/")

    def check(self, revision: Revision) -> list[Problem]:
        problems = [p for p in self.site.check(revision) if p.field != "title"]
        meta = json.loads(revision.meta_json)
        if not meta.get("summary"):
            problems.append(
                Problem(
                    revision.source,
                    "订阅源条目建议有导语 / feed items read better with a summary",
                    "summary",
                    severity="warning",
                )
            )
        return problems

    def render(self, revision: Revision) -> Rendition:
        """The item as a JSON Feed 1.1 object, content with absolute URLs (what every format carries)."""
        page = self.site.render(revision)
        meta = json.loads(revision.meta_json)
        url = self.base_url + article_url(page.slug)
        item = {
            "id": url,
            "url": url,
            "title": revision.title,
            "content_html": absolute(page.body.decode("utf-8"), self.base_url),
            "summary": meta.get("summary", ""),
            "date_published": meta["date"],
            "authors": [{"name": a} for a in meta.get("authors", [])],
            "tags": meta.get("tags", []),
        }
        body = json.dumps(item, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return Rendition(self.channel.name, revision.id, slug_of(revision), "application/feed+json", body)

    def deliver(self, renditions: Sequence[Rendition]) -> list[Receipt]:
        """Regenerate every feed file once for the batch (the site's pages are left as they are)."""
        wanted = {r.slug for r in renditions}
        report = build.build_site(
            self.room, self.site.channel, self.gate, now=self.now, targets=("feeds",), workers=self.workers
        )
        listed = set(report.feed_items.get(self.channel.name, []))
        feed_url = f"{self.base_url}/{feed_path('all', self.settings.formats[0])}"
        receipts = [
            Receipt(
                channel=self.channel.name,
                revision_id=r.revision_id,
                slug=r.slug,
                idempotency_key=r.idempotency_key,
                remote_id=r.slug,
                url=feed_url,
                delivered_at=self.now or datetime.now(UTC),
            )
            for r in renditions
            if r.slug in listed
        ]
        if renditions and not receipts:
            raise Permanent("未进入订阅源 / none of the batch is in the feed: " + ", ".join(sorted(wanted)))
        return receipts

    def retract(self, receipt: Receipt) -> None:
        """Regenerate the feeds; the gate refuses a retracted article, so its item goes."""
        build.build_site(
            self.room, self.site.channel, self.gate, now=self.now, targets=("feeds",), workers=self.workers
        )
