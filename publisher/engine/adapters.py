"""Engine performers for the channels whose adapters live in `publisher/channels/`: the website
(and its feeds) and the WeChat official account. Importing this module registers them."""

from __future__ import annotations

from publisher.channels.protocol import DeliveryError as SiteDeliveryError
from publisher.channels.registry import Channel
from publisher.channels.website import WebsiteAdapter
from publisher.engine.performers import (
    PERFORMERS,
    Performer,
    Permanent,
    Receipt,
)
from publisher.engine.release import released_gate, site_of
from publisher.newsroom import Newsroom
from publisher.store.tables import Delivery, Revision


class WebsitePerformer:
    """Releases one article on the site: rebuild once, deploy atomically; a retry deploys nothing new."""

    retry_safe = True

    def __init__(self, room: Newsroom, channel: Channel) -> None:
        self.room = room
        site = site_of(room, channel)
        if site is None:
            raise Permanent(f"渠道 {channel.name} 没有对应的网站 / no website behind channel {channel.name}")
        self.site = site

    def perform(self, delivery: Delivery, revision: Revision) -> Receipt:
        adapter = WebsiteAdapter(self.room, self.site, released_gate(self.room, {delivery.article_id}))
        try:
            [receipt] = adapter.deliver([adapter.render(revision)])
        except SiteDeliveryError as exc:
            raise Permanent(str(exc)) from None
        return Receipt(remote_id=receipt.remote_id, url=receipt.url, detail=dict(receipt.details))

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
