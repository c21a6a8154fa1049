"""The acts of review: submit, approve, reject, withdraw. Each binds to one revision hash, runs in
one transaction with its audit event, and is refused with a reason when the rules say no."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from sqlmodel import Session, col, select

from publisher import audit
from publisher.channels.checks import CHECKERS, CheckFactory
from publisher.config import NotifySettings
from publisher.errors import NotFound
from publisher.newsroom import Newsroom
from publisher.review import announce, hooks
from publisher.review.checks import CheckLists, Finding, Subject, load_secrecy, load_terms, run_checks
from publisher.review.plan import PlannedStage, plan_from_json, plan_to_json
from publisher.review.queries import signed_in_cycle, unknown_bylines
from publisher.review.register import load_register
from publisher.review.users import bylines_key, get_user, roles_of
from publisher.review.workflow import ReviewRefused, is_author, plan, refusal_to_act
from publisher.store.engine import write_session
from publisher.store.tables import Article, ReviewAct, ReviewState, Revision, StaffUser
from publisher.timeutil import utc_now

MIN_PREFIX = 12  # hex characters of a revision hash an act must name: 48 bits, no accidental match
SUBMITTER_ROLES = frozenset({"editor", "admin"})
WITHDRAW_ROLES = frozenset({"editor", "admin", "leader", "principal_leader"})


class Signer(NamedTuple):
    username: str
    name: str  # as shown


@dataclass(frozen=True, slots=True)
class ActResult:
    slug: str
    revision_id: str
    act: str
    status: str
    stage: str | None = None  # the stage acted on
    next_stage: str | None = None  # what waits now
    warnings: list[Finding] = field(default_factory=list)
    # Who may sign what waits now (by username): the people its notice went to.
    waiting_for: tuple[Signer, ...] = ()


@dataclass(frozen=True, slots=True)
class _Target:
    article: Article
    revision: Revision
    meta: dict[str, Any]
    user: StaffUser
    state: ReviewState | None

    @property
    def subject(self) -> Subject:
        return Subject(self.meta, self.revision.body)


def _signers(people: list[StaffUser]) -> tuple[Signer, ...]:
    return tuple(Signer(u.username, u.display_name) for u in people)


class ReviewService:
    def __init__(self, newsroom: Newsroom, checkers: Mapping[str, CheckFactory] | None = None) -> None:
        self.newsroom = newsroom
        self.checkers = CHECKERS if checkers is None else checkers

    @property
    def notify(self) -> NotifySettings:
        return self.newsroom.settings.notify

    @cached_property
    def lists(self) -> CheckLists:
        room = self.newsroom
        review_dir = room.root / room.settings.paths.review
        return CheckLists(
            secrecy=load_secrecy(review_dir, room.root),
            terms=load_terms(review_dir, room.root),
            register=load_register(room.schedules_dir, room.root),
        )

    # -- helpers ---------------------------------------------------------------------------------
    def _target(self, session: Session, slug: str, username: str, revision_id: str | None) -> _Target:
        article = session.exec(select(Article).where(Article.slug == slug).with_for_update()).first()
        if article is None or article.current_revision_id is None:
            raise NotFound(f"没有这篇稿件 / no article with slug {slug!r}")
        revision = session.get(Revision, article.current_revision_id)
        assert revision is not None
        if revision_id is not None:
            self._named_revision(session, article, revision, revision_id)
        user = get_user(session, username)
        if not user.active:
            raise ReviewRefused(f"用户 {username} 已停用 / user {username!r} is disabled")
        state = session.get(ReviewState, revision.id, with_for_update=True)
        return _Target(article, revision, json.loads(revision.meta_json), user, state)

    @staticmethod
    def _named_revision(session: Session, article: Article, current: Revision, prefix: str) -> None:
        """An act names the revision it is made on: at least MIN_PREFIX hex characters of its hash,
        naming exactly one revision of this article, and that one its current revision."""
        wanted = prefix.strip().lower()
        if len(wanted) < MIN_PREFIX or any(c not in "0123456789abcdef" for c in wanted):
            raise ReviewRefused(
                f"版本须写出所审版本哈希的至少 {MIN_PREFIX} 位十六进制字符；不写 --revision 则显示所签版本并请您确认 / "
                f"--revision needs at least {MIN_PREFIX} hex characters of the hash you reviewed; "
                "leave it out to see what you sign and confirm it"
            )
        matches = session.exec(
            select(Revision.id, Revision.number).where(
                Revision.article_id == article.id, col(Revision.id).startswith(wanted)
            )
        ).all()
        if not matches:
            raise ReviewRefused(
                f"本稿没有以 {wanted} 开头的版本 / no revision of {article.slug} starts with {wanted}"
            )
        if len(matches) > 1:
            raise ReviewRefused(
                f"{wanted} 对应本稿的多个版本，请写出完整哈希 / {wanted} names several revisions: give the full hash"
            )
        ((rid, number),) = matches
        if rid != current.id:
            raise ReviewRefused(
                f"第 {number} 版 {rid[:12]} 已被第 {current.number} 版（{current.id[:12]}）取代，不能对旧版本操作 / "
                "that revision is superseded: review the current one"
            )

    def _channels_for(self, meta: dict[str, Any]) -> dict[str, Any]:
        channels = self.newsroom.channels.channels
        names = meta.get("channels") or [n for n, c in channels.items() if c.enabled]
        checks = {}
        for name in names:
            channel = channels.get(name)
            if channel is not None and channel.kind in self.checkers:
                checks[name] = self.checkers[channel.kind](channel)
        return checks

    def _findings(self, subject: Subject) -> list[Finding]:
        return run_checks(subject, self.lists, self._channels_for(subject.meta))

    def findings(self, revision: Revision) -> list[Finding]:
        """Every automatic check on one revision, exactly as submission and final sign-off run them
        (secrecy, terminology, meeting register, each target channel's limits): for a page to show."""
        return self._findings(Subject(json.loads(revision.meta_json), revision.body))

    @staticmethod
    def _acted_on(t: _Target, state: ReviewState) -> announce.Acted:
        return announce.Acted(t.article.slug, t.revision, t.meta, state.cycle, state.submitted_by)

    def _acted(self, session: Session, state: ReviewState) -> dict[str, str]:
        acts = session.exec(
            select(ReviewAct).where(
                ReviewAct.revision_id == state.revision_id,
                ReviewAct.cycle == state.cycle,
                ReviewAct.act == "approve",
            )
        )
        return {a.username: a.stage_name or "" for a in acts}

    def _record(
        self,
        session: Session,
        t: _Target,
        act: str,
        cycle: int,
        *,
        stage: PlannedStage | None = None,
        role: str | None = None,
        comment: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        now = utc_now()
        details = details or {}
        session.add(
            ReviewAct(
                revision_id=t.revision.id,
                article_id=t.article.id or 0,
                cycle=cycle,
                act=act,
                stage_key=stage.key if stage else None,
                stage_name=stage.name if stage else None,
                username=t.user.username,
                role=role,
                comment=comment,
                details_json=json.dumps(details, ensure_ascii=False, sort_keys=True),
                at=now,
            )
        )
        audit.append(
            session,
            actor=t.user.username,
            action=f"review.{act}",
            object_type="article",
            object_id=t.article.slug,
            revision_id=t.revision.id,
            details={
                "role": role,
                "stage": stage.name if stage else None,
                "comment": comment,
                "cycle": cycle,
                **details,
            },
        )

    def _blocked(
        self, slug: str, username: str, revision_id: str, act: str, blocks: list[Finding]
    ) -> ReviewRefused:
        """Record the refusal in the audit chain (it is worth knowing), then explain it."""
        with write_session(self.newsroom.engine) as session:
            audit.append(
                session,
                actor=username,
                action="review.blocked",
                object_type="article",
                object_id=slug,
                revision_id=revision_id,
                details={"act": act, "findings": [f.as_dict() for f in blocks]},
            )
        lines = "\n".join(f"  - {f}" for f in blocks)
        return ReviewRefused(
            f"自动检查未通过，不能{'提交' if act == 'submit' else '终审'} / automatic checks block this:\n{lines}"
        )

    # -- acts ------------------------------------------------------------------------------------
    def submit(
        self, slug: str, username: str, *, revision_id: str | None = None, comment: str | None = None
    ) -> ActResult:
        with write_session(self.newsroom.engine) as session:
            t = self._target(session, slug, username, revision_id)
            if t.state is not None and t.state.status in ("in_review", "approved"):
                raise ReviewRefused(
                    f"第 {t.revision.number} 版已{'在审核中' if t.state.status == 'in_review' else '审核通过'}，无需再次提交 / "
                    f"already {t.state.status}"
                )
            roles = set(roles_of(t.user))
            if not (is_author(t.user, t.meta) or roles & SUBMITTER_ROLES):
                raise ReviewRefused(
                    f"{t.user.display_name} 不是本稿作者，也不是编辑 / only the article's authors or an editor may submit it"
                )
            findings = self._findings(t.subject)
            blocks = [f for f in findings if f.severity == "block"]
            revision = t.revision.id
        if blocks:
            raise self._blocked(slug, username, revision, "submit", blocks)

        with write_session(self.newsroom.engine) as session:
            t = self._target(session, slug, username, revision)
            stages = plan(self.newsroom.settings.review.stages, t.meta)
            cycle = (t.state.cycle if t.state else 0) + 1
            warnings = [f for f in findings if f.severity == "warning"]
            state = t.state or ReviewState(
                revision_id=t.revision.id,
                article_id=t.article.id or 0,
                status="",
                plan_json="[]",
                findings_json="[]",
                acknowledged_json="{}",
                submitted_by=username,
                updated_at=utc_now(),
            )
            state.cycle, state.status, state.stage_index = cycle, "in_review", 0
            state.plan_json = plan_to_json(stages)
            state.findings_json = json.dumps([f.as_dict() for f in warnings], ensure_ascii=False)
            state.acknowledged_json = "{}"
            state.secrecy_blocked = False
            state.submitted_by, state.updated_at = username, utc_now()
            state.bylines = bylines_key(t.meta)
            session.add(state)
            self._record(
                session,
                t,
                "submit",
                cycle,
                role=",".join(roles_of(t.user)),
                comment=comment,
                details={"plan": [s.name for s in stages], "warnings": [w.code for w in warnings]},
            )
            people = announce.stage_waiting(
                session, self.notify, self._acted_on(t, state), stages[0], utc_now()
            )
            # Told, not stored: an unknown byline needs no sign-off, but whoever submits should know
            # that the author rule cannot recognise that person.
            notices = unknown_bylines(session, t.meta)
            return ActResult(
                slug,
                t.revision.id,
                "submit",
                "in_review",
                None,
                stages[0].name,
                warnings + notices,
                _signers(people),
            )

    def _current_stage(self, t: _Target, stage: str | None, act: str) -> tuple[ReviewState, PlannedStage]:
        state = t.state
        if state is None:
            raise ReviewRefused(f"第 {t.revision.number} 版尚未提交审核 / not submitted for review")
        if state.status != "in_review":
            label = {
                "rejected": "已退回，待作者修改后重新提交",
                "withdrawn": "已撤回",
                "approved": "已审核通过",
            }[state.status]
            raise ReviewRefused(
                f"第 {t.revision.number} 版{label}，不能{act} / the revision is {state.status}"
            )
        stages = plan_from_json(state.plan_json)
        current = stages[state.stage_index]
        if stage is not None and stage not in (current.key, current.name):
            raise ReviewRefused(
                f"「{stage}」不是当前环节，当前待办为「{current.name}」 / stage {stage} is not current; {current.name} is"
            )
        return state, current

    def approve(
        self,
        slug: str,
        username: str,
        *,
        revision_id: str | None = None,
        stage: str | None = None,
        comment: str | None = None,
        ack: Iterable[str] = (),
    ) -> ActResult:
        acks = list(dict.fromkeys(ack))
        with write_session(self.newsroom.engine) as session:
            t = self._target(session, slug, username, revision_id)
            state, current = self._current_stage(t, stage, "签署")
            why = refusal_to_act(t.user, current, t.meta, signed_in_cycle(session, state))
            if why:
                raise ReviewRefused(why)
            stages = plan_from_json(state.plan_json)
            final = state.stage_index == len(stages) - 1
            warnings = [Finding(**w) for w in json.loads(state.findings_json)]
            if final:
                # The lists may have changed since submission: check the text again before sign-off.
                fresh = self._findings(t.subject)
                blocks = [f for f in fresh if f.severity == "block"]
                if blocks:
                    revision = t.revision.id
                    session.rollback()
                    raise self._blocked(slug, username, revision, "approve", blocks)
                known = {w.code for w in warnings}
                warnings += [f for f in fresh if f.severity == "warning" and f.code not in known]
            acknowledged: dict[str, str] = json.loads(state.acknowledged_json)
            codes = {w.code for w in warnings}
            unknown = [a for a in acks if a not in codes]
            if unknown:
                raise ReviewRefused(f"没有名为「{'、'.join(unknown)}」的警告 / no warning named {unknown}")
            open_warnings = [w for w in warnings if w.code not in acknowledged and w.code not in acks]
            if open_warnings:
                listed = "\n".join(f"  - {w}" for w in open_warnings)
                names = " ".join(f"--ack {w.code}" for w in open_warnings)
                raise ReviewRefused(
                    f"有未确认的用语警告，请逐条确认（{names}） / acknowledge each warning by name:\n{listed}"
                )
            for code in acks:
                acknowledged.setdefault(code, username)
            state.acknowledged_json = json.dumps(acknowledged, ensure_ascii=False)
            state.findings_json = json.dumps([w.as_dict() for w in warnings], ensure_ascii=False)
            state.stage_index += 1
            state.status = "approved" if final else "in_review"
            state.updated_at = utc_now()
            session.add(state)
            self._record(
                session,
                t,
                "approve",
                state.cycle,
                stage=current,
                role=current.role,
                comment=comment,
                details={"acknowledged": acks, "final": final},
            )
            people: list[StaffUser] = []
            if final:
                announce.approved(session, self.notify, self._acted_on(t, state), utc_now())
            else:
                next_up = stages[state.stage_index]
                people = announce.stage_waiting(
                    session, self.notify, self._acted_on(t, state), next_up, utc_now()
                )
            next_stage = None if final else stages[state.stage_index].name
            result = ActResult(
                slug,
                t.revision.id,
                "approve",
                state.status,
                current.name,
                next_stage,
                warnings,
                _signers(people),
            )
        if final:
            # A corrected revision now approved goes where older ones went (partners, website,
            # feeds, WeChat): each later stage listens through the declared hook.
            hooks.after_approval(self.newsroom, slug, username)
        return result

    def reject(
        self,
        slug: str,
        username: str,
        *,
        comment: str,
        revision_id: str | None = None,
        stage: str | None = None,
    ) -> ActResult:
        if not comment or not comment.strip():
            raise ReviewRefused(
                "退回须写明理由（--comment） / a rejection needs a comment saying what to fix"
            )
        with write_session(self.newsroom.engine) as session:
            t = self._target(session, slug, username, revision_id)
            state, current = self._current_stage(t, stage, "退回")
            why = refusal_to_act(t.user, current, t.meta, signed_in_cycle(session, state))
            if why:
                raise ReviewRefused(why)
            state.status, state.updated_at = "rejected", utc_now()
            session.add(state)
            self._record(
                session, t, "reject", state.cycle, stage=current, role=current.role, comment=comment.strip()
            )
            acted = self._acted_on(t, state)
            announce.rejected(session, self.notify, acted, current, t.user, comment.strip(), utc_now())
            return ActResult(slug, t.revision.id, "reject", "rejected", current.name, None)

    def withdraw(
        self, slug: str, username: str, *, comment: str | None = None, revision_id: str | None = None
    ) -> ActResult:
        with write_session(self.newsroom.engine) as session:
            t = self._target(session, slug, username, revision_id)
            state = t.state
            if state is None or state.status not in ("in_review", "approved"):
                raise ReviewRefused(
                    "只能撤回审核中或已通过的稿件 / only a revision in review or approved can be withdrawn"
                )
            allowed = (
                is_author(t.user, t.meta)
                or username == state.submitted_by
                or bool(set(roles_of(t.user)) & WITHDRAW_ROLES)
            )
            if not allowed:
                raise ReviewRefused(
                    f"{t.user.display_name} 无权撤回本稿 / not allowed to withdraw this article"
                )
            state.status, state.updated_at = "withdrawn", utc_now()
            session.add(state)
            self._record(
                session, t, "withdraw", state.cycle, role=",".join(roles_of(t.user)), comment=comment
            )
            return ActResult(slug, t.revision.id, "withdraw", "withdrawn")
