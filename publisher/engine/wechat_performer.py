"""The engine performer for a WeChat official account (loaded only when one is configured)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime

import requests
from sqlmodel import Session, select

from publisher.channels.registry import Channel
from publisher.channels.wechat.adapter import (
    WechatAdapter,
    WechatDeferred,
    WechatError,
    WechatReceipt,
    WechatRefused,
    WechatUncertain,
)
from publisher.delivery.contract import Deferred, DeliveryError, Permanent, Receipt, Transient, Unknown
from publisher.delivery.states import DeliveryAction, DeliveryState
from publisher.newsroom import Newsroom
from publisher.store.retractions import in_force
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
        self.room = room
        self.channel = channel
        wait = room.settings.engine.lease_seconds / 3
        self.adapter = WechatAdapter(channel, room, gate=None, max_wait=wait)
        self.bundle = self.adapter.settings.max_articles  # releases due together become one post

    def use_clock(self, now: Callable[[], datetime]) -> None:
        self.adapter.clock = now

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
            wait = max(1.0, (exc.retry_at - self.adapter.clock()).total_seconds())
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

    def take_down(self, delivery: Delivery, revision: Revision) -> Receipt:
        """Delete the article from every post that carried it (freepublish/delete); the whole post
        goes only once every article in it is retracted. Deleting again deletes nothing more."""
        with Session(self.room.engine) as session:
            done = session.exec(
                select(Delivery).where(
                    Delivery.article_id == delivery.article_id,
                    Delivery.channel == self.channel.name,
                    Delivery.status == DeliveryState.DONE,
                    Delivery.action == DeliveryAction.PUBLISH,
                )
            ).all()
            if in_force(session, delivery.article_id) is None:
                # No retraction: a correction's takedown retires the superseded posts only, so the
                # corrected one survives whichever of the two deliveries the engine performs first.
                done = [d for d in done if d.revision_id != revision.id]
        taken: list[str] = []
        for release in done:
            detail = json.loads(release.receipt_json or "{}").get("detail") or {}
            if not detail.get("post_key"):
                continue
            try:
                receipt = self.adapter.retract(WechatReceipt.from_dict(detail))
            except requests.RequestException as exc:
                # WeChat could not be reached: nothing was deleted, so trying again is safe.
                raise Transient(f"微信接口无法连接 / WeChat API unreachable: {exc}") from None
            except WechatError as exc:
                error = Transient if exc.retryable else Permanent
                raise error(f"微信撤回失败 / WeChat takedown failed: {exc}") from None
            taken.append(receipt.remote_id)
        if not taken:
            return Receipt(remote_id="not-published", detail={"skipped": "未在微信发表 / never published"})
        return Receipt(remote_id=",".join(taken), detail={"retracted": taken})

    def reconcile(self, delivery: Delivery) -> Receipt | None:
        return None

    def close(self) -> None:
        pass
