"""The engine's performer for the website and its feeds (kinds "website" and "feed").

A release and a takedown are both a rebuild of the site through the released gate: the site
shows what its releases allow and nothing else. A retracted article is refused by the gate (the
`Retraction` row), so a takedown's rebuild leaves it out, and never puts up an article whose
release is not due yet.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

from publisher.channels.registry import Channel
from publisher.channels.website import WebsiteAdapter, slug_of
from publisher.delivery.contract import DeliveryError, Permanent, Receipt
from publisher.engine.release import released_gate, site_of
from publisher.newsroom import Newsroom
from publisher.site import build
from publisher.site.site import article_url
from publisher.store.tables import Delivery, Revision

# One site build at a time in this process: lanes run side by side, and a build keeps module state
# of its own (the page writers' staging folder), so two builds at once would mix their pages. Builds
# are CPU-bound, so waiting costs little.
_BUILDING = threading.Lock()


@dataclass
class _SiteState:
    """What every performer of one site in this process shares: the revisions this process has
    released there (article -> revision ids), since a release's outcome reaches the database only
    after the next build may have begun; without it, that build would take the page down again until
    the record lands. Revisions, not articles: a correction still in review must not go up."""

    released: dict[int, set[str]] = field(default_factory=dict)


_SITES: weakref.WeakKeyDictionary[Newsroom, dict[str, _SiteState]] = weakref.WeakKeyDictionary()
_SITES_LOCK = threading.Lock()


def _site_state(room: Newsroom, site: Channel) -> _SiteState:
    with _SITES_LOCK:
        return _SITES.setdefault(room, {}).setdefault(site.name, _SiteState())


class WebsitePerformer:
    """Releases articles on the site: one rebuild for every release due at the same instant, an
    atomic deploy; a retry deploys nothing new."""

    retry_safe = True
    bundle = 1000  # releases due together go up in one build, all of them live after it

    def __init__(self, room: Newsroom, channel: Channel) -> None:
        self.room = room
        self.channel = channel
        site = site_of(room, channel)
        if site is None:
            raise Permanent(f"渠道 {channel.name} 没有对应的网站 / no website behind channel {channel.name}")
        self.site = site
        self.state = _site_state(room, site)

    def perform(self, delivery: Delivery, revision: Revision) -> Receipt:
        [result] = self.perform_bundle([(delivery, revision)])
        if isinstance(result, DeliveryError):
            raise result
        return result

    def perform_bundle(self, items: list[tuple[Delivery, Revision]]) -> list[Receipt | DeliveryError]:
        with _BUILDING:
            releasing = {d.article_id for d, _ in items}
            gate = released_gate(self.room, releasing, recent=self.state.released)
            adapter = WebsiteAdapter(self.room, self.site, gate)
            try:
                receipts = adapter.deliver([adapter.render(revision) for _, revision in items])
            except Permanent as exc:
                return [Permanent(str(exc))] * len(items)
            by_slug = {r.slug: r for r in receipts}
            results: list[Receipt | DeliveryError] = []
            for delivery, revision in items:
                receipt = by_slug.get(slug_of(revision))
                if receipt is None:
                    results.append(Permanent(f"未发布 / not published: {slug_of(revision)}"))
                    continue
                self.state.released.setdefault(delivery.article_id, set()).add(revision.id)
                results.append(
                    Receipt(remote_id=receipt.remote_id, url=receipt.url, detail=dict(receipt.details))
                )
            return results

    def take_down(self, delivery: Delivery, revision: Revision) -> Receipt:
        """Rebuild the site (pages and feeds) with what was released, less the retracted article."""
        slug = slug_of(revision)
        with _BUILDING:
            report = build.build_site(
                self.room, self.site, released_gate(self.room, recent=self.state.released)
            )
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
