"""Staff handling of consultation comments: moderate, classify, dispose, answer, assign.

Every act is one function that takes plain values and an authenticated actor, runs in one
transaction and writes one audit event (`consultation.<act>`), whether it touches one comment or a
whole near-duplicate group (a mass campaign gets one answer). Which moderation changes are allowed,
and which dispositions need a reason, is said here once (`MODERATION_STEPS`, `reason_required`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from publisher import audit
from publisher.auth.identity import Identity
from publisher.auth.permissions import Act, require
from publisher.consultation.clauses import clauses
from publisher.consultation.queries import get_consultation
from publisher.consultation.states import Disposition, Moderation
from publisher.errors import NotFound, PublisherError
from publisher.store.engine import read_session, write_session
from publisher.store.tables import ConsultationComment

TOPIC_MAX = 80
ANSWER_MAX = 5000
REASON_MAX = 2000


class HandlingAct(StrEnum):
    """What a handler does to a comment; the audit action is derived from it."""

    MODERATE = "moderated"
    CLASSIFY = "classified"
    DISPOSE = "disposed"
    ANSWER = "answered"
    ASSIGN = "assigned"

    @property
    def audit_action(self) -> str:
        return f"consultation.{self.value}"


# The one table of moderation changes: a comment waits for a look (pending), then is shown in public
# excerpts or hidden (spam, abuse, personal matters), and a handler may change their mind either way.
MODERATION_STEPS: frozenset[tuple[Moderation, Moderation]] = frozenset(
    {
        (Moderation.PENDING, Moderation.SHOWN),
        (Moderation.PENDING, Moderation.HIDDEN),
        (Moderation.SHOWN, Moderation.HIDDEN),
        (Moderation.HIDDEN, Moderation.SHOWN),
        (Moderation.SHOWN, Moderation.PENDING),
        (Moderation.HIDDEN, Moderation.PENDING),
    }
)


def reason_required(disposition: Disposition) -> bool:
    """Whoever was not (fully) heard is told why: 部分采纳, 未采纳 and 另行研究 carry a reason."""
    return disposition is not Disposition.ADOPTED


class HandlingRefused(PublisherError):
    """The act cannot be done as asked; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Done:
    act: HandlingAct
    receipts: tuple[str, ...]  # the comments the act changed (a group: all of them)


def _targets(session: Session, slug: str, comment_id: int, whole_group: bool) -> list[ConsultationComment]:
    comment = session.get(ConsultationComment, comment_id, with_for_update=True)
    if comment is None or comment.slug != slug:
        raise NotFound(f"找不到意见 / no comment {comment_id} in consultation {slug}")
    if not whole_group or comment.group_id is None:
        return [comment]
    return list(
        session.exec(
            select(ConsultationComment)
            .where(ConsultationComment.slug == slug, ConsultationComment.group_id == comment.group_id)
            .order_by(col(ConsultationComment.id))
            .with_for_update()
        ).all()
    )


def _clean(value: str | None, field: str, limit: int) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise HandlingRefused(f"{field} 过长（{len(text)} 字，上限 {limit}） / {field} is too long")
    return text or None


def _act(
    engine: Engine,
    actor: Identity,
    act: HandlingAct,
    slug: str,
    comment_id: int,
    whole_group: bool,
    now: datetime,
    change: Mapping[str, object],
    refusal: Callable[[ConsultationComment], str | None] | None = None,
) -> Done:
    """Apply `change` (column -> value) to the comment or its group in one transaction with one
    audit event. `refusal(comment)` says why a comment cannot take the change: the comment alone
    is then refused; a group goes ahead with the members that can, refused only if none can."""
    require(actor, Act.CONSULT)
    with write_session(engine) as session:
        get_consultation(session, slug)
        comments = _targets(session, slug, comment_id, whole_group)
        if refusal is not None:
            reasons = [refusal(c) for c in comments]
            if all(reasons):
                raise HandlingRefused(str(reasons[0]))
            comments = [c for c, why in zip(comments, reasons, strict=True) if why is None]
        before = {c.receipt: {k: getattr(c, k) for k in change} for c in comments}
        for comment in comments:
            for key, value in change.items():
                setattr(comment, key, value)
            comment.updated_at, comment.updated_by = now, actor.username
            session.add(comment)
        receipts = tuple(c.receipt for c in comments)
        first = before[receipts[0]]
        audit.append(
            session,
            actor=actor.username,
            action=act.audit_action,
            object_type="consultation",
            object_id=slug,
            details={
                "receipts": list(receipts),
                "group": whole_group and len(comments) > 1,
                "from": {k: v.isoformat() if isinstance(v, datetime) else v for k, v in first.items()},
                "to": {k: v.isoformat() if isinstance(v, datetime) else v for k, v in change.items()},
            },
        )
    return Done(act, receipts)


