"""The website channel adapter: the portal's static site, deployed atomically to `public/`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

import markdown
from sqlmodel import col, select

from publisher.channels.kinds import WebsiteSettings
from publisher.channels.protocol import Receipt, Rendition
from publisher.channels.registry import Channel
from publisher.delivery.contract import Permanent
from publisher.errors import Problem
from publisher.newsroom import Newsroom
from publisher.review.gate import Gate
from publisher.site import build
from publisher.site.fragments import render_key
from publisher.site.media import Source
from publisher.site.render import sanitise
from publisher.site.site import MEDIA_URL, article_url
from publisher.store.engine import read_session
from publisher.store.tables import Revision, RevisionAsset

TITLE_MAX = 80  # a title longer than this wraps to four lines in the masthead of an article page


def slug_of(revision: Revision) -> str:
    slug: str = json.loads(revision.meta_json)["slug"]
    return slug


class SiteBuildingAdapter:
    """What the website and feed adapters share: they deliver by building the site."""

    kind = ""

    def __init__(
        self,
        room: Newsroom,
        channel: Channel,
        gate: Gate,
        *,
        now: datetime | None = None,
        workers: int | None = None,
    ) -> None:
        if channel.kind != self.kind:
            raise ValueError(f"{channel.name} is a {channel.kind} channel, not a {self.kind}")
        self.room = room
        self.channel = channel
        self.gate = gate
        self.now = now
        self.workers = workers


class WebsiteAdapter(SiteBuildingAdapter):
    kind = "website"

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
        self.settings = cast(WebsiteSettings, channel.settings)

    def _sources(self, revision: Revision) -> list[Source]:
        with read_session(self.room.engine) as session:
            rows = session.exec(
                select(RevisionAsset)
                .where(RevisionAsset.revision_id == revision.id)
                .order_by(col(RevisionAsset.position))
            ).all()
        return [Source(a.ref, a.role, a.sha256, a.width, a.height, a.format) for a in rows]

    def check(self, revision: Revision) -> list[Problem]:
        where = revision.source
        problems = []
        if len(revision.title) > TITLE_MAX:
            problems.append(
                Problem(
                    where,
                    f"网站标题不超过 {TITLE_MAX} 字 / title longer than {TITLE_MAX}",
                    "title",
                    severity="warning",
                )
            )
        for source in self._sources(revision):
            if not self.room.blobs.has(source.sha256):
                problems.append(
                    Problem(
                        where,
                        f"图片内容缺失 / image bytes missing from the blob store: {source.ref}",
                        "images",
                    )
                )
        if "<" in revision.body:
            raw = markdown.markdown(revision.body)
            if sanitise(raw) != raw:
                problems.append(
                    Problem(
                        where,
                        "正文中的部分 HTML 不被允许，发布时将被移除 / some raw HTML is not allowed and will be removed",
                        "body",
                        severity="warning",
                    )
                )
        return problems

    def render(self, revision: Revision) -> Rendition:
        fragments = build.fragment_cache(self.room, self.channel)
        key = render_key(revision.id, MEDIA_URL)
        fragments.ensure([(key, revision.body, tuple(self._sources(revision)))], workers=1)
        fragment = fragments.get(key)
        return Rendition(
            channel=self.channel.name,
            revision_id=revision.id,
            slug=slug_of(revision),
            media_type="text/html; charset=utf-8",
            body=fragment.html.encode("utf-8"),
            attachments=fragment.media,
        )

    def deliver(self, renditions: Sequence[Rendition]) -> list[Receipt]:
        """Rebuild and deploy the site once for the whole batch; a retry deploys nothing new."""
        report = build.build_site(self.room, self.channel, self.gate, now=self.now, workers=self.workers)
        live = set(report.published)
        receipts = []
        refused = []
        for r in renditions:
            if r.slug not in live:
                refused.append(f"{r.slug}: {'; '.join(report.excluded.get(r.slug, ('not current',)))}")
                continue
            receipts.append(
                Receipt(
                    channel=self.channel.name,
                    revision_id=r.revision_id,
                    slug=r.slug,
                    idempotency_key=r.idempotency_key,
                    remote_id=article_url(r.slug),
                    url=self.settings.base_url.rstrip("/") + article_url(r.slug),
                    delivered_at=self.now or datetime.now(UTC),
                    details={"release": str(report.release.name if report.release else "")},
                )
            )
        if refused and not receipts:
            raise Permanent("未发布 / not published: " + " | ".join(refused))
        return receipts

    def retract(self, receipt: Receipt) -> None:
        """Take the page down and drop it from every index, feed, sitemap and the search index.

        What comes down is what the gate refuses: record the `Retraction` first (the retraction
        service does), then this rebuild leaves the article out everywhere on the site."""
        build.build_site(self.room, self.channel, self.gate, now=self.now, workers=self.workers)
