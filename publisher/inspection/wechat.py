"""The WeChat account held to the `wechat_post` rows: posts that are not ours, ours deleted outside
the system, retracted articles still up, and the account's last post (政务新媒体 2 周无更新)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from publisher.channels.registry import Channel
from publisher.channels.wechat.adapter import WechatAdapter, fingerprint
from publisher.errors import PublisherError
from publisher.inspection.findings import Finding
from publisher.inspection.settings import InspectionSettings
from publisher.newsroom import Newsroom
from publisher.store.retractions import in_force_ids
from publisher.store.tables import Article, WechatPost


def _shown(item: dict[str, Any]) -> list[dict[str, Any]]:
    news: list[dict[str, Any]] = item.get("content", {}).get("news_item", [])
    return news


def inspect_wechat(
    room: Newsroom, channel: Channel, settings: InspectionSettings, session: Session, now: datetime
) -> list[Finding]:
    name = channel.name
    try:
        posts = WechatAdapter(channel, room, gate=None).live_posts()
    except PublisherError as exc:
        return [
            Finding(
                "wechat.unreachable",
                name,
                "无法检查公众号 / the account cannot be inspected",
                str(exc),
                channel=name,
            )
        ]
    findings: list[Finding] = []
    live = {str(p.get("article_id")): p for p in posts if any(not n.get("is_deleted") for n in _shown(p))}
    ours = session.exec(
        select(WechatPost).where(WechatPost.channel == name, col(WechatPost.article_id).is_not(None))
    ).all()
    retracted = set(session.exec(select(Article.slug).where(col(Article.id).in_(in_force_ids()))))
    known = {str(p.article_id) for p in ours}
    for article_id, item in sorted(live.items()):
        if article_id not in known:
            titles = "、".join(str(n.get("title", "")) for n in _shown(item) if not n.get("is_deleted"))
            findings.append(
                Finding(
                    "wechat.foreign-post",
                    f"{name}:{article_id}",
                    "公众号上有不是本系统发布的文章 / a post the system did not publish",
                    titles,
                    channel=name,
                )
            )
    for post in ours:
        if post.state != "published":
            continue
        shown = live.get(str(post.article_id))
        news = _shown(shown) if shown is not None else []
        for index, entry in enumerate(json.loads(post.articles_json), 1):
            up = index <= len(news) and not news[index - 1].get("is_deleted")
            where = f"{name}:{post.article_id}:{index}"
            if entry.get("retracted"):
                continue
            if up and entry.get("fingerprint") and fingerprint(news[index - 1]) != entry["fingerprint"]:
                findings.append(
                    Finding(
                        "wechat.tampered",
                        where,
                        "公众号上的文章与本系统发布的内容不符（可能被篡改） / the post differs from what we published",
                        str(entry.get("slug")),
                        channel=name,
                    )
                )
            if entry.get("slug") in retracted and up:
                findings.append(
                    Finding(
                        "wechat.retracted-live",
                        where,
                        "已撤稿的稿件仍在公众号上 / a retracted article is still on the account",
                        str(entry.get("slug")),
                        channel=name,
                    )
                )
            elif not up and entry.get("slug") not in retracted:
                findings.append(
                    Finding(
                        "wechat.missing",
                        where,
                        "本系统发布的文章已不在公众号上（在系统外被删除） / a post of ours was deleted outside the system",
                        str(entry.get("slug")),
                        channel=name,
                    )
                )
    times = [int(p.get("update_time", 0)) for p in live.values()]
    last = datetime.fromtimestamp(max(times), UTC) if times else None
    days = settings.freshness.wechat_days
    if last is None or now - last > timedelta(days=days):
        findings.append(
            Finding(
                "wechat.stale",
                name,
                f"公众号超过 {days} 天未更新 / the account has not posted in {days} days",
                f"最近 / last: {last.isoformat() if last else '无 / none'}",
                channel=name,
            )
        )
    return findings
