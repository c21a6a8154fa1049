"""Engine performers for the channels whose adapters live in `publisher/channels/`: the website
(and its feeds) and the WeChat official account. Importing this module registers them."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

from publisher.channels.protocol import DeliveryError as SiteDeliveryError
from publisher.channels.registry import Channel
from publisher.channels.website import WebsiteAdapter, slug_of
from publisher.engine.performers import (
    PERFORMERS,
    DeliveryError,
    Performer,
    Permanent,
    Receipt,
)
from publisher.engine.release import released_gate, site_of
from publisher.newsroom import Newsroom
from publisher.store.tables import Delivery, Revision

# One site build at a time in this process: lanes run side by side, and a build keeps module state
# of its own (the page writers' staging folder), so two builds at once would mix their pages. Builds
# are CPU-bound, so waiting costs little.
_BUILDING = threading.Lock()


@dataclass
class _SiteState:
    """What every performer of one site in this process shares: the articles this process has
    released there, since a release's outcome reaches the database only after the next build may
    have begun; without it, that build would take the page down again until the record lands."""

    released: set[int] = field(default_factory=set)


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
            releasing = self.state.released | {d.article_id for d, _ in items}
            adapter = WebsiteAdapter(self.room, self.site, released_gate(self.room, releasing))
            try:
                receipts = adapter.deliver([adapter.render(revision) for _, revision in items])
            except SiteDeliveryError as exc:
                return [Permanent(str(exc))] * len(items)
            by_slug = {r.slug: r for r in receipts}
            results: list[Receipt | DeliveryError] = []
            for delivery, revision in items:
                receipt = by_slug.get(slug_of(revision))
                if receipt is None:
                    results.append(Permanent(f"未发布 / not published: {slug_of(revision)}"))
                    continue
                self.state.released.add(delivery.article_id)
                results.append(
                    Receipt(remote_id=receipt.remote_id, url=receipt.url, detail=dict(receipt.details))
                )
            return results

    def reconcile(self, delivery: Delivery) -> Receipt | None:
        return None

    def close(self) -> None:
        pass


def _website(room: Newsroom, channel: Channel) -> Performer:
    return WebsitePerformer(room, channel)


def _wechat(room: Newsroom, channel: Channel) -> Performer:
    # wechatpy and the WeChat HTML stack load only for an engine that delivers to WeChat.
    from publisher.engine.wechat_performer import WechatPerformer

    return WechatPerformer(room, channel)


PERFORMERS["website"] = _website
PERFORMERS["feed"] = _website
PERFORMERS["wechat"] = _wechat
