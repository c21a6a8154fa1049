"""Staff actions of partner supply: supply an article, follow corrections, retract everywhere,
issue and revoke pull tokens, record adoptions. Faces (CLI, HTTP) call these and nothing else."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from publisher import audit
from publisher.channels.protocol import Receipt as ChannelReceipt
from publisher.channels.registry import Channel
from publisher.engine import scheduling
from publisher.errors import NotFound, PublisherError
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session, write_session
from publisher.store.tables import (
    Adoption,
    Article,
    Delivery,
    PartnerToken,
    Retraction,
    ReviewState,
    Revision,
    Supply,
)
from publisher.supply.ninjs import KILL_NOTE, Packager
from publisher.timeutil import to_utc, utc_now

log = logging.getLogger("publisher.supply")
PENDING = ("scheduled", "held", "missed")


class SupplyError(PublisherError):
    pass


def partners(room: Newsroom) -> dict[str, Channel]:
    return {n: c for n, c in sorted(room.channels.channels.items()) if c.kind == "partner"}


def partner(room: Newsroom, name: str) -> Channel:
    channel = partners(room).get(name)
    if channel is None:
        known = ", ".join(partners(room)) or "(none)"
        raise NotFound(f"没有这个合作媒体 / no partner channel {name!r}; declared: {known}")
    return channel


def _article(session: Session, slug: str) -> Article:
    article = session.exec(select(Article).where(Article.slug == slug)).first()
    if article is None or article.current_revision_id is None:
        raise NotFound(f"没有这篇稿件 / no article with slug {slug!r}")
    return article


def _key(kind: str, *parts: str) -> str:
    return f"{kind}-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


def _enqueue(
    session: Session,
    article: Article,
    channel: str,
    key: str,
    action: str,
    due: datetime,
    actor: str,
    why: str,
) -> bool:
    """Add one delivery unless its key exists (a re-run adds nothing). True when added."""
    if session.exec(select(Delivery.id).where(Delivery.idempotency_key == key)).first() is not None:
        return False
    scheduling.add_delivery(session, article, channel, due, key, actor, action=action, why=why)
    return True


# -- supply ---------------------------------------------------------------------------------------
@dataclass
class SupplyPlan:
    scheduled: list[scheduling.Scheduled] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # partner -> why not
    warnings: list[str] = field(default_factory=list)


def supply_article(
    room: Newsroom,
    slug: str,
    actor: str,
    *,
    names: list[str] | None = None,
    at: datetime | None = None,
    now: datetime | None = None,
) -> SupplyPlan:
    """Schedule an article to every partner that takes it (or the ones named), at `at` or now."""
    chosen = {n: partner(room, n) for n in names} if names else partners(room)
    plan = SupplyPlan()
    with Session(room.engine) as session:
        article = _article(session, slug)
        revision = session.get(Revision, article.current_revision_id)
        assert revision is not None
        for name, channel in chosen.items():
            if not channel.enabled:
                plan.skipped[name] = "渠道已停用 / the channel is disabled"
                continue
            refusal = Packager(room, channel).refusal(revision)
            if refusal:
                plan.skipped[name] = refusal
    wanted = [n for n in chosen if n not in plan.skipped]
    if wanted:
        due = at or now or utc_now()
        result = scheduling.schedule(room, slug, wanted, due, actor, now=now)
        plan.scheduled, plan.warnings = result.items, result.warnings
    return plan


def follow_corrections(
    room: Newsroom, actor: str, *, slug: str | None = None, now: datetime | None = None
) -> list[tuple[str, str]]:
    """Every partner that holds an older revision of an article whose current one is approved gets
    the new one as an update (ednote 更正). Idempotent: one delivery per (partner, revision)."""
    due = now or utc_now()
    queued: list[tuple[str, str]] = []
    declared = partners(room)
    with write_session(room.engine) as session:
        query = (
            select(Supply, Article, ReviewState)
            .join(Article, col(Article.id) == col(Supply.article_id))
            .join(ReviewState, col(ReviewState.revision_id) == col(Article.current_revision_id))
            .where(
                col(Supply.pubstatus) == "usable",
                col(Supply.revision_id) != col(Article.current_revision_id),
                col(ReviewState.status) == "approved",
            )
        )
        if slug is not None:
            query = query.where(col(Article.slug) == slug)
        for row, article, state in session.exec(query).all():
            channel = declared.get(row.partner)
            if channel is None or not channel.enabled:
                continue
            if session.get(Retraction, article.id) is not None:
                continue
            key = _key("upd", row.partner, article.slug, state.revision_id)
            if _enqueue(session, article, row.partner, key, "publish", due, actor, "correction"):
                queued.append((row.partner, article.slug))
    return queued


def after_approval(room: Newsroom, slug: str, actor: str) -> None:
    """Called once a revision is fully approved: a correction goes to the partners that had the piece.
    A failure here never undoes the approval; `publisher supply sync` catches up."""
    try:
        follow_corrections(room, actor, slug=slug)
    except Exception:  # the approval stands; the follow-up is repeatable
        log.exception("follow-up of corrections for %s failed; run `publisher supply sync`", slug)


# -- retraction -----------------------------------------------------------------------------------
@dataclass
class RetractReport:
    slug: str
    canceled: int  # releases not yet made, on any channel
    kills: list[str]  # push partners that will get the kill notice
    tombstoned: list[str]  # partners whose pull feed now shows a tombstone
    taken_down: list[str]  # website and feed channels rebuilt without it
    already: bool = False


def retract(
    room: Newsroom, slug: str, reason: str, actor: str, *, now: datetime | None = None
) -> RetractReport:
    """撤稿: take an article down on every channel. Pending releases are canceled; partners that
    hold it get a kill notice (push) or a tombstone (pull); the website and feeds drop it."""
    reason = reason.strip()
    if not reason:
        raise SupplyError("撤稿须说明理由 / a retraction needs a reason (--reason)")
    moment = to_utc(now) if now else utc_now()
    declared = partners(room)
    report = RetractReport(slug, 0, [], [], [])
    with write_session(room.engine) as session:
        article = _article(session, slug)
        assert article.id is not None
        revision_id = article.current_revision_id or ""
        existing = session.get(Retraction, article.id)
        report.already = existing is not None
        if existing is None:
            session.add(
                Retraction(article_id=article.id, reason=reason, retracted_by=actor, retracted_at=moment)
            )
        pending = session.exec(
            select(Delivery)
            .where(
                col(Delivery.article_id) == article.id,
                col(Delivery.status).in_(PENDING),
                col(Delivery.action) == "publish",
            )
            .with_for_update()
        ).all()
        for delivery in pending:
            delivery.status, delivery.updated_at = "canceled", moment
            delivery.last_error = f"撤稿 / retracted: {reason}"
            session.add(delivery)
        report.canceled = len(pending)
        rows = session.exec(select(Supply).where(Supply.article_id == article.id)).all()
        for row in rows:
            if row.pubstatus != "canceled":
                # The pull feed shows the tombstone from this moment; pushes follow through the engine.
                row.pubstatus, row.version, row.updated_at = "canceled", row.version + 1, moment
                row.ednote = f"{KILL_NOTE}（{reason}）"
                session.add(row)
                report.tombstoned.append(row.partner)
            channel = declared.get(row.partner)
            if channel is not None and "push" in getattr(channel.settings, "mode", ()):
                key = _key("kill", row.partner, slug)
                if _enqueue(session, article, row.partner, key, "kill", moment, actor, "retraction"):
                    report.kills.append(row.partner)
        audit.append(
            session,
            actor=actor,
            action="article.retract",
            object_type="article",
            object_id=slug,
            revision_id=article.current_revision_id,
            details={
                "reason": reason,
                "canceled": report.canceled,
                "kills": report.kills,
                "tombstoned": report.tombstoned,
            },
        )
    report.taken_down = _take_down(room, slug, revision_id, moment)
    return report


def _take_down(room: Newsroom, slug: str, revision_id: str, now: datetime) -> list[str]:
    """The website and its feeds, through their adapters' retract (a rebuild without the page)."""
    from publisher.channels.feed import FeedAdapter
    from publisher.channels.website import WebsiteAdapter
    from publisher.review.gate import publication_gate

    done = []
    for channel in room.channels.channels.values():
        if channel.kind == "wechat" and channel.enabled:
            done += _take_down_wechat(room, channel, slug)
            continue
        if channel.kind not in ("website", "feed") or not channel.enabled:
            continue
        receipt = ChannelReceipt(channel.name, revision_id, slug, "", slug, None, now)
        if channel.kind == "website":
            WebsiteAdapter(room, channel, publication_gate, now=now, workers=1).retract(receipt)
        else:
            FeedAdapter(room, channel, publication_gate, now=now, workers=1).retract(receipt)
        done.append(channel.name)
    return done


