"""A newsroom the size the console must serve: 10,000 articles, 50 staff, signed review chains for
most of them and 100,000 releases over a few months, for `bench/console.py` and the query-count
tests.

    .venv/bin/python bench/console_seed.py DIR [--articles 10000] [--deliveries 100000] [--users 50]
                                               [--database-url URL] [--seed 1]

Articles come from the shared corpus generator (../shared/bench/make_corpus.py) and go through
`publisher.ingest` itself. Review acts, review states, releases and their audit events are written
in bulk, but by the rules the code checks: each stage's signer is someone `refusal_to_sign` allows,
the status row is what the acts prove, every act has its audit event, and the audit chain is made by
`audit.append_many`, so `publisher audit verify` passes on the result.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import insert
from sqlmodel import Session, col, select

from publisher import audit
from publisher.config import UserSeed
from publisher.delivery.contract import Receipt
from publisher.delivery.states import DeliveryAction, DeliveryState
from publisher.engine.scheduling import idempotency_key
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.plan import PlannedStage, plan_to_json
from publisher.review.users import bylines_key, sync_users
from publisher.review.workflow import plan, refusal_to_sign
from publisher.store.engine import write_session
from publisher.store.tables import Article, Delivery, ReviewAct, ReviewState, Revision, StaffUser

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # the bench's "now": 10:00 in Shanghai
SUBMITTER = "zhouwb"  # an editor of the demo staff: submits what the authors wrote
CHUNK = 5000  # rows per bulk insert and per audit group
console = Console(stderr=True)

# Extra staff beyond the demo's, round-robin over the roles a newsroom has most of.
EXTRA_ROLES = ["author", "author", "editor", "proofreader", "author", "department_head", "leader"]
CHANNELS = ["website", "site-feed", "wechat", "partner-media-centre", "partner-provincial-daily"]


def corpus_script() -> Path:
    """`../shared/bench/make_corpus.py` beside the checkout (or beside the worktree folder)."""
    for candidate in (REPO.parent / "shared", REPO.parent.parent / "shared"):
        script = candidate / "bench" / "make_corpus.py"
        if script.is_file():
            return script
    raise SystemExit("找不到语料生成器 / make_corpus.py not found in ../shared/bench")


@dataclass(frozen=True)
class SeedReport:
    root: Path
    articles: int
    users: int
    review_acts: int
    deliveries: int
    audit_events: int
    seconds: float


@contextmanager
def _bar(label: str, total: int, quiet: bool) -> Iterator[Callable[[int], None]]:
    if quiet:
        yield lambda _n: None
        return
    with Progress(
        TextColumn(f"{label:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def make_folder(root: Path, database_url: str | None) -> None:
    """The demo's settings, channels, review lists and schedules; the database where asked."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    toml = (REPO / "publisher.toml").read_text(encoding="utf-8")
    if database_url:
        toml = toml.replace("[database]\n", f"[database]\nurl = {json.dumps(database_url)}\n", 1)
    (root / "publisher.toml").write_text(toml, encoding="utf-8")
    for folder in ("channels", "review", "schedules"):
        shutil.copytree(REPO / folder, root / folder)


def extra_staff(room: Newsroom, total: int) -> list[UserSeed]:
    """The demo's staff and enough generated ones to make `total`."""
    seeds = list(room.settings.users)
    committees = room.settings.committees
    for i in range(max(0, total - len(seeds))):
        role = EXTRA_ROLES[i % len(EXTRA_ROLES)]
        seeds.append(
            UserSeed(
                username=f"staff{i + 1:03d}",
                name=f"职员{i + 1:03d}",
                roles=[role],  # type: ignore[list-item]
                committees=[committees[i % len(committees)]] if role == "committee_reviewer" else [],
            )
        )
    return seeds