def moderate(
    engine: Engine,
    actor: Identity,
    slug: str,
    comment_id: int,
    to: Moderation,
    now: datetime,
    *,
    whole_group: bool = False,
) -> Done:
    """Shown in public excerpts or not; a comment already in that state is refused, not re-audited."""

    def allowed(comment: ConsultationComment) -> str | None:
        here = Moderation(comment.moderation)
        if (here, to) in MODERATION_STEPS:
            return None
        return (
            f"意见 {comment.receipt} 已是「{here.label}」 / comment {comment.receipt} is already {here.value}"
        )

    return _act(
        engine,
        actor,
        HandlingAct.MODERATE,
        slug,
        comment_id,
        whole_group,
        now,
        {"moderation": to.value},
        allowed,
    )


def classify(
    engine: Engine,
    actor: Identity,
    slug: str,
    comment_id: int,
    clause: str | None,
    topic: str | None,
    now: datetime,
    *,
    whole_group: bool = False,
) -> Done:
    """File the comment under a clause of the draft (None: the draft as a whole) and a topic."""
    with read_session(engine) as session:
        keys = [c.key for c in clauses(get_consultation(session, slug))]
    clause = (clause or "").strip() or None
    if clause is not None and clause not in keys:
        raise HandlingRefused(
            f"条款 {clause!r} 不在本草案中 / clause {clause!r} is not one of the draft's: {'、'.join(keys) or '无'}"
        )
    change = {"clause": clause, "topic": _clean(topic, "主题 / topic", TOPIC_MAX)}
    return _act(engine, actor, HandlingAct.CLASSIFY, slug, comment_id, whole_group, now, change)


def dispose(
    engine: Engine,
    actor: Identity,
    slug: str,
    comment_id: int,
    disposition: Disposition,
    reason: str | None,
    now: datetime,
    *,
    whole_group: bool = False,
) -> Done:
    """采纳 / 部分采纳 / 未采纳 / 另行研究, with the reason the last three need; may be changed later."""
    text = _clean(reason, "理由 / reason", REASON_MAX)
    if reason_required(disposition) and text is None:
        raise HandlingRefused(
            f"「{disposition.label}」须说明理由 / a disposition of {disposition.value} needs a reason"
        )
    change = {"disposition": disposition.value, "reason": text}
    return _act(engine, actor, HandlingAct.DISPOSE, slug, comment_id, whole_group, now, change)


def answer(
    engine: Engine,
    actor: Identity,
    slug: str,
    comment_id: int,
    text: str,
    now: datetime,
    *,
    whole_group: bool = False,
) -> Done:
    """The reply the commenter can look up with their receipt; answering stops the overdue clock."""
    body = _clean(text, "答复 / answer", ANSWER_MAX)
    if body is None:
        raise HandlingRefused("答复内容不能为空 / the answer is empty")
    change = {"answer": body, "answered_at": now, "answered_by": actor.username}
    return _act(engine, actor, HandlingAct.ANSWER, slug, comment_id, whole_group, now, change)


def assign(
    engine: Engine,
    actor: Identity,
    slug: str,
    comment_id: int,
    committee: str | None,
    declared: Sequence[str],
    now: datetime,
    *,
    whole_group: bool = False,
) -> Done:
    """Hand the comment to a special committee (one declared in publisher.toml), or take it back."""
    name = (committee or "").strip() or None
    if name is not None and name not in declared:
        raise HandlingRefused(
            f"未声明的专门委员会 {name!r} / {name!r} is not a committee declared in publisher.toml"
        )
    return _act(engine, actor, HandlingAct.ASSIGN, slug, comment_id, whole_group, now, {"committee": name})
