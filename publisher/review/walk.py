"""Walk a revision through its remaining stages with whoever may sign each: for the demo and tests.

Real reviews are signed by people one at a time; this exists so a demonstration (and a test) can
show the whole chain with the demo staff, every rule still enforced by the service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from publisher.review import queries
from publisher.review.service import ReviewService, Signer

SignIn = Callable[[str], str]
"""Authenticates the signer a walk picked (by username) and returns the name to act as: the demo
signs each of its staff in with their password before they sign."""


@dataclass(frozen=True, slots=True)
class Signature:
    stage: str
    username: str
    name: str


def next_signer(service: ReviewService, slug: str) -> tuple[str, str] | None:
    """(username, display name) of the first person who may sign what waits now."""
    with Session(service.newsroom.engine) as session:
        people = queries.eligible(session, slug)
    return (people[0].username, people[0].display_name) if people else None


def sign_through(
    service: ReviewService,
    slug: str,
    stages: int | None = None,
    acknowledge: bool = False,
    sign_in: SignIn | None = None,
) -> list[Signature]:
    """Approve stage after stage; with `acknowledge`, the first signer acknowledges every warning;
    with `sign_in`, each signer is authenticated before their act. Each approval answers who may
    sign the stage that waits after it (the people its notice went to): the next signer is the
    first of them."""
    signed: list[Signature] = []
    with Session(service.newsroom.engine) as session:
        st = queries.status(session, slug)
        waiting = st.current.name if st.current else None
        people = tuple(Signer(u.username, u.display_name) for u in queries.eligible(session, slug))
    while waiting is not None and (stages is None or len(signed) < stages):
        if not people:
            raise LookupError(f"nobody may sign {slug} at {waiting}")
        signer = people[0]
        if acknowledge and signed:  # what the acts before left open
            with Session(service.newsroom.engine) as session:
                st = queries.status(session, slug)
        open_warnings = [w.code for w in st.warnings if w.code not in st.acknowledged] if acknowledge else []
        username = sign_in(signer.username) if sign_in is not None else signer.username
        result = service.approve(slug, username, ack=open_warnings)
        signed.append(Signature(result.stage or "", signer.username, signer.name))
        waiting, people = result.next_stage, result.waiting_for
    return signed
