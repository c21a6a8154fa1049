"""What staff ask of the review chain: what waits on me, where an article stands, how long stages take."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, case, exists, false, func, or_, true
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from publisher.errors import NotFound
from publisher.review.checks import Finding
from publisher.review.plan import PlannedStage, plan_from_json
from publisher.review.users import bylines_of, get_user, normalize_name, resolve_bylines, roles_of
from publisher.review.workflow import is_author, may_act_where, needs_the_rule, refusal_to_act
from publisher.store.tables import Article, ReviewAct, ReviewState, Revision, StaffUser


@dataclass(frozen=True, slots=True)
class StageView:
    stage: PlannedStage
    done_by: str | None = None
    done_at: datetime | None = None
    comment: str | None = None


@dataclass
class ReviewStatus:
    slug: str
    revision: Revision
    status: str  # draft | in_review | rejected | withdrawn | approved
    stages: list[StageView]
    current: PlannedStage | None
    warnings: list[Finding]
    acknowledged: dict[str, str]
    acts: list[tuple[Revision, ReviewAct]] = field(default_factory=list)  # every act on every revision

    @property
    def voided(self) -> list[tuple[Revision, ReviewAct]]:
        """Acts made on earlier revisions: kept for the record, worth nothing for this one."""
        return [(r, a) for r, a in self.acts if r.id != self.revision.id]


def _current(session: Session, slug: str) -> tuple[Article, Revision]:
    article = session.exec(select(Article).where(Article.slug == slug)).first()
    if article is None or article.current_revision_id is None:
        raise NotFound(f"没有这篇稿件 / no article with slug {slug!r}")
    revision = session.get(Revision, article.current_revision_id)
    assert revision is not None
    return article, revision


def status(session: Session, slug: str) -> ReviewStatus:
    article, revision = _current(session, slug)
    state = session.get(ReviewState, revision.id)
    rows = session.exec(
        select(Revision, ReviewAct)
        .join(ReviewAct, col(ReviewAct.revision_id) == col(Revision.id))
        .where(ReviewAct.article_id == article.id)
        .order_by(col(ReviewAct.id))
    ).all()
    acts = [(r, a) for r, a in rows]
    if state is None:
        return ReviewStatus(slug, revision, "draft", [], None, [], {}, acts)
    stages = plan_from_json(state.plan_json)
    approvals = {
        a.stage_key: a
        for r, a in acts
        if r.id == revision.id and a.cycle == state.cycle and a.act == "approve"
    }
    views = [
        StageView(s, approvals[s.key].username, approvals[s.key].at, approvals[s.key].comment)
        if s.key in approvals
        else StageView(s)
        for s in stages
    ]
    current = stages[state.stage_index] if state.status == "in_review" else None
    warnings = [Finding(**w) for w in json.loads(state.findings_json)]
    return ReviewStatus(
        slug, revision, state.status, views, current, warnings, json.loads(state.acknowledged_json), acts
    )


@dataclass(frozen=True, slots=True)
class QueueItem:
    slug: str
    title: str
    revision_id: str
    stage: str  # the stage waiting on the user, or "退回修改" for an author
    since: datetime
    warnings: int


@dataclass(frozen=True, slots=True)
class Inbox:
    tasks: list[QueueItem]  # what waits on the user (the oldest `shown` when asked for fewer)
    waiting: list[QueueItem]  # their own pieces in review, waiting on others (stage: where)
    task_count: int  # every task, shown or not
    waiting_count: int


def _byline_pattern(display_name: str) -> str:
    """A LIKE pattern for meta text that may hold this name as a byline, for reviews stored before
    their bylines were (`ReviewState.bylines` None): the characters `normalize_name` keeps, in
    order, anything between them. A byline typed in compatibility forms is not found by it."""
    escaped = (
        ch.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        for ch in normalize_name(display_name)
    )
    return "%" + "%".join(escaped) + "%"


@lru_cache(maxsize=20_000)  # a revision is immutable (its id is the hash of its text); read-only here
def _cached_meta(revision_id: str, meta_json: str) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(meta_json)
    return meta


@lru_cache(maxsize=256)  # a plan is fixed at submission: open reviews share a handful of them
def _cached_plan(plan_json: str) -> tuple[PlannedStage, ...]:
    return tuple(plan_from_json(plan_json))


def _waiting_on(session: Session) -> dict[str, ColumnElement[bool]]:
    """role -> the open reviews whose waiting stage needs it, on the review state alone: the plans
    open reviews wait on are few, so their stages are read here and the database matches the
    (plan, stage) pairs."""
    pairs: dict[str, list[ColumnElement[bool]]] = defaultdict(list)
    for plan_json, indexes in _open_stages(session).items():
        plan = _cached_plan(plan_json)
        for role in sorted({plan[i].role for i in indexes}):
            matching = sorted(i for i in indexes if plan[i].role == role)
            pairs[role].append(
                (col(ReviewState.plan_json) == plan_json) & col(ReviewState.stage_index).in_(matching)
            )
    return {role: (col(ReviewState.status) == "in_review") & or_(*found) for role, found in pairs.items()}


def _open_stages(session: Session) -> dict[str, set[int]]:
    """plan -> the stage indexes open reviews of that plan wait at: a few plans, a few stages."""
    stages: dict[str, set[int]] = defaultdict(set)
    for plan_json, index in session.execute(
        sql_select(col(ReviewState.plan_json), col(ReviewState.stage_index))
        .where(col(ReviewState.status) == "in_review")
        .distinct()
    ):
        stages[plan_json].add(index)
    return stages


def _current_of(state: type[ReviewState]) -> ColumnElement[bool]:
    """The article whose current revision the review is of, found by its key: a planner then walks
    the open reviews by their status index instead of every article."""
    return (col(Article.id) == col(state.article_id)) & (
        col(Article.current_revision_id) == col(state.revision_id)
    )


_ROW = (
    col(Article.slug),
    col(Revision.id),
    col(Revision.title),
    col(Revision.meta_json),
    col(ReviewState.status),
    col(ReviewState.stage_index),
    col(ReviewState.plan_json),
    col(ReviewState.findings_json),
    col(ReviewState.submitted_by),
    col(ReviewState.updated_at),
)


def _open_reviews(*columns: Any) -> Any:
    """Reviews of articles' current revisions, with the revision's texts."""
    return _current_reviews(*columns).join(Revision, col(Revision.id) == col(ReviewState.revision_id))


def _current_reviews(*columns: Any) -> Any:
    """Reviews of articles' current revisions, without the revision: sorting every open review
    needs only the review's row (and the revision's where a condition asks, by EXISTS)."""
    return sql_select(*columns).select_from(ReviewState).join(Article, _current_of(ReviewState))


def inbox(session: Session, username: str, shown: int | None = None) -> Inbox:
    """What waits on this user and which of their own articles wait on others (the oldest `shown`
    of each, and how many there are): four queries whatever the number of open reviews.

    The database counts and lists what it can judge: the stages the user may sign
    (`workflow.may_act_where`, the rule in SQL), the pieces they submitted that were sent back or
    wait on others. `refusal_to_act` and `is_author` decide the rows shown and the reviews whose
    bylines may name the user (`workflow.needs_the_rule`), so the rule runs on a page of rows and
    the user's own articles, not on every open review of their role or their submissions."""
    user = get_user(session, username)
    waiting_on = _waiting_on(session)
    on_role = or_(false(), *(found for role, found in waiting_on.items() if role in roles_of(user)))
    judged = may_act_where(user, waiting_on)
    by_rule = needs_the_rule(user)
    submitter = col(ReviewState.submitted_by) == username
    status = col(ReviewState.status)
    # Each open review that could concern the user, sorted once: a task the database judged, a
    # piece of theirs waiting on others, or one the rule must decide (bylines that may name them;
    # none stored: as narrowed before, by the waiting stage's role or the name in the meta).
    kind = case(
        (
            by_rule,
            case(
                (
                    col(ReviewState.bylines).is_not(None)
                    | on_role
                    | submitter
                    | exists().where(
                        col(Revision.id) == col(ReviewState.revision_id),
                        col(Revision.meta_json).like(_byline_pattern(user.display_name), escape="\\"),
                    ),
                    _RULED,
                )
            ),
        ),
        (status == "rejected", case((submitter, _TASK))),
        (judged, _TASK),
        (submitter, _WAITING),
    )
    order = (col(ReviewState.updated_at), col(ReviewState.revision_id))
    # Sorted in two steps: each row's kind decided once, then placed and counted within its kind.
    kinds = (
        _current_reviews(
            col(ReviewState.revision_id).label("revision_id"),
            col(ReviewState.updated_at).label("updated_at"),
            kind.label("kind"),
        )
        .where(status.in_(["in_review", "rejected"]), on_role | submitter | by_rule)
        .subquery()
    )
    in_kind = {"partition_by": kinds.c.kind, "order_by": (kinds.c.updated_at, kinds.c.revision_id)}
    sorted_out = sql_select(
        kinds.c.revision_id,
        kinds.c.kind,
        func.row_number().over(**in_kind).label("place"),
        func.count().over(**in_kind, rows=(None, None)).label("of"),
    ).subquery()
    wanted = sorted_out.c.kind == _RULED
    wanted |= sorted_out.c.kind.in_([_TASK, _WAITING]) & (
        true() if shown is None else sorted_out.c.place <= shown
    )
    rows = session.execute(
        _open_reviews(*_ROW, sorted_out.c.kind, sorted_out.c.of)
        .join(sorted_out, sorted_out.c.revision_id == col(ReviewState.revision_id))
        .where(wanted)
        .order_by(*order)
    ).all()
    counted = {kind_: of for *_row, kind_, of in rows if kind_ != _RULED}
    task_count, waiting_count = counted.get(_TASK, 0), counted.get(_WAITING, 0)
    signed = _signed(session, [row[1] for row in rows])

    tasks: list[QueueItem] = []
    waiting: list[QueueItem] = []
    ruled_tasks = ruled_waiting = 0
    for slug, revision_id, title, meta_json, state, index, plan_json, findings, by, since, kind_, _of in rows:
        certain = kind_ != _RULED
        meta = _cached_meta(revision_id, meta_json)
        mine = by == username or is_author(user, meta)
        if state == "rejected":
            if mine:
                tasks.append(QueueItem(slug, title, revision_id, SENT_BACK, since, _warnings(findings)))
                ruled_tasks += not certain
            continue
        stage = _cached_plan(plan_json)[index]
        item = QueueItem(slug, title, revision_id, stage.name, since, _warnings(findings))
        # The rule has the last word on every row shown; the tests hold the database to it.
        if refusal_to_act(user, stage, meta, signed[revision_id]) is None:
            tasks.append(item)
            ruled_tasks += not certain
        elif mine:
            waiting.append(item)
            ruled_waiting += not certain

    def first(items: list[QueueItem]) -> list[QueueItem]:
        ordered = sorted(items, key=lambda t: (t.since, t.revision_id))
        return ordered if shown is None else ordered[:shown]

    return Inbox(first(tasks), first(waiting), task_count + ruled_tasks, waiting_count + ruled_waiting)


