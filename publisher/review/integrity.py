"""`audit verify` for the review chain: the acts agree with the audit chain, the status rows with
the acts.

The hash chain proves that no audit event was altered; it says nothing of the review tables beside
it. A review act with no audit event was written behind the service's back, and a status row that
says more than its acts prove (an `UPDATE review_state SET status='approved'`) is the forgery the
publication gate refuses. Both are reported here, with the same proof the gate uses
(`publisher.review.proof`), so the audit and the gate can never disagree about an approval.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from sqlmodel import Session, col, select

from publisher import audit
from publisher.review.plan import plan_from_json
from publisher.review.proof import approval_proven
from publisher.store.tables import AuditEvent, ReviewAct, ReviewState, Revision, StaffUser

# What an act and its audit event must share: revision, signer, action, stage and cycle.
_Key = tuple[str | None, str, str, str | None, int | None]


def _event_key(event: AuditEvent) -> _Key:
    details: dict[str, Any] = json.loads(event.details_json or "{}")
    cycle = details.get("cycle")
    return (
        event.revision_id,
        event.actor,
        event.action,
        details.get("stage"),
        cycle if isinstance(cycle, int) else None,
    )


def review_breaks(session: Session) -> list[audit.Break]:
    """Every review act without its audit event, and every status row its acts do not prove."""
    breaks: list[audit.Break] = []
    logged = Counter(
        _event_key(e)
        for e in session.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("review.")))
    )
    acts: dict[str, list[ReviewAct]] = {}
    for act in session.exec(select(ReviewAct).order_by(col(ReviewAct.id))):
        acts.setdefault(act.revision_id, []).append(act)
        key: _Key = (act.revision_id, act.username, f"review.{act.act}", act.stage_name, act.cycle)
        if logged[key] > 0:
            logged[key] -= 1
            continue
        breaks.append(
            audit.Break(
                0,
                f"审核记录没有对应的审计事件：{act.username} {act.act}「{act.stage_name or ''}」 / "
                f"a review act has no audit event: {act.username} {act.act} {act.stage_name or ''}",
                subject=f"review_act {act.id} · {act.revision_id[:12]}",
            )
        )
    users = {u.username: u for u in session.exec(select(StaffUser))}
    rows = session.exec(
        select(ReviewState, Revision).join(Revision, col(Revision.id) == col(ReviewState.revision_id))
    )
    states = set()
    for state, revision in rows:
        states.add(state.revision_id)
        subject = f"review_state {revision.id[:12]}（第 {revision.number} 版 / revision {revision.number}）"
        proof = approval_proven(
            plan_from_json(state.plan_json),
            acts.get(state.revision_id, []),
            users,
            json.loads(revision.meta_json),
        )
        disagreement = proof.disagreement(state)
        if disagreement is not None:
            breaks.append(
                audit.Break(
                    0,
                    f"审核状态与签署记录不符，疑被篡改：{disagreement} / the review status disagrees with "
                    "the signed acts (tampering suspected)",
                    subject=subject,
                )
            )
        breaks.extend(
            audit.Break(0, f"签署记录无效 / a review act proves nothing: {p}", subject=subject)
            for p in proof.problems
        )
    for revision_id in sorted(set(acts) - states):
        breaks.append(
            audit.Break(
                0,
                "有审核记录却没有审核状态（状态行被删除） / review acts without a status row (it was deleted)",
                subject=f"review_state {revision_id[:12]}",
            )
        )
    return breaks


def verify(session: Session) -> audit.Verification:
    """The audit chain, and the review records checked against it."""
    chain = audit.verify(session)
    return audit.Verification(chain.events, chain.breaks + review_breaks(session))
