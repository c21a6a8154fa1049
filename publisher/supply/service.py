"""Staff actions of partner supply: supply an article, follow corrections, issue and revoke pull
tokens, record adoptions. Faces (CLI, HTTP) call these and nothing else. Retraction, which reaches
partners too, is a takedown on every channel: `publisher/engine/retraction.py`."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from publisher import audit
from publisher.channels.registry import Channel
from publisher.delivery.states import DeliveryAction
from publisher.engine import scheduling
from publisher.errors import NotFound, PublisherError
from publisher.newsroom import Newsroom
from publisher.store.engine import write_session
from publisher.store.retractions import in_force
from publisher.store.tables import (
    Adoption,
    Article,
    Delivery,
    PartnerToken,
    ReviewState,
    Revision,
    Supply,
)
from publisher.supply.ninjs import Packager
from publisher.timeutil import to_utc, utc_now

log = logging.getLogger("publisher.supply")


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
    action: DeliveryAction,
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
            if article.id is None or in_force(session, article.id) is not None:
                continue
            key = _key("upd", row.partner, article.slug, state.revision_id)
            if _enqueue(session, article, row.partner, key, DeliveryAction.PUBLISH, due, actor, "correction"):
                queued.append((row.partner, article.slug))
    return queued


def after_approval(room: Newsroom, slug: str, actor: str) -> None:
    """Called once a revision is fully approved: a correction goes to the partners that had the piece.
    A failure here never undoes the approval; `publisher supply sync` catches up."""
    try:
        follow_corrections(room, actor, slug=slug)
    except Exception:  # the approval stands; the follow-up is repeatable
        log.exception("follow-up of corrections for %s failed; run `publisher supply sync`", slug)


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