def _signers(
    stages: Sequence[PlannedStage],
    meta: dict[str, Any],
    by_role: dict[str, list[StaffUser]],
    rng: random.Random,
) -> list[StaffUser] | None:
    """One eligible, distinct signer per stage, as `refusal_to_sign` allows, or None."""
    acted: dict[str, str] = {}
    chosen: list[StaffUser] = []
    for stage in stages:
        candidates = by_role.get(stage.role, [])
        start = rng.randrange(len(candidates)) if candidates else 0
        for user in candidates[start:] + candidates[:start]:
            if refusal_to_sign(user, stage, meta, acted) is None:
                acted[user.username] = stage.name
                chosen.append(user)
                break
        else:
            return None
    return chosen


@dataclass
class _Article:
    id: int
    slug: str
    revision_id: str
    meta: dict[str, Any]
    status: str | None = None  # the review status written


@dataclass
class _Chain:
    """The acts of one article's review, each with its audit event, minutes to hours apart."""

    item: _Article
    at: datetime
    rng: random.Random
    acts: list[dict[str, Any]]
    entries: list[audit.Entry]

    def act(
        self, kind: str, user: StaffUser, stage: PlannedStage | None, role: str | None, **details: Any
    ) -> None:
        self.at += timedelta(minutes=self.rng.randint(5, 600))
        comment = "请修改导语" if kind == "reject" else None
        stage_name = stage.name if stage else None
        self.acts.append(
            {
                "revision_id": self.item.revision_id,
                "article_id": self.item.id,
                "cycle": 1,
                "act": kind,
                "stage_key": stage.key if stage else None,
                "stage_name": stage_name,
                "username": user.username,
                "role": role,
                "comment": comment,
                "details_json": json.dumps(details, ensure_ascii=False, sort_keys=True),
                "at": self.at,
            }
        )
        self.entries.append(
            audit.Entry(
                user.username,
                f"review.{kind}",
                "article",
                self.item.slug,
                self.item.revision_id,
                {"role": role, "stage": stage_name, "comment": comment, "cycle": 1, **details},
            )
        )


def seed_reviews(room: Newsroom, rng: random.Random, quiet: bool) -> tuple[list[_Article], int, int]:
    """Review chains for most articles: ~30% drafts, ~25% in review at some stage, ~5% rejected,
    ~40% approved. Returns the articles, the acts and the audit events written."""
    with Session(room.engine) as session:
        users = [u for u in session.exec(select(StaffUser).order_by(col(StaffUser.id))) if u.active]
        rows = session.exec(
            select(Article.id, Article.slug, Revision.id, Revision.meta_json)
            .join(Revision, col(Revision.id) == col(Article.current_revision_id))
            .order_by(col(Article.id))  # the same draws on every backend
        ).all()
    by_role: dict[str, list[StaffUser]] = {}
    for user in users:
        for role in json.loads(user.roles_json):
            by_role.setdefault(role, []).append(user)
    known = {u.username: u for u in users}
    articles = [_Article(a, s, r, json.loads(m)) for a, s, r, m in rows if a is not None]
    stages_conf = room.settings.review.stages
    acts: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    entries: list[audit.Entry] = []
    base = NOW - timedelta(days=120)
    with _bar("review chains", len(articles), quiet) as advance:
        for n, item in enumerate(articles):
            advance(1)
            roll = rng.random()
            if roll < 0.30:
                continue
            stages = plan(stages_conf, item.meta)
            signers = _signers(stages, item.meta, by_role, rng)
            if signers is None:
                continue
            if roll < 0.55:
                status, signed = "in_review", rng.randrange(len(stages))
            elif roll < 0.60:
                status, signed = "rejected", rng.randrange(len(stages))
            else:
                status, signed = "approved", len(stages)
            at = base + timedelta(minutes=n * 10)
            submitter = known[SUBMITTER]

            chain = _Chain(item, at, rng, acts, entries)
            act = chain.act
            act(
                "submit",
                submitter,
                None,
                ",".join(json.loads(submitter.roles_json)),
                plan=[s.name for s in stages],
                warnings=[],
            )
            for stage, user in zip(stages[:signed], signers, strict=False):
                act("approve", user, stage, stage.role, acknowledged=[], final=stage is stages[-1])
            if status == "rejected":
                act("reject", signers[signed], stages[signed], stages[signed].role)
            item.status = status
            states.append(
                {
                    "revision_id": item.revision_id,
                    "article_id": item.id,
                    "cycle": 1,
                    "status": status,
                    "stage_index": min(signed, len(stages) - 1),
                    "plan_json": plan_to_json(stages),
                    "findings_json": "[]",
                    "acknowledged_json": "{}",
                    "secrecy_blocked": False,
                    "submitted_by": SUBMITTER,
                    "bylines": bylines_key(item.meta),
                    "updated_at": chain.at,
                }
            )
    _write(room, ReviewState, states, [], "review states", quiet)
    _write(room, ReviewAct, acts, entries, "review acts", quiet)
    return articles, len(acts), len(entries)


