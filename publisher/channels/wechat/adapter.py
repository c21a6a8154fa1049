"""The WeChat channel adapter: check, render, deliver (draft, free-publish, follow), retract.

    adapter = WechatAdapter(newsroom.channels.channels["wechat"], newsroom)
    renditions = [adapter.render(revision, priority=p) for revision, p in due]
    receipts = adapter.deliver(renditions)          # one post of up to 8 articles
    adapter.retract(receipts[1])                     # take one article down

Delivery is idempotent: a bundle's key (given, or derived from its renditions) names one
`wechat_post` row that records how far the push went (drafted, submitting, publishing, ...). A
retry continues from there. After a submit whose answer never came, the post is reconciled with
`freepublish/batchget` before anything is submitted again.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from wechatpy.exceptions import WeChatClientException

from publisher import articles
from publisher.channels.kinds import WechatSettings
from publisher.channels.long_images import render_for
from publisher.channels.registry import Channel
from publisher.channels.wechat.client import (
    ApiClient,
    ApiQuotaExhausted,
    DatabaseTokenStore,
    limiter_for,
)
from publisher.channels.wechat.images import cover_crops, prepare
from publisher.channels.wechat.limits import check_article
from publisher.channels.wechat.render import GeneratedCover, ImageRef, WechatRendition, render_article
from publisher.content.model import wants_long_image
from publisher.errors import Problem, PublisherError
from publisher.imaging.service import cover_sheet
from publisher.newsroom import Newsroom
from publisher.review.checks import Subject
from publisher.review.gate import Gate, publication_gate
from publisher.schedule.windows import daily_windows, next_open
from publisher.store.engine import read_session, write_session
from publisher.store.tables import Revision, WechatMedia, WechatPost
from publisher.timeutil import local, next_day_start, utc_now

SANDBOX_SECRET = "sandbox"
# Posts that took (or may have taken) one of the day's pushes.
COUNTED = frozenset({"submitting", "publishing", "published", "unknown", "deleted", "banned"})
E_PUBLISH_LIMIT = 53503
E_NO_MASS_QUOTA = 45028
E_CLIENTMSGID_EXISTS = 45065

# freepublish/get publish_status -> (receipt status, what staff read)
PUBLISH_STATUS: dict[int, tuple[str, str]] = {
    0: ("published", "已发表 / published"),
    1: ("publishing", "发布中，等待微信完成 / publishing: waiting for WeChat"),
    2: ("failed", "原创校验未通过，未发表 / originality check failed: not published"),
    3: ("failed", "常规发布失败，未发表 / publishing failed: not published"),
    4: ("rejected", "平台审核不通过，未发表 / rejected by WeChat's platform review: not published"),
    5: ("deleted", "发表后已被删除 / deleted after publishing"),
    6: ("banned", "发表后被平台封禁 / blocked by WeChat after publishing"),
}


class WechatError(PublisherError):
    """Delivery could not be done now; `retryable` says whether to try again later."""

    retryable = False


class WechatRefused(WechatError):
    """Will not work as it is: the bundle, the account or WeChat refuses it."""


class WechatDeferred(WechatError):
    """Not now (quiet hours, today's pushes used, API quota): try again at `retry_at`."""

    retryable = True

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class WechatUncertain(WechatError):
    """A submit's answer was lost and reconciling has not found the post yet: state `unknown`.

    Call `deliver` again later: it reconciles before it would ever submit again.
    """

    retryable = True


@dataclass(frozen=True, slots=True)
class WechatReceipt:
    """What became of one article of a push."""

    remote_id: str  # "<article_id>:<index>" once published; the post's key before that
    url: str | None
    status: str  # published | publishing | failed | rejected | deleted | banned | retracted | held | unknown
    detail: str  # for staff, Chinese / English
    slug: str = ""
    revision_id: str = ""
    article_id: str | None = None
    index: int = 0  # 1-based place in the post (1 = the headline)
    post_key: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WechatReceipt:
        return cls(**data)


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def fingerprint(article: dict[str, Any]) -> str:
    """What tells one article of a post apart in WeChat's answers (`freepublish/batchget`): its
    title, its source link and the text of its content. WeChat rewrites the markup (styles, image
    addresses) and may write a digest of its own, never the text; a title alone is not unique."""
    text = _SPACE.sub("", html.unescape(_TAG.sub("", str(article.get("content") or ""))))
    payload = "\0".join((str(article.get("title") or ""), str(article.get("content_source_url") or ""), text))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def bundle_order(renditions: Sequence[WechatRendition]) -> list[WechatRendition]:
    """The headline first, then by priority (higher first); ties keep the order given."""
    indexed = list(enumerate(renditions))
    indexed.sort(key=lambda pair: (not pair[1].headline, -pair[1].priority, pair[0]))
    return [r for _, r in indexed]


def bundle_key(channel: str, renditions: Sequence[WechatRendition]) -> str:
    digest = hashlib.sha256(
        "\n".join([channel, *(r.sha256 for r in bundle_order(renditions))]).encode("utf-8")
    ).hexdigest()
    return f"wx-{digest[:40]}"


class WechatAdapter:
    kind = "wechat"

    def __init__(
        self,
        channel: Channel,
        newsroom: Newsroom,
        *,
        client: ApiClient | None = None,
        gate: Gate | None = publication_gate,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float | None = None,
    ) -> None:
        if not isinstance(channel.settings, WechatSettings):
            raise WechatRefused(
                f"渠道 {channel.name} 不是微信公众号 / channel {channel.name} is not a WeChat account"
            )
        self.channel = channel
        self.settings: WechatSettings = channel.settings
        self.room = newsroom
        self.gate = gate
        self.clock = clock
        self.sleep = sleep
        # The longest one call may wait for WeChat (following a publication, reconciling), in
        # seconds: an engine passes a share of its lease, so a wait never outlives the claim; the
        # post row keeps the state, and the next attempt continues from it.
        self.max_wait = max_wait
        self._client = client

    def _deadline(self, seconds: float) -> float:
        return time.monotonic() + (seconds if self.max_wait is None else min(seconds, self.max_wait))

    # -- construction ------------------------------------------------------------------------------
    @property
    def client(self) -> ApiClient:
        if self._client is None:
            s = self.settings
            secret = os.environ.get(s.app_secret_env)
            if not secret:
                if not s.sandbox:
                    raise WechatRefused(
                        f"环境变量 {s.app_secret_env} 未设置（公众号密钥） / set {s.app_secret_env} to the AppSecret"
                    )
                secret = SANDBOX_SECRET
            self._client = ApiClient(
                s.app_id,
                secret,
                api_base=s.api_base,
                tokens=DatabaseTokenStore(self.room.engine),
                timeout=s.timeout_seconds,
                limiter=limiter_for(s.app_id, s.api_calls_per_minute),
            )
        return self._client

    # -- check / render ----------------------------------------------------------------------------
    def check(self, subject: Subject) -> list[Problem]:
        return check_article(subject, self.settings, source=self.channel.source)

    def render(
        self,
        revision: Revision,
        assets: Sequence[ImageRef] | None = None,
        *,
        priority: int = 0,
        headline: bool = False,
    ) -> WechatRendition:
        """Pure: the same revision, images and settings give the same rendition (and sha256)."""
        meta = json.loads(revision.meta_json)
        with read_session(self.room.engine) as session:
            if assets is None:
                assets = [ImageRef(a.ref, a.role, a.sha256) for a in articles.assets_of(session, revision.id)]
            segments = self._long_image(session, revision, meta)
        return render_article(
            meta,
            revision.body,
            assets,
            self.settings,
            revision_id=revision.id,
            priority=priority,
            headline=headline,
            long_image=segments,
            generated_cover=self._generated_cover(revision, assets),
        )

    def _stored(self, data: bytes) -> str:
        """Generated images go into the blob store like a revision's own: uploads read them by hash."""
        sha = hashlib.sha256(data).hexdigest()
        self.room.blobs.put(sha, data)
        return sha

    def _long_image(self, session: Session, revision: Revision, meta: dict[str, Any]) -> list[ImageRef]:
        limits = self.settings.image_limits()
        if limits is None or not wants_long_image(meta):
            return []
        rendered = render_for(self.room, session, revision, limits)
        return [
            ImageRef(path.name, "inline", self._stored(data))
            for path, data in zip(rendered.paths, rendered.read(), strict=True)
        ]

    def _generated_cover(self, revision: Revision, assets: Sequence[ImageRef]) -> GeneratedCover | None:
        if not self.settings.generates_cards() or any(a.role == "cover" for a in assets):
            return None
        sheet = cover_sheet(self.room, revision, self.room.settings.newsroom.name)
        return GeneratedCover(self._stored(sheet.card.data), tuple(sorted(sheet.crops.items())))

    # -- deliver -----------------------------------------------------------------------------------
    def deliver(
        self, renditions: Sequence[WechatRendition], *, key: str | None = None
    ) -> list[WechatReceipt]:
        """Publish the renditions as one post; receipts in the order given. Safe to call again."""
        if not renditions:
            return []
        ordered = bundle_order(renditions)
        if len(ordered) > self.settings.max_articles:
            raise WechatRefused(
                f"一次推送最多 {self.settings.max_articles} 篇，收到 {len(ordered)} 篇 / at most "
                f"{self.settings.max_articles} articles in one post"
            )
        key = key or bundle_key(self.channel.name, ordered)
        held: dict[str, WechatReceipt] = {}
        post = self._post(key)
        if post is None:
            allowed = []
            for rendition in ordered:
                reasons = self._gate(rendition)
                if reasons:
                    held[rendition.revision_id or rendition.slug] = WechatReceipt(
                        remote_id=key,
                        url=None,
                        status="held",
                        detail="；".join(reasons),
                        slug=rendition.slug,
                        revision_id=rendition.revision_id,
                        post_key=key,
                    )
                else:
                    allowed.append(rendition)
            if allowed:
                post = self._draft(key, allowed)
        if post is not None:
            post = self._advance(post)
        receipts = {(r.revision_id or r.slug): r for r in (self.receipts(post) if post else [])}
        receipts.update(held)
        missing = WechatReceipt(
            remote_id=key,
            url=None,
            status="held",
            detail="不在这条推送中（建推送时未获准发布），请另行投递 / not in this post: it was held when the "
            "post was made; deliver it on its own",
            post_key=key,
        )
        return [
            receipts.get(r.revision_id or r.slug)
            or WechatReceipt(**{**missing.as_dict(), "slug": r.slug, "revision_id": r.revision_id})
            for r in renditions
        ]

    def _gate(self, rendition: WechatRendition) -> list[str]:
        if self.gate is None:
            return []
        with read_session(self.room.engine) as session:
            revision = session.get(Revision, rendition.revision_id)
            if revision is None:
                return [f"没有这个版本 {rendition.revision_id[:12]} / no such revision"]
            return list(self.gate(session, revision, self.channel, self.clock()).reasons)

    def _advance(self, post: WechatPost) -> WechatPost:
        if post.state == "drafted":
            post = self._submit(post)
        if post.state in ("submitting", "unknown"):
            post = self._reconcile(post)
        if post.state == "publishing":
            post = self._follow(post)
        if post.state == "published" and self.settings.mass_send and not post.mass_msg_id:
            post = self._mass_send(post)
        return post

    # -- the draft ---------------------------------------------------------------------------------
    def _draft(self, key: str, bundle: list[WechatRendition]) -> WechatPost:
        payload = [self._article(r) for r in bundle]
        try:
            media_id = str(self.client.post("draft/add", data={"articles": payload})["media_id"])
        except WeChatClientException as exc:
            raise self._api_failure(exc, "新建草稿 / draft/add") from exc
        except ApiQuotaExhausted as exc:
            raise self._quota_deferral(exc) from exc
        now = utc_now()
        entries = [
            {
                "slug": r.slug,
                "revision_id": r.revision_id,
                "title": r.title,
                "rendition": r.sha256,
                "fingerprint": fingerprint(article),
                "url": None,
                "retracted": False,
            }
            for r, article in zip(bundle, payload, strict=True)
        ]
        post = WechatPost(
            key=key,
            channel=self.channel.name,
            app_id=self.settings.app_id,
            state="drafted",
            local_day=self._local_day(),
            media_id=media_id,
            articles_json=json.dumps(entries, ensure_ascii=False),
            detail="草稿已建立 / drafted",
            created_at=now,
            updated_at=now,
        )
        try:
            with write_session(self.room.engine) as session:
                session.add(post)
        except IntegrityError:
            # Another worker drafted the same bundle first: continue with its post, drop our draft.
            self._quietly("draft/delete", {"media_id": media_id})
        found = self._post(key)  # read back: the committed row, detached and loaded
        assert found is not None
        return found

    def _article(self, rendition: WechatRendition) -> dict[str, Any]:
        urls = {sha: self._body_image(sha) for sha in rendition.images}
        media_id, crops = self._cover(rendition.cover_sha256)
        if rendition.cover_crops:
            crops = dict(rendition.cover_crops)
        return {
            "title": rendition.title,
            "author": rendition.author,
            "digest": rendition.digest,
            "content": rendition.content_with(urls),
            "content_source_url": rendition.content_source_url,
            "thumb_media_id": media_id,
            **crops,
            "need_open_comment": int(rendition.need_open_comment),
            "only_fans_can_comment": 0,
        }

    def _cached(self, kind: str, sha256: str) -> WechatMedia | None:
        with read_session(self.room.engine) as session:
            return session.exec(
                select(WechatMedia).where(
                    WechatMedia.app_id == self.settings.app_id,
                    WechatMedia.kind == kind,
                    WechatMedia.sha256 == sha256,
                )
            ).first()

    def _remember(self, kind: str, sha256: str, url: str, media_id: str | None) -> None:
        try:
            with write_session(self.room.engine) as session:
                session.add(
                    WechatMedia(
                        app_id=self.settings.app_id,
                        kind=kind,
                        sha256=sha256,
                        media_id=media_id,
                        url=url,
                        created_at=utc_now(),
                    )
                )
        except IntegrityError:
            pass  # another worker uploaded the same image: either address serves

    def _body_image(self, sha256: str) -> str:
        cached = self._cached("body", sha256)
        if cached is not None:
            return cached.url
        image = prepare(self.room.blobs.get(sha256), sha256[:16])
        try:
            url = str(self.client.media.upload_image((image.filename, image.data, image.mime)))
        except WeChatClientException as exc:
            raise self._api_failure(exc, "上传正文图片 / media/uploadimg") from exc
        except ApiQuotaExhausted as exc:
            raise self._quota_deferral(exc) from exc
        self._remember("body", sha256, url, None)
        return url

    def _cover_bytes(self, sha256: str | None) -> tuple[str, bytes]:
        if sha256 is not None:
            return sha256, self.room.blobs.get(sha256)
        if not self.settings.default_cover:
            raise WechatRefused("稿件没有封面，渠道也没有 default_cover / no cover and no default_cover")
        data = (self.room.root / self.settings.default_cover).read_bytes()
        return hashlib.sha256(data).hexdigest(), data

    def _cover(self, sha256: str | None) -> tuple[str, dict[str, str]]:
        sha, data = self._cover_bytes(sha256)
        image = prepare(data, f"cover-{sha[:16]}")
        crops = cover_crops(image.width, image.height)
        cached = self._cached("cover", sha)
        if cached is not None and cached.media_id:
            return cached.media_id, crops
        try:
            result = self.client.material.add("image", (image.filename, image.data, image.mime))
        except WeChatClientException as exc:
            raise self._api_failure(exc, "上传封面 / material/add_material") from exc
        except ApiQuotaExhausted as exc:
            raise self._quota_deferral(exc) from exc
        self._remember("cover", sha, str(result["url"]), str(result["media_id"]))
        return str(result["media_id"]), crops

    # -- submit, reconcile, follow -----------------------------------------------------------------
    def _submit(self, post: WechatPost) -> WechatPost:
        self._quota(post)
        # Mark first: a crash from here on leaves "submitting", which is reconciled, never resubmitted.
        post = self._update(
            post, state="submitting", submitted_at=utc_now(), detail="提交发布中 / submitting"
        )
        try:
            answer = self.client.freepublish.submit(post.media_id)
        except (requests.Timeout, requests.ConnectionError):
            return self._update(post, detail="提交无应答，核对中 / no answer to submit: reconciling")
        except ApiQuotaExhausted as exc:
            self._update(post, state="drafted", submitted_at=None)
            raise self._quota_deferral(exc) from exc
        except WeChatClientException as exc:
            self._update(post, state="drafted", submitted_at=None, detail=f"提交被拒 / submit refused: {exc}")
            if exc.errcode == E_PUBLISH_LIMIT:
                raise WechatDeferred(
                    f"公众号暂时不能发布（53503），稍后重试 / the account cannot publish now: {exc.errmsg}",
                    self.clock() + timedelta(seconds=self.settings.backoff_seconds),
                ) from exc
            raise self._api_failure(exc, "提交发布 / freepublish/submit") from exc
        return self._update(
            post, state="publishing", publish_id=str(answer["publish_id"]), detail=PUBLISH_STATUS[1][1]
        )

    def _reconcile(self, post: WechatPost) -> WechatPost:
        """Find a submit whose answer was lost among the published posts before anything else."""
        deadline = self._deadline(self.settings.reconcile_seconds)
        while True:
            found = self._find_published(post)
            if found is not None:
                return self._published_from_batch(post, found)
            if time.monotonic() >= deadline:
                break
            self.sleep(self.settings.poll_seconds)
        submitted = post.submitted_at or post.updated_at
        horizon = timedelta(seconds=max(self.settings.publish_wait_seconds, self.settings.reconcile_seconds))
        if utc_now() - submitted > horizon and self._draft_exists(post):
            # Long past any publication time, not among the published, and still a draft: the
            # submit never took effect. Only now is submitting again safe.
            post = self._update(
                post, state="drafted", detail="核对：此前提交未生效 / the earlier submit never took"
            )
            return self._submit(post)
        self._update(post, state="unknown", detail="提交结果未知，尚未在已发表列表中找到 / outcome unknown")
        raise WechatUncertain(
            f"推送 {post.key} 提交后无应答，已发表列表中暂未找到；稍后再次投递会先核对，不会重复发表 / "
            "the submit was not answered and the post is not among the published yet; delivering again "
            "reconciles first and never publishes twice"
        )

    def _find_published(self, post: WechatPost) -> dict[str, Any] | None:
        """The published post that is this one: the same articles, in order, by fingerprint (a
        post of the same titles is not enough), not already another post of ours, and published
        after this one was submitted (less a margin for clocks)."""
        entries = json.loads(post.articles_json)
        wanted = [e.get("fingerprint") or e["title"] for e in entries]
        by_print = all(e.get("fingerprint") for e in entries)  # posts drafted before fingerprints: titles
        since = (post.submitted_at or post.created_at).timestamp() - 300
        with read_session(self.room.engine) as session:
            taken = set(
                session.exec(
                    select(WechatPost.article_id).where(
                        WechatPost.app_id == post.app_id,
                        WechatPost.key != post.key,
                        col(WechatPost.article_id).is_not(None),
                    )
                )
            )
        offset = 0
        while True:
            try:
                page = self.client.freepublish.batchget(offset, 20, 0 if by_print else 1)
            except (requests.Timeout, requests.ConnectionError):
                return None
            items = page.get("item") or []
            for item in items:
                news = item.get("content", {}).get("news_item", [])
                found = [fingerprint(n) if by_print else n.get("title") for n in news]
                if (
                    found == wanted
                    and item.get("update_time", 0) >= since
                    and str(item.get("article_id")) not in taken
                ):
                    return dict(item)
            offset += len(items)
            # Newest first: once past the submit time, nothing older can be ours.
            if (
                not items
                or offset >= int(page.get("total_count", 0))
                or items[-1].get("update_time", 0) < since
            ):
                return None

    def _published_from_batch(self, post: WechatPost, item: dict[str, Any]) -> WechatPost:
        entries = json.loads(post.articles_json)
        for entry, news in zip(entries, item["content"]["news_item"], strict=False):
            entry["url"] = news.get("url")
        return self._update(
            post,
            state="published",
            publish_status=0,
            article_id=str(item["article_id"]),
            articles_json=json.dumps(entries, ensure_ascii=False),
            detail="已发表（经核对） / published (found by reconciling)",
        )

    def _draft_exists(self, post: WechatPost) -> bool:
        try:
            self.client.draft.get(post.media_id)
        except WeChatClientException:
            return False
        return True

    def _follow(self, post: WechatPost) -> WechatPost:
        deadline = self._deadline(self.settings.publish_wait_seconds)
        while True:
            fresh = self._post(post.key)  # a PUBLISHJOBFINISH callback may have settled it
            if fresh is not None and fresh.state != "publishing":
                return fresh
            try:
                answer = self.client.freepublish.get(post.publish_id)
            except (requests.Timeout, requests.ConnectionError):
                answer = {"publish_status": 1}
            post = self._apply_status(post, answer)
            if post.state != "publishing" or time.monotonic() >= deadline:
                return post
            self.sleep(self.settings.poll_seconds)

    def _apply_status(self, post: WechatPost, answer: dict[str, Any]) -> WechatPost:
        status = int(answer.get("publish_status", 1))
        if status == 1:
            return post
        entries = json.loads(post.articles_json)
        detail = answer.get("article_detail") or {}
        for item in detail.get("item") or []:
            idx = int(item.get("idx", 0))
            if 1 <= idx <= len(entries):
                entries[idx - 1]["url"] = item.get("article_url")
        fail_idx = [int(i) for i in answer.get("fail_idx") or []]
        for entry in entries:
            entry.pop("failed", None)
        for idx in fail_idx:
            if 1 <= idx <= len(entries):
                entries[idx - 1]["failed"] = True
        state, text = PUBLISH_STATUS.get(status, ("failed", f"未知状态 {status} / unknown status {status}"))
        return self._update(
            post,
            state=state,
            publish_status=status,
            article_id=str(answer["article_id"]) if answer.get("article_id") else post.article_id,
            articles_json=json.dumps(entries, ensure_ascii=False),
            detail=text,
        )

    def on_publish_event(self, xml: str) -> list[WechatReceipt]:
        """Settle a post from WeChat's PUBLISHJOBFINISH event (the callback); [] when not ours."""
        root = ET.fromstring(xml)
        if (root.findtext("Event") or "").upper() != "PUBLISHJOBFINISH":
            return []
        info = root.find("PublishEventInfo")
        if info is None:
            return []
        publish_id = (info.findtext("publish_id") or "").strip()
        with read_session(self.room.engine) as session:
            post = session.exec(select(WechatPost).where(WechatPost.publish_id == publish_id)).first()
        if post is None:
            return []
        answer: dict[str, Any] = {
            "publish_status": int(info.findtext("publish_status") or 1),
            "article_id": (info.findtext("article_id") or "").strip() or None,
            "article_detail": {
                "item": [
                    {
                        "idx": int(i.findtext("idx") or 0),
                        "article_url": (i.findtext("article_url") or "").strip(),
                    }
                    for i in info.iterfind("article_detail/item")
                ]
            },
            "fail_idx": [int(f.text or 0) for f in info.iterfind("fail_idx")],
        }
        if post.state == "publishing":
            post = self._apply_status(post, answer)
        return self.receipts(post)

    def _mass_send(self, post: WechatPost) -> WechatPost:
        """Notify followers too (message/mass/sendall): once a day; the post stays published regardless."""
        try:
            result = self.client.message.send_mass_article(
                post.media_id, is_to_all=True, client_msg_id=post.key[:64]
            )
        except WeChatClientException as exc:
            if exc.errcode == E_CLIENTMSGID_EXISTS:
                return self._update(post, mass_msg_id="sent")
            reason = "今日群发次数已用完" if exc.errcode == E_NO_MASS_QUOTA else f"群发失败 {exc.errcode}"
            return self._update(post, mass_msg_id=f"failed:{exc.errcode}", detail=f"已发表；{reason} / {exc}")
        return self._update(post, mass_msg_id=str(result.get("msg_id", "sent")))

    # -- quotas ------------------------------------------------------------------------------------
    def _local_day(self) -> str:
        return local(self.clock(), self.room.settings.tz).date().isoformat()

    def _quota(self, post: WechatPost) -> None:
        now = self.clock()
        here = local(now, self.room.settings.tz)
        # The account's own quiet hours, under the one quiet-hours rule of the schedules.
        opens = next_open(
            daily_windows(self.settings.quiet_hours, self.room.settings.tz), self.channel.name, now
        )
        if opens > now:
            quiet_until = local(opens, self.room.settings.tz)
            raise WechatDeferred(
                f"静默时段，{quiet_until:%H:%M} 后推送 / quiet hours until {quiet_until:%H:%M}", quiet_until
            )
        day = here.date().isoformat()
        limit = self.settings.push_limit
        with read_session(self.room.engine) as session:
            used = session.exec(
                select(WechatPost.key).where(
                    WechatPost.app_id == self.settings.app_id,
                    WechatPost.local_day == day,
                    col(WechatPost.state).in_(COUNTED),
                    WechatPost.key != post.key,
                )
            ).all()
        if len(used) >= limit:
            tomorrow = next_day_start(now, self.room.settings.tz)
            raise WechatDeferred(
                f"今日推送次数已用完（{len(used)}/{limit}），明天再推 / today's pushes are used ({len(used)}/{limit})",
                tomorrow,
            )
        if post.local_day != day:
            self._update(post, local_day=day)

    def _quota_deferral(self, exc: ApiQuotaExhausted) -> WechatDeferred:
        """45009 is a daily quota: the earliest try that can succeed is the newsroom's next day."""
        tomorrow = next_day_start(self.clock(), self.room.settings.tz)
        return WechatDeferred(f"{exc}，明天再试 / trying again tomorrow", tomorrow)

    def _api_failure(self, exc: WeChatClientException, what: str) -> WechatRefused:
        return WechatRefused(f"{what} 被微信拒绝（{exc.errcode}）：{exc.errmsg} / refused by WeChat")

    def refresh(self, receipt: WechatReceipt) -> list[WechatReceipt]:
        """Ask WeChat again where a post stands (a publication later deleted (5) or blocked (6))."""
        post = self._post(receipt.post_key)
        if post is None:
            raise WechatRefused(f"没有这条推送 / no post {receipt.post_key}")
        if post.state in ("drafted", "submitting", "unknown"):
            return self.receipts(self._advance(post))
        if post.publish_id:
            post = self._apply_status(post, self.client.freepublish.get(post.publish_id))
        return self.receipts(post)

    # -- retract -----------------------------------------------------------------------------------
    def retract(self, receipt: WechatReceipt) -> WechatReceipt:
        """Delete one published article; the whole post (index 0) only once every article is retracted."""
        post = self._post(receipt.post_key)
        if post is None or post.article_id is None or receipt.index < 1:
            raise WechatRefused(
                f"没有已发表的推送可撤回 / nothing published to retract for {receipt.remote_id}"
            )
        entries = json.loads(post.articles_json)
        entry = entries[receipt.index - 1]
        if not entry.get("retracted"):
            remaining = [e for i, e in enumerate(entries, 1) if i != receipt.index and not e.get("retracted")]
            index = 0 if not remaining else receipt.index
            try:
                self.client.freepublish.delete(post.article_id, index)
            except WeChatClientException as exc:
                raise self._api_failure(exc, "撤回 / freepublish/delete") from exc
            entry["retracted"] = True
            post = self._update(post, articles_json=json.dumps(entries, ensure_ascii=False))
        return self.receipts(post)[receipt.index - 1]

    # -- reading -----------------------------------------------------------------------------------
    def live_posts(self) -> list[dict[str, Any]]:
        """Every post the account shows now (`freepublish/batchget`, with content: an inspection
        holds each article's `fingerprint` to the one recorded in the `wechat_post` row)."""
        items: list[dict[str, Any]] = []
        offset = 0
        while True:
            try:
                page = self.client.freepublish.batchget(offset, 20, 0)
            except (WeChatClientException, requests.RequestException) as exc:
                raise WechatRefused(
                    f"无法读取公众号已发表内容 / cannot list the account's posts (freepublish/batchget): {exc}"
                ) from exc
            got = page.get("item") or []
            items.extend(dict(item) for item in got)
            offset += len(got)
            if not got or offset >= int(page.get("total_count", 0)):
                return items

    def receipts(self, post: WechatPost) -> list[WechatReceipt]:
        """Each article's receipt, as the post stands in the store."""
        if post.state in ("drafted", "submitting", "unknown"):
            status = "unknown" if post.state == "unknown" else "publishing"
            text = post.detail or post.state
        else:
            status, text = PUBLISH_STATUS.get(post.publish_status or 0, (post.state, post.detail or ""))
            if post.state == "publishing":
                status, text = PUBLISH_STATUS[1]
            elif status == "published" and post.detail and post.detail != text:
                text = post.detail  # e.g. found by reconciling, or the mass send's outcome
        entries = json.loads(post.articles_json)
        any_failed = any(e.get("failed") for e in entries)
        out = []
        for index, entry in enumerate(entries, 1):
            this_status, detail = status, text
            if entry.get("failed"):
                detail = f"{text}：本篇未通过 / this article failed"
            elif any_failed:
                detail = f"{text}：同一推送中另有文章未通过 / another article of this post failed"
            if entry.get("retracted"):
                this_status, detail = "retracted", "已撤回 / retracted"
            out.append(
                WechatReceipt(
                    remote_id=f"{post.article_id}:{index}" if post.article_id else post.key,
                    url=entry.get("url"),
                    status=this_status,
                    detail=detail,
                    slug=entry["slug"],
                    revision_id=entry["revision_id"],
                    article_id=post.article_id,
                    index=index,
                    post_key=post.key,
                )
            )
        return out

    def _post(self, key: str) -> WechatPost | None:
        with read_session(self.room.engine) as session:
            return session.get(WechatPost, key)

    def _update(self, post: WechatPost, **changes: Any) -> WechatPost:
        with write_session(self.room.engine) as session:
            row = session.get(WechatPost, post.key, with_for_update=True)
            assert row is not None
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = utc_now()
            session.add(row)
            session.flush()
            session.refresh(row)
            session.expunge(row)
            return row

    def _quietly(self, endpoint: str, data: dict[str, Any]) -> None:
        with contextlib.suppress(WeChatClientException, requests.RequestException):  # clean-up only
            self.client.post(endpoint, data=data)


__all__ = [
    "PUBLISH_STATUS",
    "WechatAdapter",
    "WechatDeferred",
    "WechatError",
    "WechatReceipt",
    "WechatRefused",
    "WechatUncertain",
    "bundle_key",
    "bundle_order",
]