SENT_BACK = "退回修改"  # the stage an author's piece sent back waits at
_TASK, _WAITING, _RULED = 1, 2, 3  # how the inbox's query sorts an open review


def _signed(session: Session, revision_ids: list[str]) -> dict[str, dict[str, str]]:
    """revision -> who signed which stage in its current cycle: `refusal_to_act` refuses a second."""
    signed: dict[str, dict[str, str]] = defaultdict(dict)
    for revision_id, signer, stage_name in session.execute(
        sql_select(col(ReviewAct.revision_id), col(ReviewAct.username), col(ReviewAct.stage_name))
        .join(
            ReviewState,
            (col(ReviewState.revision_id) == col(ReviewAct.revision_id))
            & (col(ReviewState.cycle) == col(ReviewAct.cycle)),
        )
        .where(col(ReviewAct.act) == "approve", col(ReviewAct.revision_id).in_(revision_ids))
    ):
        signed[revision_id][signer] = stage_name or ""
    return signed


def _warnings(findings_json: str) -> int:
    return len(json.loads(findings_json)) if findings_json != "[]" else 0


def queue(session: Session, username: str) -> list[QueueItem]:
    """What waits on this user: stages they may sign now, and their own articles sent back."""
    return inbox(session, username).tasks


@dataclass(frozen=True, slots=True)
class StageTiming:
    stage: str
    count: int
    median_hours: float
    mean_hours: float


