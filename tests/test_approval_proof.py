"""People by identity, approval by proof: a padded byline, a forged status row, an act behind the
service's back and a revision named by too short a prefix must not get an article out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, select
from typer.testing import CliRunner

from publisher.cli import app
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review import integrity, queries
from publisher.review.gate import GateDecision, for_many, publication_gate
from publisher.review.service import ReviewService
from publisher.review.users import add_user, disable_user, normalize_name
from publisher.review.workflow import ReviewRefused
from publisher.store.engine import write_session
from publisher.store.tables import Article, Revision
from tests.factory import base_meta, write_article
from tests.review_helpers import cli_login, seed_users, sign_through

runner = CliRunner()


@pytest.fixture
def svc(room: Newsroom) -> Iterator[ReviewService]:
    seed_users(room)
    yield ReviewService(room)


def add(room: Newsroom, slug: str, body: str | None = None, **meta: Any) -> None:
    write_article(room.content_dir, f"{slug}.md", base_meta(slug, **{"authors": ["王晓明"], **meta}), body)
    report = ingest(room)
    assert report.ok, report.problems


def current(room: Newsroom, slug: str) -> Revision:
    with Session(room.engine) as s:
        article = s.exec(select(Article).where(Article.slug == slug)).one()
        revision = s.get(Revision, article.current_revision_id)
        assert revision is not None
        return revision


def decide(room: Newsroom, slug: str) -> tuple[GateDecision, GateDecision]:
    """The gate's answer for one delivery, and the batched answer a site build gets."""
    revision = current(room, slug)
    website = room.channels.channels["website"]
    at = datetime.now(UTC)
    with Session(room.engine) as s:
        single = publication_gate(s, revision, website, at)
        batched = for_many(publication_gate, s, [revision])(s, revision, website, at)
    return single, batched


def forge(room: Newsroom, sql: str) -> None:
    """What someone with write access to the database does behind the review chain."""
    with room.engine.begin() as conn:
        conn.execute(text(sql))


def env_of(room: Newsroom, db_url: str) -> dict[str, str]:
    return {"PUBLISHER_NEWSROOM": str(room.root), "PUBLISHER_DATABASE_URL": db_url, "COLUMNS": "200"}


# -- people by identity ----------------------------------------------------------------------------
@pytest.mark.parametrize("byline", ["袁\u3000明", "袁 明", "袁\u200b明", "袁\u00a0明", "\ufeff袁明"])
def test_a_byline_padded_with_an_ideographic_space_still_names_the_author(
    room: Newsroom, svc: ReviewService, byline: str
) -> None:
    with write_session(room.engine) as s:
        add_user(s, username="yuanm", name="袁明", roles=["editor"], actor="test")
    add(room, "own", authors=[byline])
    svc.submit("own", "zhouwb")  # an editor submits for the author
    with pytest.raises(ReviewRefused, match="cannot review their own"):
        svc.approve("own", "yuanm")
    with Session(room.engine) as s:
        assert "yuanm" not in {u.username for u in queries.eligible(s, "own")}
        assert "own" not in {i.slug for i in queries.queue(s, "yuanm")}


def test_names_compare_after_folding_widths_spaces_and_invisible_characters() -> None:
    assert normalize_name("袁\u3000明") == normalize_name("袁\u200d明") == normalize_name(" 袁明 ") == "袁明"
    assert normalize_name("ＡＢＣ") == "ABC"  # full-width letters fold to their ASCII forms
    assert normalize_name("袁明") != normalize_name("袁朋")


def test_a_byline_that_names_nobody_known_is_warned_about_at_submission(
    room: Newsroom, svc: ReviewService
) -> None:
    add(room, "stranger", authors=["王晓明", "无名氏"], editor="周\u3000文博")
    result = svc.submit("stranger", "wangxm")
    bylines = [w for w in result.warnings if w.check == "byline"]
    assert len(bylines) == 1  # 王晓明 and the padded 周文博 are known; 无名氏 is not
    assert "无名氏" in bylines[0].message and "names no known user" in bylines[0].message
    # A warning to know, not one to sign off: the chain goes on without acknowledging it.
    assert sign_through(room, svc, "stranger")[-1] == "终审"
    add(room, "unedited", editor="佚名编辑")
    result = svc.submit("unedited", "wangxm")
    assert [w.code for w in result.warnings if w.check == "byline"] == ["责任编辑"]