def _write(
    room: Newsroom,
    table: type[Any],
    rows: list[dict[str, Any]],
    entries: list[audit.Entry],
    label: str,
    quiet: bool,
) -> None:
    """Rows in bulk and their audit events chained in order, a chunk per transaction."""
    with _bar(label, len(rows), quiet) as advance:
        for start in range(0, max(len(rows), len(entries)), CHUNK):
            with write_session(room.engine) as session:
                chunk = rows[start : start + CHUNK]
                if chunk:
                    session.execute(insert(table), chunk)
                audit.append_many(session, entries[start : start + CHUNK])
            advance(len(chunk))


_PAST_STATES = [
    (0.88, DeliveryState.DONE),
    (0.92, DeliveryState.FAILED),
    (0.95, DeliveryState.MISSED),
    (0.97, DeliveryState.CANCELED),
    (0.99, DeliveryState.UNKNOWN),
    (1.00, DeliveryState.HELD),
]
_REASONS = {
    DeliveryState.FAILED: "对方返回 400：字段不合规 / the channel refused the content (400)",
    DeliveryState.MISSED: "错过发布时间且超过宽限期 / missed: past the grace period",
    DeliveryState.UNKNOWN: "超时，结果未知，待核对 / timed out, outcome unknown: reconcile",
    DeliveryState.HELD: "未经审核通过 / not approved",
}


def seed_deliveries(
    room: Newsroom, articles: list[_Article], total: int, rng: random.Random, quiet: bool
) -> tuple[int, int]:
    """`total` releases over four months around NOW: approved articles carry most (done when past
    due, scheduled when ahead); articles still in review have some held. One `delivery.schedule`
    audit event each, and the outcome's event for those finished."""
    approved = [a for a in articles if a.status == "approved"]
    pending = [a for a in articles if a.status == "in_review"]
    if not approved or total <= 0:
        return 0, 0
    start = NOW - timedelta(days=90)
    span_minutes = 120 * 24 * 60
    rows: list[dict[str, Any]] = []
    entries: list[audit.Entry] = []
    used: set[str] = set()
    while len(rows) < total:
        item = rng.choice(pending) if pending and rng.random() < 0.03 else rng.choice(approved)
        channel = rng.choice(CHANNELS)
        due = start + timedelta(minutes=rng.randrange(span_minutes))
        key = idempotency_key(item.slug, channel, due)
        if key in used:
            continue
        used.add(key)
        if item.status != "approved":
            state = DeliveryState.HELD if due < NOW else DeliveryState.SCHEDULED
        elif due >= NOW:
            state = DeliveryState.SCHEDULED
        else:
            roll = rng.random()
            state = next(s for bound, s in _PAST_STATES if roll < bound)
            if state is DeliveryState.HELD:
                state = DeliveryState.DONE  # an approved piece is not held for approval
        done = state is DeliveryState.DONE
        receipt = (
            Receipt(f"{channel}-{len(rows)}", f"https://example.invalid/{channel}/{item.slug}")
            if done
            else None
        )
        rows.append(
            {
                "article_id": item.id,
                "channel": channel,
                "due_at": due,
                "status": state.value,
                "attempts": 0 if state is DeliveryState.SCHEDULED else 1,
                "next_attempt_at": due,
                "idempotency_key": key,
                "revision_id": item.revision_id if done else None,
                "receipt_json": receipt.to_json() if receipt else None,
                "action": DeliveryAction.PUBLISH.value,
                "last_error": _REASONS.get(state),
                "created_by": SUBMITTER,
                "created_at": due - timedelta(days=3),
                "updated_at": due + timedelta(minutes=1) if due < NOW else due - timedelta(days=3),
                "done_at": due + timedelta(minutes=1) if done else None,
            }
        )
        entries.append(
            audit.Entry(
                SUBMITTER,
                "delivery.schedule",
                "article",
                item.slug,
                None,
                {"channel": channel, "due": due.isoformat()},
            )
        )
        if state is not DeliveryState.SCHEDULED:
            entries.append(
                audit.Entry(
                    "engine",
                    f"delivery.{state.value}",
                    "article",
                    item.slug,
                    item.revision_id,
                    {"channel": channel},
                )
            )
    _write_pairs(room, rows, entries, quiet)
    return len(rows), len(entries)


