"""The staffing check: the chain against the people who can sign it."""

from __future__ import annotations

from sqlmodel import Session

from publisher.config import DEFAULT_STAGES, ReviewStage
from publisher.newsroom import Newsroom
from publisher.review.staffing import Person, Severity, Shortage, check_staffing, staffing
from publisher.review.users import disable_user
from publisher.store.engine import write_session
from tests.review_helpers import seed_users


def _people(*roles: str) -> list[Person]:
    return [Person(f"u{i}", frozenset({role}), frozenset()) for i, role in enumerate(roles)]


FULL = ["editor", "editor", "proofreader", "proofreader", "proofreader", "department_head"]
FULL += ["department_head", "committee_reviewer", "leader", "leader", "principal_leader", "principal_leader"]


def test_a_fully_staffed_chain_has_no_findings() -> None:
    assert staffing(list(DEFAULT_STAGES), _people(*FULL), []) == []


def test_three_proofreading_stages_with_two_proofreaders_cannot_be_completed() -> None:
    people = _people(*[r for r in FULL if r != "proofreader"], "proofreader", "proofreader")
    (finding,) = [f for f in staffing(list(DEFAULT_STAGES), people, []) if f.severity is Severity.BLOCKING]
    assert finding.shortage is Shortage.TOO_FEW_PEOPLE
    assert "proofreader 需要 3 人、现有 2 人" in finding.message and "distinct signers" in finding.message
    assert len(finding.stages) == 1 and finding.stages[0] in {"一校", "二校", "三校"}


def test_a_committee_without_its_reviewer_is_a_warning_naming_the_committee() -> None:
    reviewer = Person("c", frozenset({"committee_reviewer"}), frozenset({"法制委员会"}))
    found = staffing(list(DEFAULT_STAGES), [*_people(*FULL), reviewer], ["法制委员会", "财政经济委员会"])
    (finding,) = [f for f in found if f.shortage is Shortage.NO_COMMITTEE_REVIEWER]
    assert finding.severity is Severity.WARNING
    assert finding.stages == ("专委会审核",) and "财政经济委员会" in finding.message
    assert "法制委员会、" not in finding.message


def test_a_role_only_one_person_holds_is_a_risk_for_their_own_articles() -> None:
    people = _people(*[r for r in FULL if r != "leader"], "leader")
    (finding,) = staffing(list(DEFAULT_STAGES), people, [])
    assert finding.shortage is Shortage.SINGLE_HOLDER and finding.severity is Severity.RISK
    assert finding.stages == ("终审",) and "本人撰写" in finding.message


def test_a_configured_chain_of_two_editor_stages_needs_two_editors() -> None:
    stages = [
        ReviewStage(key="a", name="甲审", role="editor"),
        ReviewStage(key="b", name="乙审", role="editor"),
        ReviewStage(key="c", name="终审", role="leader"),
    ]
    found = staffing(stages, _people("editor", "leader", "leader"), [])
    assert [f.shortage for f in found] == [Shortage.TOO_FEW_PEOPLE, Shortage.SINGLE_HOLDER]
    assert found[0].stages == ("乙审",)


def test_the_stored_staff_are_checked_and_a_disabled_user_no_longer_counts(room: Newsroom) -> None:
    seed_users(room)
    settings = room.settings
    with Session(room.engine) as session:
        before = check_staffing(session, settings.review.stages, settings.committees)
    assert not [f for f in before if f.severity is Severity.BLOCKING]
    with write_session(room.engine) as session:
        for user in ("hejing", "shenyl"):  # two of the four proofreaders leave
            disable_user(session, user, "test")
    with Session(room.engine) as session:
        after = check_staffing(session, settings.review.stages, settings.committees)
    assert [f.shortage for f in after if f.severity is Severity.BLOCKING] == [Shortage.TOO_FEW_PEOPLE]