@dataclass(frozen=True, slots=True)
class ReviewStats:
    stages: list[StageTiming]
    rejections_by_department: dict[str, int]
    rejections_by_stage: dict[str, int]
    status_counts: dict[str, int]


def stats(session: Session) -> ReviewStats:
    """Time each stage took (from the previous act of the same cycle) and where rejections happen."""
    rows = session.exec(
        select(ReviewAct, Revision)
        .join(Revision, col(Revision.id) == col(ReviewAct.revision_id))
        .order_by(col(ReviewAct.id))
    ).all()
    last_at: dict[tuple[str, int], datetime] = {}
    durations: dict[str, list[float]] = defaultdict(list)
    order: list[str] = []
    by_department: Counter[str] = Counter()
    by_stage: Counter[str] = Counter()
    for act, revision in rows:
        key = (act.revision_id, act.cycle)
        if act.act in ("approve", "reject") and key in last_at and act.stage_name:
            durations[act.stage_name].append((act.at - last_at[key]).total_seconds() / 3600)
            if act.stage_name not in order:
                order.append(act.stage_name)
        if act.act == "reject":
            by_department[revision.department] += 1
            by_stage[act.stage_name or ""] += 1
        last_at[key] = act.at
    timings = [
        StageTiming(
            name, len(durations[name]), statistics.median(durations[name]), statistics.fmean(durations[name])
        )
        for name in order
    ]
    current = session.exec(
        select(ReviewState.status).join(
            Article, col(Article.current_revision_id) == col(ReviewState.revision_id)
        )
    ).all()
    return ReviewStats(timings, dict(by_department), dict(by_stage), dict(Counter(current)))


