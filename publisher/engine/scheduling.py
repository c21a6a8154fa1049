"""Staff actions on the delivery plan: schedule, unschedule, and what is due (the queue)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from publisher import audit
from publisher.delivery.states import DeliveryAction, DeliveryState, Step
from publisher.errors import NotFound, PublisherError
from publisher.newsroom import Newsroom
from publisher.store.engine import write_session
from publisher.store.tables import Article, Delivery, ReviewState, Revision
from publisher.timeutil import to_utc, utc_now

S = DeliveryState
# A release not yet under way: scheduling the article on its channel again moves it (Step.MOVE).
PENDING = tuple(Step.MOVE.sources)
# How far in the past a time may lie and still mean "now" (the moment it took to type it).
PAST_TOLERANCE = timedelta(minutes=1)
# Said when an article not yet approved is planned: a warning here, a refusal where a face plans
# only approved pieces (the console's calendar slots).
NOT_APPROVED = (
    "稿件尚未审核通过：到时由发布闸门判定，未通过则暂缓并报告，不会发出 / "
    "not approved yet: at the due time it is held, never sent, unless approved by then"
)


class ScheduleError(PublisherError):
    pass


@dataclass(frozen=True, slots=True)
class Scheduled:
    delivery_id: int
    slug: str
    channel: str
    due: datetime
    created: bool  # False when the same release was already scheduled
    moved_from: datetime | None = None  # the pending release was moved here from this time


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    items: list[Scheduled]
    warnings: list[str]


def idempotency_key(slug: str, channel: str, due: datetime) -> str:
    """Stable for one release (article, channel, instant): retries and re-runs never make a second."""
    digest = hashlib.sha256(f"{slug}|{channel}|{to_utc(due).isoformat()}".encode()).hexdigest()
    return f"pub-{digest[:40]}"


def schedule(
    room: Newsroom,
    slug: str,
    channels: list[str],
    due: datetime,
    actor: str,
    *,
    campaign: str | None = None,
    slot_number: int | None = None,
    now: datetime | None = None,
    again: bool = False,
    move: bool = False,
) -> ScheduleResult:
    """Plan a release of an article on channels at a time. Allowed before approval, with a warning:
    the publication gate decides at the due time, and an unapproved release is held, never sent.

    An article has one pending release per channel: scheduling it again on that channel moves the
    pending one to the new time, unless `again` asks for a deliberate second release; `move` says
    that a move is meant, and is refused on a channel with no pending release (a typo in the slug or
    channel must not quietly plan a new release). A time in the past is refused: "at once" is said
    by giving now."""
    release = Release(slug, tuple(channels), due, campaign, slot_number)
    return schedule_many(room, [release], actor, now=now, again=again, move=move)[0]


@dataclass(frozen=True, slots=True)
class Release:
    """One request to `schedule_many`: what `schedule` takes for one article."""

    slug: str
    channels: tuple[str, ...]
    due: datetime
    campaign: str | None = None
    slot_number: int | None = None


def schedule_many(
    room: Newsroom,
    releases: Sequence[Release],
    actor: str,
    *,
    now: datetime | None = None,
    again: bool = False,
    move: bool = False,
) -> list[ScheduleResult]:
    """`schedule` for each release in order, in one transaction: the same checks, rows, warnings
    and audit events (in the same order) as that many calls, at one commit instead of one per
    release (a plan of hundreds, the tests' thousands). All or nothing: a release refused leaves
    none of the batch planned, where separate calls would have kept the ones before it."""
    now = now or utc_now()
    for release in releases:
        _check(room, release, now, again=again, move=move)
    # Here, not at the top: `publisher queue` imports this module and needs no front matter model.
    from publisher.content.model import channel_refusal

    results: list[ScheduleResult] = []
    # The batch's audit events, in the order of its acts, are chained in one append at the end
    # (one lock of the head instead of one per release); they commit or vanish with the acts.
    events: list[audit.Entry] = []
    with write_session(room.engine) as session:
        # An article's revision and review state do not change inside this transaction.
        seen: dict[str, tuple[Article, dict[str, object], bool]] = {}
        for release in releases:
            slug, channels, due = release.slug, release.channels, to_utc(release.due)
            if slug not in seen:
                seen[slug] = _current(session, slug)
            article, meta, approved = seen[slug]
            excluded = [r for r in (channel_refusal(meta, c) for c in channels) if r]
            if excluded:
                raise ScheduleError(f"{slug}: " + "；".join(excluded))
            warnings = [] if approved else [NOT_APPROVED]
            items = [
                _schedule_one(session, article, c, due, actor, release, now, events, again=again, move=move)
                for c in channels
            ]
            results.append(ScheduleResult(items, warnings))
        audit.append_many(session, events)
    return results


def _check(room: Newsroom, release: Release, now: datetime, *, again: bool, move: bool) -> None:
    """What `schedule` refuses before it reads the store, in the order it always has."""
    if release.due.tzinfo is None:
        raise ScheduleError("时间须带时区 / the time needs a UTC offset")
    channels = release.channels
    if not channels:
        raise ScheduleError("至少指定一个渠道 / name at least one channel")
    if move and again:
        raise ScheduleError("--move 与 --again 不能同时使用 / --move and --again exclude each other")
    declared = room.channels.channels
    unknown = [c for c in channels if c not in declared]
    if unknown:
        raise ScheduleError(
            f"未知渠道 / unknown channel {', '.join(unknown)}; declared: {', '.join(sorted(declared))}"
        )
    disabled = [c for c in channels if not declared[c].enabled]
    if disabled:
        raise ScheduleError(f"渠道已停用 / channel disabled: {', '.join(disabled)}")
    due = to_utc(release.due)
    if due < now - PAST_TOLERANCE:
        raise ScheduleError(
            f"时间已过 / the time has passed: {due.isoformat()}；立即发布请用 --now / "
            "to send at once use --now, or give a future time"
        )


def _current(session: Session, slug: str) -> tuple[Article, dict[str, object], bool]:
    """The article, its current revision's front matter, and whether that revision is approved."""
    article = session.exec(select(Article).where(Article.slug == slug)).first()
    if article is None or article.current_revision_id is None:
        raise NotFound(f"没有这篇稿件 / no article with slug {slug!r}")
    revision = session.get(Revision, article.current_revision_id)
    assert revision is not None and article.id is not None
    state = session.get(ReviewState, article.current_revision_id)
    return article, json.loads(revision.meta_json), state is not None and state.status == "approved"


def _schedule_one(
    session: Session,
    article: Article,
    channel: str,
    due: datetime,
    actor: str,
    release: Release,
    now: datetime,
    events: list[audit.Entry],
    *,
    again: bool,
    move: bool,
) -> Scheduled:
    slug, campaign, slot_number = article.slug, release.campaign, release.slot_number
    assert article.id is not None
    key = idempotency_key(slug, channel, due)
    existing = session.exec(select(Delivery).where(Delivery.idempotency_key == key)).first()
    # A release that failed, was held, missed or canceled is re-armed: a person has decided.
    if existing is not None and not Step.RESCHEDULE.starts_from(existing.status):
        assert existing.id is not None
        return Scheduled(existing.id, slug, channel, due, False)
    pending = None if again or existing is not None else _pending(session, article.id, channel)
    if move and pending is None:
        raise ScheduleError(
            f"{slug} 在 {channel} 没有待发的发布可改期 / {slug} has no pending release on {channel} "
            "to move; schedule it without --move"
        )
    if pending is not None and pending.status not in PENDING:
        raise ScheduleError(
            f"{slug} 在 {channel} 的发布正在进行，不能改期 / the release on {channel} is under way "
            f"({pending.status}) and cannot be moved; wait for it, or add a second one with --again"
        )
    if pending is not None:
        pending.campaign, pending.slot_number = campaign, slot_number
        return _move(session, pending, slug, due, key, actor, now, events)
    if existing is not None:  # canceled, held, missed or failed: a person schedules it again
        existing.status = Step.RESCHEDULE.apply(existing.status)
        existing.next_attempt_at, existing.attempts = max(due, now), 0
        existing.last_error, existing.updated_at = None, utc_now()
        session.add(existing)
        session.flush()
        delivery = existing
        record_schedule(session, delivery, slug, actor, campaign=campaign, slot=slot_number, events=events)
    else:
        delivery = add_delivery(
            session,
            article,
            channel,
            due,
            key,
            actor,
            campaign=campaign,
            slot_number=slot_number,
            events=events,
        )
    assert delivery.id is not None
    return Scheduled(delivery.id, slug, channel, due, True)


def _pending(session: Session, article_id: int, channel: str) -> Delivery | None:
    """The article's release on a channel that has not happened yet (or is happening now)."""
    return session.exec(
        select(Delivery)
        .where(
            Delivery.article_id == article_id,
            Delivery.channel == channel,
            Delivery.action == "publish",
            col(Delivery.status).in_([*PENDING, S.CLAIMED, S.UNKNOWN]),
        )
        .order_by(col(Delivery.next_attempt_at))
        .with_for_update()
    ).first()


def _move(
    session: Session,
    delivery: Delivery,
    slug: str,
    due: datetime,
    key: str,
    actor: str,
    now: datetime,
    events: list[audit.Entry],
) -> Scheduled:
    """The pending release, moved to a new time (audited). Nothing was sent under its old key, so
    it takes the key of the new instant: scheduling the same time again finds it."""
    assert delivery.id is not None
    before = delivery.due_at
    delivery.due_at, delivery.next_attempt_at, delivery.idempotency_key = due, max(due, now), key
    delivery.status = Step.MOVE.apply(delivery.status)
    delivery.attempts, delivery.last_error = 0, None
    delivery.updated_at = utc_now()
    session.add(delivery)
    session.flush()
    details = {
        "delivery": delivery.id,
        "channel": delivery.channel,
        "from": before.isoformat(),
        "due": due.isoformat(),
    }
    events.append(audit.Entry(actor, Step.MOVE.audit, "article", slug, details=details))
    return Scheduled(delivery.id, slug, delivery.channel, due, True, moved_from=before)


def add_delivery(
    session: Session,
    article: Article,
    channel: str,
    due: datetime,
    key: str,
    actor: str,
    *,
    action: DeliveryAction = DeliveryAction.PUBLISH,
    campaign: str | None = None,
    slot_number: int | None = None,
    why: str | None = None,
    events: list[audit.Entry] | None = None,
) -> Delivery:
    """One new release in the plan, with its audit event, inside the caller's transaction (or
    added to `events`, for the caller to append in order)."""
    assert article.id is not None
    stamp = utc_now()
    delivery = Delivery(
        article_id=article.id,
        channel=channel,
        due_at=due,
        status=Step.SCHEDULE.apply(None),
        next_attempt_at=due,
        idempotency_key=key,
        action=action,
        campaign=campaign,
        slot_number=slot_number,
        created_by=actor,
        created_at=stamp,
        updated_at=stamp,
    )
    session.add(delivery)
    session.flush()
    record_schedule(
        session, delivery, article.slug, actor, campaign=campaign, slot=slot_number, why=why, events=events
    )
    return delivery


def record_schedule(
    session: Session,
    delivery: Delivery,
    slug: str,
    actor: str,
    *,
    campaign: str | None = None,
    slot: int | None = None,
    why: str | None = None,
    events: list[audit.Entry] | None = None,
) -> None:
    """The release's audit event: appended now, or to `events` for the caller to append in order."""
    details: dict[str, object] = {
        "delivery": delivery.id,
        "channel": delivery.channel,
        "due": delivery.due_at.isoformat(),
        "action": delivery.action,
    }
    details.update({k: v for k, v in (("campaign", campaign), ("slot", slot), ("why", why)) if v is not None})
    entry = audit.Entry(actor, Step.SCHEDULE.audit, "article", slug, details=details)
    if events is None:
        audit.append_many(session, [entry])
    else:
        events.append(entry)


def unschedule(room: Newsroom, slug: str, actor: str, channels: list[str] | None = None) -> int:
    """Cancel releases not yet performed. Returns how many."""
    with write_session(room.engine) as session:
        article = session.exec(select(Article).where(Article.slug == slug)).first()
        if article is None:
            raise NotFound(f"没有这篇稿件 / no article with slug {slug!r}")
        return len(cancel_pending(session, article, actor, channels=channels))


def cancel_pending(
    session: Session,
    article: Article,
    actor: str,
    *,
    channels: list[str] | None = None,
    why: str | None = None,
    now: datetime | None = None,
) -> list[Delivery]:
    """Cancel the article's releases not yet performed, each with its audit event, in the caller's
    transaction. Takedowns are never canceled here: only a release is."""
    query = (
        select(Delivery)
        .where(
            Delivery.article_id == article.id,
            col(Delivery.status).in_(Step.CANCEL.sources),
            Delivery.action == DeliveryAction.PUBLISH,
        )
        .with_for_update()
    )
    if channels:
        query = query.where(col(Delivery.channel).in_(channels))
    rows = list(session.exec(query))
    stamp = now or utc_now()
    for delivery in rows:
        delivery.status, delivery.updated_at = Step.CANCEL.apply(delivery.status), stamp
        if why:
            delivery.last_error = why
        session.add(delivery)
        details: dict[str, object] = {
            "delivery": delivery.id,
            "channel": delivery.channel,
            "due": delivery.due_at.isoformat(),
        }
        if why:
            details["why"] = why
        audit.append(
            session,
            actor=actor,
            action=Step.CANCEL.audit,
            object_type="article",
            object_id=article.slug,
            details=details,
        )
    return rows
