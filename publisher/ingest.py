"""Ingest: content/ -> immutable revisions in the store, every change in the audit chain.

One run reads every article and reports every problem at once; a broken file is left out, never
blocking the others. The valid articles are then written in batches (`ingest_writer`), each batch
one transaction, so nothing is half-stored and a batch pays a few round trips, not a few per article.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Generator, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col

from publisher.content.assets import stat_stamp
from publisher.content.loader import LoadContext
from publisher.content.parallel import load_many
from publisher.content.record import ArticleRecord
from publisher.content.revision import canonical_json
from publisher.errors import Problem
from publisher.ingest_writer import Change, Outcome, Stored, write_batch

__all__ = ["Change", "IngestReport", "check", "ingest", "scan"]
from publisher.newsroom import SYSTEM_ACTOR, Newsroom
from publisher.schedule import check_schedules
from publisher.store.engine import write_session
from publisher.store.tables import Article, SourceStamp
from publisher.timeutil import utc_now

Progress = Callable[[int], None]
MAX_ATTEMPTS = 4
# Articles stored per transaction: a few round trips per batch instead of several per article,
# while one transaction never holds the write lock for long.
BATCH = 500


@dataclass
class IngestReport:
    files: int = 0
    created: list[Change] = field(default_factory=list)  # new articles
    revised: list[Change] = field(default_factory=list)  # a new revision of a known article
    reverted: list[Change] = field(default_factory=list)  # back to an earlier revision
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (slug, source) no longer in content/
    skipped: list[str] = field(default_factory=list)  # files with problems

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def as_dict(self) -> dict[str, object]:
        def changes(items: list[Change]) -> list[dict[str, object]]:
            return [
                {"slug": c.slug, "revision": c.revision_id, "number": c.number, "source": c.source}
                for c in items
            ]

        return {
            "files": self.files,
            "created": changes(self.created),
            "revised": changes(self.revised),
            "reverted": changes(self.reverted),
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "missing": [{"slug": s, "source": src} for s, src in self.missing],
            "problems": [p.as_dict() for p in self.problems],
        }


def scan(content_dir: Path) -> list[Path]:
    """Every article file, in a stable order; hidden folders (editor backups, .git) are not content."""
    if not content_dir.is_dir():
        return []
    return sorted(
        (
            p
            for p in content_dir.rglob("*.md")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(content_dir).parts)
        ),
        # The order of Paths, with each key built once: comparing Paths rebuilds their parts.
        key=lambda p: p.parts,
    )


# A file whose mtime falls this close to the moment it was stamped may have changed again within
# the same clock tick, unseen by its size and mtime; such a file is hashed instead (git's "racy" rule).
RACY_NS = 2_000_000_000


Stat = tuple[int, int]  # (size, mtime_ns)


@dataclass(frozen=True, slots=True)
class Restamp:
    stat: Stat
    assets_json: str


def _same_file(path: Path, stamped: Stat, sha256: str, checked_ns: int) -> tuple[bool, Stat | None]:
    """Does the file still hold the stamped bytes? Trusts (size, mtime) unless the stamp is racy,
    and returns the stat to remember when it moved or when a racy stamp can now be settled."""
    stat = stat_stamp(path)
    if stat is None:
        return False, None
    if stat == stamped and stamped[1] < checked_ns - RACY_NS:
        return True, None
    try:
        same = hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    except OSError:
        return False, None
    settled = stat[1] < time.time_ns() - RACY_NS
    return same, stat if same and (stat != stamped or settled) else None


class StampRow(NamedTuple):
    """A source stamp as plain values: building thousands of ORM objects costs more than the check."""

    source: str
    sha256: str
    size: int
    mtime_ns: int
    context: str
    slug: str
    assets_json: str
    checked_at: datetime


def _load_stamps(session: Session) -> dict[str, StampRow]:
    columns = [getattr(SourceStamp, name) for name in StampRow._fields]
    return {row[0]: StampRow(*row) for row in session.execute(sa_select(*columns))}


def _unchanged(path: Path, stamp: StampRow, root: Path) -> tuple[bool, Restamp | None]:
    """Is the article file, with every image it uses, as it was stamped?"""
    checked_ns = int(stamp.checked_at.timestamp() * 1_000_000_000)
    same, restat = _same_file(path, (stamp.size, stamp.mtime_ns), stamp.sha256, checked_ns)
    if not same:
        return False, None
    assets: list[list[object]] = []
    moved = restat is not None
    for asset_path, size, mtime_ns, sha256 in json.loads(stamp.assets_json):
        same, asset_restat = _same_file(root / asset_path, (size, mtime_ns), sha256, checked_ns)
        if not same:
            return False, None
        moved = moved or asset_restat is not None
        assets.append([asset_path, *(asset_restat or (size, mtime_ns)), sha256])
    if not moved:
        return True, None
    return True, Restamp(restat or (stamp.size, stamp.mtime_ns), canonical_json(assets))


def _restamp(newsroom: Newsroom, moved: dict[str, Restamp]) -> None:
    """Files touched but not changed: remember their new stat so the next run skips them cheaply."""
    if not moved:
        return
    now = utc_now()
    with write_session(newsroom.engine) as session:
        for source, restamp in moved.items():
            stamp = session.get(SourceStamp, source)
            if stamp is not None:
                stamp.size, stamp.mtime_ns = restamp.stat
                stamp.assets_json, stamp.checked_at = restamp.assets_json, now
                session.add(stamp)


def _claim_slugs(
    loaded: list[ArticleRecord], unchanged: dict[str, str], stored_sources: dict[str, str]
) -> tuple[list[ArticleRecord], list[Problem]]:
    """One slug, one file. The file already stored under a slug keeps it; otherwise the first by path."""
    claimants: dict[str, list[tuple[str, ArticleRecord | None]]] = {}
    for source, slug in unchanged.items():
        claimants.setdefault(slug, []).append((source, None))
    for item in loaded:
        claimants.setdefault(item.slug, []).append((item.source, item))
    keep: list[ArticleRecord] = []
    problems: list[Problem] = []
    for slug, entries in claimants.items():
        entries.sort(key=lambda e: (e[0] != stored_sources.get(slug), e[0]))
        owner = entries[0]
        if owner[1] is not None:
            keep.append(owner[1])
        for _source, other in entries[1:]:
            if other is not None:
                problems.append(
                    Problem(
                        other.source,
                        f"slug 重复 / duplicate slug {slug!r}: already used by {owner[0]}",
                        field="slug",
                        line=other.slug_line,
                    )
                )
    keep.sort(key=lambda item: item.source)
    return keep, problems


def _store(newsroom: Newsroom, batch: list[ArticleRecord], actor: str) -> list[Stored]:
    last: Exception | None = None
    for _attempt in range(MAX_ATTEMPTS):
        try:
            with write_session(newsroom.engine) as session:
                return write_batch(session, batch, newsroom.taxonomy_hash, actor, utc_now())
        except (IntegrityError, OperationalError) as exc:
            # Another ingest stored one of these articles or an event first; read again, decide anew.
            last = exc
    sources = ", ".join(item.source for item in batch[:3]) + (" …" if len(batch) > 3 else "")
    raise RuntimeError(f"{sources}: could not be stored after {MAX_ATTEMPTS} attempts: {last}")


def _triage(
    newsroom: Newsroom,
    files: Iterable[Path],
    stamps: dict[str, StampRow],
    report: IngestReport,
    progress: Progress | None,
) -> tuple[list[Path], dict[str, str], dict[str, Restamp]]:
    """The files to load; for unchanged ones, source -> slug; and the unchanged files whose stat
    moved (source -> new size and mtime)."""
    unchanged: dict[str, str] = {}
    moved: dict[str, Restamp] = {}
    to_load: list[Path] = []
    for path in files:
        report.files += 1
        source = path.relative_to(newsroom.root).as_posix()
        stamp = stamps.get(source)
        if stamp is not None and stamp.context == newsroom.taxonomy_hash:
            same, restamp = _unchanged(path, stamp, newsroom.root)
            if same:
                unchanged[source] = stamp.slug
                if restamp is not None:
                    moved[source] = restamp
                if progress:
                    progress(1)
                continue
        to_load.append(path)
    return to_load, unchanged, moved


def _load(
    newsroom: Newsroom,
    paths: list[Path],
    report: IngestReport,
    *,
    keep_blobs: bool,
    progress: Progress | None,
) -> Generator[ArticleRecord, None, None]:
    """Each valid article as it is loaded, in path order; every problem goes into the report."""
    ctx = LoadContext(
        root=newsroom.root, taxonomy=newsroom.taxonomy, blobs=newsroom.blobs if keep_blobs else None
    )
    # Closed on the way out, even when the caller stops early (a failed batch): no worker outlives it.
    with closing(load_many(paths, ctx, progress)) as results:
        for path, result in zip(paths, results, strict=True):
            if isinstance(result, ArticleRecord):
                yield result
            else:
                report.problems.extend(result)
                report.skipped.append(path.relative_to(newsroom.root).as_posix())


def check(newsroom: Newsroom, progress: Progress | None = None) -> IngestReport:
    """Validate every article, channel and schedules file; store nothing, not even a database file."""
    report = IngestReport()
    report.problems.extend(newsroom.channels.problems)
    to_load, unchanged, _moved = _triage(newsroom, scan(newsroom.content_dir), {}, report, progress)
    loaded = list(_load(newsroom, to_load, report, keep_blobs=False, progress=progress))
    _keep, duplicates = _claim_slugs(loaded, unchanged, {})
    report.problems.extend(duplicates)
    report.skipped.extend(p.file for p in duplicates)
    report.problems.extend(check_schedules(newsroom))
    return report


class _Writer:
    """Stores articles in batches of `BATCH` as they come, and puts each outcome in the report."""

    def __init__(self, newsroom: Newsroom, actor: str, report: IngestReport) -> None:
        self.newsroom, self.actor, self.report = newsroom, actor, report
        self.pending: list[ArticleRecord] = []
        self.written: set[str] = set()  # sources
        self.lists = {
            Outcome.CREATED: report.created,
            Outcome.REVISED: report.revised,
            Outcome.REVERTED: report.reverted,
        }

    def add(self, item: ArticleRecord) -> None:
        self.pending.append(item)
        self.written.add(item.source)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        for stored in _store(self.newsroom, batch, self.actor):
            if stored.change is None:
                self.report.unchanged += 1
            else:
                self.lists[stored.outcome].append(stored.change)


def _owner_already(
    item: ArticleRecord, stored_sources: dict[str, str], unchanged_slugs: set[str], seen: set[str]
) -> bool:
    """Does `item` own its slug whatever the files still loading hold? So it is when the slug is
    stored under this very file, or when no file has it stored and no earlier file claims it: what
    `_claim_slugs` decides at the end can then only agree. Other articles wait for that."""
    stored = stored_sources.get(item.slug)
    if stored is not None:
        return stored == item.source
    return item.slug not in unchanged_slugs and item.slug not in seen


def ingest(newsroom: Newsroom, actor: str = SYSTEM_ACTOR, progress: Progress | None = None) -> IngestReport:
    report = IngestReport()
    report.problems.extend(newsroom.channels.problems)
    files = scan(newsroom.content_dir)
    engine = newsroom.engine
    with Session(engine) as session:
        stamps = _load_stamps(session)
        pairs = session.execute(sa_select(col(Article.slug), col(Article.source)))
        stored_sources = {slug: source for slug, source in pairs}
    to_load, unchanged, moved = _triage(newsroom, files, stamps, report, progress)
    _restamp(newsroom, moved)
    report.unchanged = len(unchanged)
    # Articles are stored while later files are still loading (in other processes, see
    # content/parallel.py): a batch is written as soon as it is full of articles whose slug is
    # settled. The rest wait until every file is read and every claim is known.
    writer = _Writer(newsroom, actor, report)
    loaded: list[ArticleRecord] = []
    unchanged_slugs = set(unchanged.values())
    seen: set[str] = set()
    with closing(_load(newsroom, to_load, report, keep_blobs=True, progress=progress)) as items:
        for item in items:
            loaded.append(item)
            if _owner_already(item, stored_sources, unchanged_slugs, seen):
                writer.add(item)
            seen.add(item.slug)
    keep, duplicates = _claim_slugs(loaded, unchanged, stored_sources)
    report.problems.extend(duplicates)
    report.skipped.extend(p.file for p in duplicates)
    for item in keep:
        if item.source not in writer.written:
            writer.add(item)
    writer.flush()

    claimed = set(unchanged.values()) | {item.slug for item in keep}
    broken = set(report.skipped)
    for slug, source in sorted(stored_sources.items()):
        if slug not in claimed and source not in broken:
            report.missing.append((slug, source))
    return report
