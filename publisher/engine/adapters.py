"""The engine's performer for the website and its feeds (kinds "website" and "feed").

A release and a takedown are both a rebuild of the site through the released gate: the site
shows what its releases allow and nothing else. A retracted article is refused by the gate (the
`Retraction` row), so a takedown's rebuild leaves it out, and never puts up an article whose
release is not due yet.
"""

from __future__ import annotations

from publisher.channels.registry import Channel
from publisher.channels.website import WebsiteAdapter, slug_of
from publisher.delivery.contract import Permanent, Receipt
from publisher.engine.release import released_gate, site_of
from publisher.newsroom import Newsroom
from publisher.site import build
from publisher.site.site import article_url
from publisher.store.tables import Delivery, Revision


class WebsitePerformer:
    """Releases one article on the site: rebuild once, deploy atomically; a retry deploys nothing new."""

    retry_safe = True

    def __init__(self, room: Newsroom, channel: Channel) -> None:
        self.room = room
        self.channel = channel
        site = site_of(room, channel)
        if site is None:
            raise Permanent(f"渠道 {channel.name} 没有对应的网站 / no website behind channel {channel.name}")
        self.site = site

    def perform(self, delivery: Delivery, revision: Revision) -> Receipt:
        adapter = WebsiteAdapter(self.room, self.site, released_gate(self.room, {delivery.article_id}))
        [receipt] = adapter.deliver([adapter.render(revision)])
        return Receipt(remote_id=receipt.remote_id, url=receipt.url, detail=dict(receipt.details))

    def take_down(self, delivery: Delivery, revision: Revision) -> Receipt:
        """Rebuild the site (pages and feeds) with what was released, less the retracted article."""
        slug = slug_of(revision)
        report = build.build_site(self.room, self.site, released_gate(self.room))
        still = slug in report.published or any(slug in items for items in report.feed_items.values())
        if still:
            raise Permanent(
                f"{slug} 仍在网站上：发布闸门未拒绝它 / still on the site: the gate did not refuse it"
            )
        return Receipt(
            remote_id=article_url(slug),
            detail={"taken_down": slug, "site": self.site.name, "channel": self.channel.name},
        )

    def reconcile(self, delivery: Delivery) -> Receipt | None:
        return None

    def close(self) -> None:
        pass