def _write_pairs(room: Newsroom, rows: list[dict[str, Any]], entries: list[audit.Entry], quiet: bool) -> None:
    with _bar("deliveries", len(rows), quiet) as advance:
        for start in range(0, len(rows), CHUNK):
            with write_session(room.engine) as session:
                session.execute(insert(Delivery), rows[start : start + CHUNK])
            advance(len(rows[start : start + CHUNK]))
    with _bar("delivery audit", len(entries), quiet) as advance:
        for start in range(0, len(entries), CHUNK):
            with write_session(room.engine) as session:
                audit.append_many(session, entries[start : start + CHUNK])
            advance(len(entries[start : start + CHUNK]))


def seed(
    root: Path,
    *,
    articles: int = 10_000,
    deliveries: int = 100_000,
    users: int = 50,
    database_url: str | None = None,
    seed_value: int = 1,
    quiet: bool = False,
) -> SeedReport:
    """Build the newsroom in `root` (emptied first) and fill its database."""
    began = time.perf_counter()
    rng = random.Random(seed_value)
    make_folder(root, database_url)
    subprocess.run(
        [
            sys.executable,
            str(corpus_script()),
            str(root / "content"),
            "--count",
            str(articles),
            "--seed",
            str(seed_value),
            "--quiet",
        ],
        check=True,
    )
    room = Newsroom(root)
    try:
        with write_session(room.engine) as session:
            sync_users(session, extra_staff(room, users), "seed")
        with _bar("ingest", articles, quiet) as advance:
            report = ingest(room, progress=advance)
        if not report.ok or len(report.created) != articles:
            raise SystemExit(f"ingest failed / 入库失败: {report.problems[:3]}")
        stored, act_count, review_events = seed_reviews(room, rng, quiet)
        delivered, delivery_events = seed_deliveries(room, stored, deliveries, rng, quiet)
    finally:
        room.close()
    return SeedReport(
        root,
        articles,
        max(users, len(room.settings.users)),
        act_count,
        delivered,
        review_events + delivery_events,
        time.perf_counter() - began,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", type=Path, help="the newsroom folder to create (emptied first)")
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--deliveries", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--database-url", help="default: SQLite under DIR/var")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    report = seed(
        args.root,
        articles=args.articles,
        deliveries=args.deliveries,
        users=args.users,
        database_url=args.database_url,
        seed_value=args.seed,
    )
    console.print(
        f"[green]seeded[/green] {report.root}: {report.articles} articles, {report.users} users, "
        f"{report.review_acts} review acts, {report.deliveries} deliveries, {report.audit_events} audit "
        f"events in {report.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