def _take_down_wechat(room: Newsroom, channel: Channel, slug: str) -> list[str]:
    """Each WeChat post that carried the article: delete that article (the whole post only once
    every article in it is retracted)."""
    from publisher.channels.wechat.adapter import WechatAdapter, WechatError, WechatReceipt

    with read_session(room.engine) as session:
        article = _article(session, slug)
        rows = session.exec(
            select(Delivery).where(
                Delivery.article_id == article.id, Delivery.channel == channel.name, Delivery.status == "done"
            )
        ).all()
    adapter = WechatAdapter(channel, room, gate=None)
    taken = []
    for delivery in rows:
        detail = json.loads(delivery.receipt_json or "{}").get("detail") or {}
        if not detail.get("post_key"):
            continue
        try:
            adapter.retract(WechatReceipt.from_dict(detail))
        except WechatError as exc:
            log.warning("WeChat retraction of %s failed: %s", slug, exc)
            continue
        taken.append(channel.name)
    return taken


# -- tokens ---------------------------------------------------------------------------------------
def token_hash(token: str) -> str:
    # Tokens are 256 random bits: a plain sha256 is enough (no dictionary to guess from).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: int
    partner: str
    token: str  # shown once, never stored


def issue_token(room: Newsroom, name: str, actor: str) -> IssuedToken:
    channel = partner(room, name)
    if "pull" not in getattr(channel.settings, "mode", ()):
        raise SupplyError(f"{name} 不是拉取模式 / is not a pull partner (settings.mode)")
    token = "pt_" + secrets.token_urlsafe(32)
    with write_session(room.engine) as session:
        row = PartnerToken(
            partner=name, token_hash=token_hash(token), hint=token[:7], issued_by=actor, issued_at=utc_now()
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        audit.append(
            session,
            actor=actor,
            action="supply.token.issue",
            object_type="partner",
            object_id=name,
            details={"token": row.id, "hint": row.hint},
        )
        return IssuedToken(row.id, name, token)


def revoke_tokens(room: Newsroom, name: str, actor: str, token_id: int | None = None) -> int:
    """Revoke every live token of the partner, or one by id. Returns how many."""
    partner(room, name)
    with write_session(room.engine) as session:
        query = select(PartnerToken).where(
            PartnerToken.partner == name, col(PartnerToken.revoked_at).is_(None)
        )
        if token_id is not None:
            query = query.where(PartnerToken.id == token_id)
        rows = session.exec(query).all()
        stamp = utc_now()
        for row in rows:
            row.revoked_at, row.revoked_by = stamp, actor
            session.add(row)
        if rows:
            audit.append(
                session,
                actor=actor,
                action="supply.token.revoke",
                object_type="partner",
                object_id=name,
                details={"tokens": [r.id for r in rows]},
            )
        return len(rows)


def list_tokens(session: Session, name: str | None = None) -> list[PartnerToken]:
    query = select(PartnerToken).order_by(col(PartnerToken.partner), col(PartnerToken.id))
    if name:
        query = query.where(PartnerToken.partner == name)
    return list(session.exec(query))


def token_valid(session: Session, name: str, token: str) -> bool:
    row = session.exec(select(PartnerToken).where(PartnerToken.token_hash == token_hash(token))).first()
    return row is not None and row.partner == name and row.revoked_at is None


# -- adoption -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Adopted:
    partner: str
    slug: str
    url: str
    adopted_at: datetime
    created: bool  # False: already recorded (a repeated callback counts once)


def record_adoption(
    room: Newsroom,
    name: str,
    article_ref: str,
    url: str,
    recorded_by: str,
    source: str,
    *,
    adopted_at: datetime | None = None,
) -> Adopted:
    """Record that a partner ran an article it was supplied. `article_ref` is the slug or the
    package uri (the article URL). Recorded once per partner and article."""
    partner(room, name)
    if not url.startswith(("http://", "https://")):
        raise SupplyError("采用地址须为 http(s) URL / the adoption url must be an http(s) URL")
    slug = article_ref.rstrip("/").rsplit("/", 1)[-1].removesuffix(".html")
    moment = to_utc(adopted_at) if adopted_at else utc_now()
    with write_session(room.engine) as session:
        article = session.exec(select(Article).where(Article.slug == slug)).first()
        if article is None:
            raise NotFound(f"没有这篇稿件 / no article {article_ref!r}")
        assert article.id is not None
        supplied = session.exec(
            select(Supply).where(Supply.partner == name, Supply.article_id == article.id)
        ).first()
        if supplied is None:
            raise SupplyError(f"未向 {name} 供过此稿 / {slug} was never supplied to {name}")
        existing = session.exec(
            select(Adoption).where(Adoption.partner == name, Adoption.article_id == article.id)
        ).first()
        if existing is not None:
            return Adopted(name, slug, existing.url, existing.adopted_at, False)
        session.add(
            Adoption(
                partner=name,
                article_id=article.id,
                url=url,
                adopted_at=moment,
                recorded_at=utc_now(),
                recorded_by=recorded_by,
                source=source,
            )
        )
        audit.append(
            session,
            actor=recorded_by,
            action="supply.adopt",
            object_type="article",
            object_id=slug,
            details={"partner": name, "url": url, "adopted_at": moment.isoformat(), "source": source},
        )
    return Adopted(name, slug, url, moment, True)