# -- approval is proven from the acts --------------------------------------------------------------
def test_a_forged_approved_status_row_does_not_pass_the_gate(room: Newsroom, svc: ReviewService) -> None:
    add(room, "forged")
    svc.submit("forged", "wangxm")
    sign_through(room, svc, "forged", stages=2)
    forge(room, "UPDATE review_state SET status = 'approved'")
    for decision in decide(room, "forged"):
        assert not decision.allowed
        assert any("review is not complete: in_review" in r for r in decision.reasons)
        assert any("疑被篡改" in r and "tampering" in r for r in decision.reasons)
    # Emptying the plan as well proves nothing: the plan recorded at submission still stands.
    forge(room, "UPDATE review_state SET plan_json = '[]', stage_index = 0")
    for decision in decide(room, "forged"):
        assert not decision.allowed and any("plan differs" in r for r in decision.reasons)


def test_a_forged_approved_status_row_without_any_signature_does_not_pass_the_gate(
    room: Newsroom, svc: ReviewService
) -> None:
    add(room, "unsigned")
    svc.submit("unsigned", "wangxm")
    svc.reject("unsigned", "zhouwb", comment="重写")
    forge(room, "UPDATE review_state SET status = 'approved'")
    for decision in decide(room, "unsigned"):
        assert not decision.allowed and any("review is not complete: rejected" in r for r in decision.reasons)


def test_a_forged_approved_status_row_is_reported_by_audit_verify(
    room: Newsroom, svc: ReviewService, db_url: str
) -> None:
    add(room, "forged")
    add(room, "honest")
    for slug in ("forged", "honest"):
        svc.submit(slug, "wangxm")
    sign_through(room, svc, "honest")
    sign_through(room, svc, "forged", stages=1)
    env = env_of(room, db_url)
    assert runner.invoke(app, ["audit", "verify"], env=env).exit_code == 0
    forge(
        room,
        f"UPDATE review_state SET status = 'approved' WHERE revision_id = '{current(room, 'forged').id}'",
    )
    result = runner.invoke(app, ["audit", "verify"], env=env)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1
    assert f"review_state {current(room, 'forged').id[:12]}" in said
    assert "status says approved, the acts prove in_review" in said and "疑被篡改" in said
    assert current(room, "honest").id[:12] not in said  # the honest approval stands


def test_a_review_act_written_behind_the_service_is_reported_by_audit_verify(
    room: Newsroom, svc: ReviewService
) -> None:
    add(room, "sneaked")
    svc.submit("sneaked", "wangxm")
    revision = current(room, "sneaked")
    forge(
        room,
        "INSERT INTO review_act (revision_id, article_id, cycle, act, stage_key, stage_name, username, "
        "role, details_json, at) VALUES "
        f"('{revision.id}', {revision.article_id}, 1, 'approve', 'first-review', '初审', 'zhouwb', "
        "'editor', '{}', '2026-11-29 00:00:00')",
    )
    with Session(room.engine) as s:
        breaks = integrity.verify(s).breaks
    assert any("a review act has no audit event: zhouwb approve 初审" in b.reason for b in breaks)
    # ...and the status row that no longer matches what the acts imply (one stage now signed).
    assert any("stage index says 0, 1 stages are signed" in b.reason for b in breaks)


def test_every_history_the_service_writes_passes_audit_verify(room: Newsroom, svc: ReviewService) -> None:
    add(room, "again")
    svc.submit("again", "wangxm")
    sign_through(room, svc, "again", stages=2)
    svc.reject("again", "qianwd", comment="核实数据")
    add(room, "again", body="核实后的正文。\n")
    svc.submit("again", "wangxm")
    sign_through(room, svc, "again")
    add(room, "gone")
    svc.submit("gone", "wangxm")
    sign_through(room, svc, "gone")
    svc.withdraw("gone", "wangxm", comment="口径调整")
    svc.submit("gone", "wangxm")
    sign_through(room, svc, "gone", stages=3)
    # A signer who leaves afterwards does not unmake what they signed while they could.
    with write_session(room.engine) as s:
        disable_user(s, next(v.done_by for v in _stages(room, "again") if v.done_by), "test")
    with Session(room.engine) as s:
        result = integrity.verify(s)
    assert result.ok, result.breaks
    single, batched = decide(room, "again")
    assert single == batched == GateDecision.allow()
    assert not decide(room, "gone")[0].allowed


def _stages(room: Newsroom, slug: str) -> list[queries.StageView]:
    with Session(room.engine) as s:
        return queries.status(s, slug).stages


