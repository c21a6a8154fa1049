"""The newsroom-wide emergency switch (`publisher pause` / `resume`), read by every worker each round."""

from __future__ import annotations

from sqlmodel import Session

from publisher import audit
from publisher.engine.clock import RealClock
from publisher.newsroom import Newsroom
from publisher.store.engine import write_session
from publisher.store.tables import NewsroomFlag

PAUSE_FLAG = "paused"
PAUSE_REASON_FLAG = "paused_reason"  # shown on every console page while paused


def is_paused(session: Session) -> bool:
    flag = session.get(NewsroomFlag, PAUSE_FLAG)
    return flag is not None and flag.value == "true"


def set_paused(room: Newsroom, paused: bool, actor: str, reason: str | None = None) -> None:
    """The newsroom-wide emergency switch: every worker stops claiming at its next round."""
    with write_session(room.engine) as session:
        session.merge(
            NewsroomFlag(
                key=PAUSE_FLAG,
                value="true" if paused else "false",
                updated_by=actor,
                updated_at=RealClock().now(),
            )
        )
        session.merge(
            NewsroomFlag(
                key=PAUSE_REASON_FLAG, value=reason or "", updated_by=actor, updated_at=RealClock().now()
            )
        )
        audit.append(
            session,
            actor=actor,
            action="engine.pause" if paused else "engine.resume",
            object_type="newsroom",
            object_id=room.settings.newsroom.name,
            details={"reason": reason},
        )
