"""Delivery states: one table of steps, and the engine's records follow it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from publisher.delivery.states import DeliveryState, IllegalTransition, Step
from publisher.engine import claims, scheduling
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.tables import AuditEvent, Delivery
from tests.review_helpers import seed_users
from tests.supply_support import approve


def test_every_state_but_done_is_left_by_some_step_and_every_state_is_reached() -> None:
    reached = {step.target for step in Step}
    left = {state for step in Step for state in step.sources}
    assert reached == set(DeliveryState)
    assert set(DeliveryState) - left == {DeliveryState.DONE}, "done is final; every other state moves on"


def test_a_step_from_a_state_it_does_not_start_from_is_refused() -> None:
    assert Step.DONE.apply("claimed") == DeliveryState.DONE
    with pytest.raises(IllegalTransition):
        Step.DONE.apply("scheduled")
    with pytest.raises(IllegalTransition):
        Step.CANCEL.apply("done")
    assert Step.SCHEDULE.apply(None) == DeliveryState.SCHEDULED


def test_the_audit_action_is_the_one_the_step_draws(room: Newsroom) -> None:
    assert ingest(room).ok
    seed_users(room)
    approve(room, "article-1")
    now = datetime.now(UTC)
    [item] = scheduling.schedule(room, "article-1", ["website"], now, "zhouwb").items
    [claim] = claims.claim_due(
        room.engine, "w", now, timedelta(minutes=1), 10, {}, room.settings.tz, only=[item.delivery_id]
    )
    assert claim.delivery.status == Step.CLAIM.target
    # A step that does not start from `claimed` cannot land on a claimed delivery.
    assert claims.finish(room.engine, "w", [claims.Outcome(claim.delivery, Step.RECONCILED_DONE)], now) == 0
    assert claims.finish(room.engine, "w", [claims.Outcome(claim.delivery, Step.HOLD, error="x")], now) == 1
    with Session(room.engine) as s:
        [d] = s.exec(select(Delivery)).all()
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(col(AuditEvent.seq)))]
    assert d.status == DeliveryState.HELD
    assert actions[-2:] == [Step.SCHEDULE.audit, Step.HOLD.audit]