# -- the revision an approval signs ----------------------------------------------------------------
def test_an_approval_with_a_short_revision_prefix_is_refused(
    room: Newsroom, svc: ReviewService, db_url: str
) -> None:
    add(room, "prefix")
    svc.submit("prefix", "wangxm")
    rid = current(room, "prefix").id
    for short in (rid[:1], rid[:7], rid[:11]):
        with pytest.raises(ReviewRefused, match="at least 12 hex characters"):
            svc.approve("prefix", "zhouwb", revision_id=short)
    with pytest.raises(ReviewRefused, match="at least 12 hex characters"):
        svc.approve("prefix", "zhouwb", revision_id="zzzzzzzzzzzzzz")
    with pytest.raises(ReviewRefused, match="no revision of prefix starts with"):
        svc.approve("prefix", "zhouwb", revision_id="0" * 12 if not rid.startswith("0" * 12) else "f" * 12)
    cli_login(room, "zhouwb")
    code = runner.invoke(
        app,
        ["review", "approve", "prefix", "--as", "zhouwb", "--revision", rid[:6]],
        env=env_of(room, db_url),
    )
    assert code.exit_code == 1 and "at least 12 hex characters" in " ".join(code.stderr.split())
    with Session(room.engine) as s:
        assert queries.status(s, "prefix").stages[0].done_by is None  # nothing was signed
    assert svc.approve("prefix", "zhouwb", revision_id=rid[:12].upper()).stage == "初审"


def test_a_revision_prefix_of_another_article_is_not_taken_for_this_one(
    room: Newsroom, svc: ReviewService
) -> None:
    add(room, "mine")
    add(room, "other", body="另一篇稿件。\n")
    svc.submit("mine", "wangxm")
    with pytest.raises(ReviewRefused, match="no revision of mine"):
        svc.approve("mine", "zhouwb", revision_id=current(room, "other").id)


def test_an_approval_without_a_revision_shows_what_it_signs_and_asks(
    room: Newsroom, svc: ReviewService, db_url: str
) -> None:
    add(room, "asked", title="常委会审议计划草案")
    svc.submit("asked", "wangxm")
    revision = current(room, "asked")
    env = env_of(room, db_url)
    cli_login(room, "zhouwb", "hejing")
    declined = runner.invoke(app, ["review", "approve", "asked", "--as", "zhouwb"], env=env, input="n\n")
    assert declined.exit_code == 1
    for shown in ("常委会审议计划草案", "asked", f"第 {revision.number} 版", revision.id, "初审"):
        assert shown in declined.stdout
    with Session(room.engine) as s:
        assert queries.status(s, "asked").stages[0].done_by is None
    agreed = runner.invoke(app, ["review", "approve", "asked", "--as", "zhouwb"], env=env, input="y\n")
    assert agreed.exit_code == 0 and "已签署「初审」" in agreed.stdout
    scripted = runner.invoke(app, ["review", "approve", "asked", "--as", "hejing", "--yes"], env=env)
    assert scripted.exit_code == 0 and "已签署「一校」" in scripted.stdout


def test_an_approval_confirmed_on_a_revision_that_was_replaced_meanwhile_is_refused(
    room: Newsroom, svc: ReviewService
) -> None:
    add(room, "moved")
    svc.submit("moved", "wangxm")
    with Session(room.engine) as s:
        shown = queries.signing(s, "moved")
    add(room, "moved", body="签署前被改过的正文。\n")
    with pytest.raises(ReviewRefused, match="superseded"):
        svc.approve("moved", "zhouwb", revision_id=shown.revision_id)


def test_a_proof_the_process_remembers_is_made_again_when_a_row_changes_behind_the_chain(
    room: Newsroom, svc: ReviewService
) -> None:
    """A site build proves every article's review on every build and remembers the proofs by the
    whole of their inputs: an act rewritten in place (same id, same count) or a signer's roles
    changed is proven again, never answered from memory."""
    add(room, "kept")
    svc.submit("kept", "wangxm")
    sign_through(room, svc, "kept")
    assert all(d.allowed for d in decide(room, "kept"))
    with Session(room.engine) as s:
        rows = s.exec(
            text("SELECT id, username FROM review_act WHERE act = 'approve' ORDER BY id")  # type: ignore[call-overload]
        ).all()
    first_id, first_signer = rows[0]
    last_id, last_signer = rows[-1]
    # Someone with the rights to drop the append-only trigger rewrites an act in place.
    if room.engine.dialect.name == "sqlite":
        forge(room, "DROP TRIGGER review_act_no_update")
    else:
        forge(room, "DROP TRIGGER review_act_append_only ON review_act")
    # The last stage signed again by whoever signed the first one: one person, two stages.
    forge(room, f"UPDATE review_act SET username = '{first_signer}' WHERE id = {last_id}")
    for decision in decide(room, "kept"):
        assert not decision.allowed and any("review is not complete" in r for r in decision.reasons)
    forge(room, f"UPDATE review_act SET username = '{last_signer}' WHERE id = {last_id}")
    assert all(d.allowed for d in decide(room, "kept"))
    # The last signer loses the role their stage needs.
    forge(room, f"UPDATE staff_user SET roles_json = '[]' WHERE username = '{last_signer}'")
    for decision in decide(room, "kept"):
        assert not decision.allowed and any("没有该角色" in r for r in decision.reasons)
    assert first_id < last_id
