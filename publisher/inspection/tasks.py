"""Findings as tasks: each finding is a row with a state (open, fixed, accepted with a reason) and an
owner. A run opens what is new, closes what it no longer finds (fixed, by itself) and reopens a
fixed finding that came back; staff assign and accept. One audit event per change.

States and their transitions, in one table:

    (new) ─FOUND─▶ open ─GONE─▶ fixed ─FOUND─▶ open
                   open ─ACCEPT─▶ accepted ─REOPEN─▶ open
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from publisher import audit
from publisher.errors import NotFound, PublisherError
from publisher.inspection.findings import Report
from publisher.store.tables import InspectionFinding


class TaskState(StrEnum):
    OPEN = "open"
    FIXED = "fixed"
    ACCEPTED = "accepted"


class Step(StrEnum):
    FOUND = "inspection.finding"
    GONE = "inspection.fixed"
    ACCEPT = "inspection.accepted"
    REOPEN = "inspection.reopened"


# (from, step) -> to; the audit action is the step's value.
TRANSITIONS: dict[tuple[TaskState | None, Step], TaskState] = {
    (None, Step.FOUND): TaskState.OPEN,
    (TaskState.FIXED, Step.FOUND): TaskState.OPEN,
    (TaskState.OPEN, Step.GONE): TaskState.FIXED,
    (TaskState.OPEN, Step.ACCEPT): TaskState.ACCEPTED,
    (TaskState.ACCEPTED, Step.REOPEN): TaskState.OPEN,
}


def _move(row: InspectionFinding | None, step: Step) -> TaskState:
    before = TaskState(row.state) if row is not None else None
    after = TRANSITIONS.get((before, step))
    if after is None:
        raise PublisherError(
            f"检查问题状态为 {before} 时不能 {step.value} / a finding that is {before} cannot take {step.value}"
        )
    return after


def accepted_keys(session: Session) -> set[str]:
    return set(
        session.exec(select(InspectionFinding.key).where(InspectionFinding.state == TaskState.ACCEPTED))
    )


def record_run(session: Session, report: Report, run_id: str, actor: str, now: datetime) -> list[audit.Entry]:
    """Bring the task rows up to this run; the audit entries of every change, for the caller's
    transaction."""
    rows = {r.key: r for r in session.exec(select(InspectionFinding))}
    entries: list[audit.Entry] = []
    seen: set[str] = set()
    for scored in report.findings:
        f = scored.finding
        seen.add(f.key)
        row = rows.get(f.key)
        if row is not None and row.state != TaskState.FIXED:
            row.last_run, row.updated_at = run_id, now
            session.add(row)
            continue
        state = _move(row, Step.FOUND)
        if row is None:
            row = InspectionFinding(
                key=f.key,
                rule=f.rule,
                channel=f.channel,
                location=f.location,
                line=f.line,
                severity=scored.severity.value,
                message=f.message,
                evidence=f.evidence,
                state=state,
                first_run=run_id,
                last_run=run_id,
                due_at=scored.due,
                updated_at=now,
            )
        else:
            row.state, row.last_run, row.due_at, row.updated_at = state, run_id, scored.due, now
        session.add(row)
        entries.append(
            audit.Entry(
                actor, Step.FOUND, "inspection_finding", f.key, details={**scored.as_dict(), "run": run_id}
            )
        )
    for key, row in rows.items():
        if key in seen or row.state != TaskState.OPEN:
            continue
        row.state, row.updated_at = _move(row, Step.GONE), now
        session.add(row)
        entries.append(
            audit.Entry(
                actor,
                Step.GONE,
                "inspection_finding",
                key,
                details={"rule": row.rule, "location": row.location, "run": run_id},
            )
        )
    return entries


def _row(session: Session, key: str) -> InspectionFinding:
    row = session.get(InspectionFinding, key)
    if row is None:
        raise NotFound(f"没有这个检查问题 / no inspection finding {key!r}")
    return row


def accept(session: Session, key: str, reason: str, actor: str, now: datetime) -> InspectionFinding:
    """Accept a finding with a reason: it stays on record and no longer counts against the score."""
    if not reason.strip():
        raise PublisherError("接受检查问题须说明理由 / accepting a finding needs a reason")
    row = _row(session, key)
    row.state, row.reason, row.updated_at = _move(row, Step.ACCEPT), reason, now
    session.add(row)
    audit.append(
        session,
        actor=actor,
        action=Step.ACCEPT,
        object_type="inspection_finding",
        object_id=key,
        details={"reason": reason},
    )
    return row


def reopen(session: Session, key: str, actor: str, now: datetime) -> InspectionFinding:
    row = _row(session, key)
    row.state, row.updated_at = _move(row, Step.REOPEN), now
    session.add(row)
    audit.append(session, actor=actor, action=Step.REOPEN, object_type="inspection_finding", object_id=key)
    return row


def assign(session: Session, key: str, owner: str, actor: str, now: datetime) -> InspectionFinding:
    row = _row(session, key)
    row.owner, row.updated_at = owner, now
    session.add(row)
    audit.append(
        session,
        actor=actor,
        action="inspection.assigned",
        object_type="inspection_finding",
        object_id=key,
        details={"owner": owner},
    )
    return row


def listed(session: Session, states: tuple[TaskState, ...] = (TaskState.OPEN,)) -> list[InspectionFinding]:
    """The tasks in these states, most urgent first (for the console and the CLI)."""
    return list(
        session.exec(
            select(InspectionFinding)
            .where(col(InspectionFinding.state).in_([s.value for s in states]))
            .order_by(col(InspectionFinding.due_at), col(InspectionFinding.key))
        )
    )