def eligible(session: Session, slug: str) -> list[StaffUser]:
    """Who may sign the stage that waits now (empty when nothing waits)."""
    _article, revision = _current(session, slug)
    state = session.get(ReviewState, revision.id)
    if state is None or state.status != "in_review":
        return []
    stage = plan_from_json(state.plan_json)[state.stage_index]
    meta: dict[str, Any] = json.loads(revision.meta_json)
    acted = signed_in_cycle(session, state)
    users = session.exec(select(StaffUser).where(col(StaffUser.active)).order_by(col(StaffUser.username)))
    return [u for u in users if refusal_to_act(u, stage, meta, acted) is None]


def unknown_bylines(session: Session, meta: dict[str, Any]) -> list[Finding]:
    """A warning for each byline (authors, and the responsible editor) that names no known user:
    the rules that tell people apart cannot see that person."""
    users = list(session.exec(select(StaffUser)))
    authors = resolve_bylines(bylines_of(meta), users).unknown
    editor = resolve_bylines([meta["editor"]] if meta.get("editor") else [], users).unknown
    return [
        Finding(
            "byline",
            "warning",
            "署名",
            f"署名「{name}」不是系统中的用户，作者回避规则无法识别此人 / the byline {name!r} names no "
            "known user: the rule that an author cannot review their own article cannot see them",
        )
        for name in authors
    ] + [
        Finding(
            "byline",
            "warning",
            "责任编辑",
            f"责任编辑「{name}」不是系统中的用户 / the responsible editor {name!r} names no known user",
        )
        for name in editor
    ]


@dataclass(frozen=True, slots=True)
class Signing:
    """What an approval now would sign: shown to the signer before they confirm."""

    slug: str
    title: str
    number: int
    revision_id: str  # the full hash the approval will name
    stage: str | None  # the stage that waits, None when nothing does
    notices: list[Finding]


def signing(session: Session, slug: str) -> Signing:
    _article, revision = _current(session, slug)
    state = session.get(ReviewState, revision.id)
    stage = (
        plan_from_json(state.plan_json)[state.stage_index].name
        if state is not None and state.status == "in_review"
        else None
    )
    meta: dict[str, Any] = json.loads(revision.meta_json)
    return Signing(slug, revision.title, revision.number, revision.id, stage, unknown_bylines(session, meta))


def signed_in_cycle(session: Session, state: ReviewState) -> dict[str, str]:
    """Who already signed which stage in the state's current cycle."""
    acts = session.exec(
        select(ReviewAct).where(
            ReviewAct.revision_id == state.revision_id,
            ReviewAct.cycle == state.cycle,
            ReviewAct.act == "approve",
        )
    )
    return {a.username: a.stage_name or "" for a in acts}
