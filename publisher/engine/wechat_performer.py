"""The engine performer for a WeChat official account (loaded only when one is configured)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from publisher.channels.registry import Channel
from publisher.channels.wechat.adapter import (
    WechatAdapter,
    WechatDeferred,
    WechatReceipt,
    WechatRefused,
    WechatUncertain,
)
from publisher.engine.performers import Deferred, DeliveryError, Permanent, Receipt, Unknown
from publisher.newsroom import Newsroom
from publisher.store.tables import Delivery, Revision

# How soon to look again at a WeChat post that is still being published (status 1).
PUBLISHING_POLL_SECONDS = 5.0


class WechatPerformer:
    """One article as one post (draft, free-publish, followed to its URL). Retry-safe: the adapter
    reconciles by the delivery's key with WeChat before it would ever submit twice."""

    retry_safe = True

    def __init__(self, room: Newsroom, channel: Channel) -> None:
        # The engine has already asked the publication gate; the adapter need not ask again. A wait
        # for WeChat takes at most a third of the lease, so the claim never runs out under it.
        wait = room.settings.engine.lease_seconds / 3
        self.adapter = WechatAdapter(channel, room, gate=None, max_wait=wait)
        self.bundle = self.adapter.settings.max_articles  # releases due together become one post

    def perform(self, delivery: Delivery, revision: Revision) -> Receipt:
        [result] = self.perform_bundle([(delivery, revision)])
        if isinstance(result, DeliveryError):
            raise result
        return result

    def perform_bundle(self, items: list[tuple[Delivery, Revision]]) -> list[Receipt | DeliveryError]:
        """One post for releases due at the same moment: the first scheduled is the headline. The
        post's key derives from the deliveries' keys, so a retry follows the same post."""
        keys = sorted(d.idempotency_key for d, _ in items)
        key = (
            items[0][0].idempotency_key
            if len(items) == 1
            else "bundle-" + hashlib.sha256("|".join(keys).encode()).hexdigest()[:40]
        )
        try:
            renditions = [
                self.adapter.render(revision, priority=len(items) - n, headline=n == 0)
                for n, (_d, revision) in enumerate(items)
            ]
            receipts = self.adapter.deliver(renditions, key=key)
        except WechatDeferred as exc:
            wait = max(1.0, (exc.retry_at - datetime.now(UTC)).total_seconds())
            return [Deferred(str(exc), retry_after=wait)] * len(items)
        except WechatUncertain as exc:
            return [Unknown(str(exc))] * len(items)
        except WechatRefused as exc:
            return [Permanent(str(exc))] * len(items)
        return [self._one(receipt) for receipt in receipts]

    @staticmethod
    def _one(receipt: WechatReceipt) -> Receipt | DeliveryError:
        if receipt.status == "published":
            return Receipt(remote_id=receipt.remote_id, url=receipt.url, detail=receipt.as_dict())
        if receipt.status == "publishing":
            return Deferred("微信发布中 / still publishing", retry_after=PUBLISHING_POLL_SECONDS)
        return Permanent(f"微信 {receipt.status}: {receipt.detail}")

    def reconcile(self, delivery: Delivery) -> Receipt | None:
        return None

    def close(self) -> None:
        pass
