"""Build a website channel (and the feeds published beside it) and deploy it atomically.

    select (gate) -> plan outputs (keys) -> render missing fragments (all cores) -> write changed
    files into a staged release -> swap `public/` -> prune

Only outputs whose key changed are produced, and of those only files whose bytes changed are
written; a rebuild with nothing changed deploys nothing.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import multiprocessing
import os
import time
from collections import defaultdict, deque
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, cast

from publisher.channels.kinds import FeedSettings, WebsiteSettings
from publisher.channels.registry import Channel
from publisher.errors import PublisherError
from publisher.newsroom import Newsroom
from publisher.review.gate import Gate, for_many
from publisher.site import media
from publisher.site.consultations import consultation_views
from publisher.site.deploy import Manifest, Releases, link_or_copy, write_staged
from publisher.site.feeds import FeedInfo, feed_outputs
from publisher.site.fragments import PARALLEL_FROM, FragmentCache, render_key
from publisher.site.images import image_outputs
from publisher.site.media import Source
from publisher.site.select import Item, Selection, load_current, load_shown, select_items
from publisher.site.site import (
    MEDIA_URL,
    Output,
    SiteInfo,
    Website,
    keep_compiled_templates,
    render_page,
    warm_up,
)
from publisher.store.batch import revision_bodies
from publisher.store.engine import read_session

TARGETS = ("website", "feeds")
Progress = Callable[[str, int, int], None]  # (stage, advance, total)


@dataclass
class BuildReport:
    channel: str
    output: Path
    release: Path | None = None
    deployed: bool = False
    pages: int = 0
    feeds: int = 0
    files: int = 0
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    rendered: int = 0
    published: list[str] = field(default_factory=list)
    excluded: dict[str, tuple[str, ...]] = field(default_factory=dict)
    feed_items: dict[str, list[str]] = field(default_factory=dict)  # feed channel -> slugs
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "output": str(self.output),
            "release": str(self.release) if self.release else None,
            "deployed": self.deployed,
            "pages": self.pages,
            "feeds": self.feeds,
            "files": self.files,
            "written": len(self.written),
            "removed": len(self.removed),
            "unchanged": self.unchanged,
            "rendered": self.rendered,
            "published": self.published,
            "excluded": {k: list(v) for k, v in self.excluded.items()},
            "seconds": round(self.seconds, 3),
        }


def state_dir(room: Newsroom, channel: Channel) -> Path:
    return room.var_dir / "site" / channel.name


def output_dir(room: Newsroom, channel: Channel) -> Path:
    settings = cast(WebsiteSettings, channel.settings)
    return room.root / settings.output


def websites(room: Newsroom) -> list[Channel]:
    return [c for c in room.channels.channels.values() if c.kind == "website" and c.enabled]


def feeds_of(room: Newsroom, site: Channel) -> list[Channel]:
    return [
        c
        for c in room.channels.channels.values()
        if c.kind == "feed" and c.enabled and cast(FeedSettings, c.settings).site == site.name
    ]


def fragment_cache(room: Newsroom, channel: Channel) -> FragmentCache:
    cache = room.var_dir / "cache"
    return FragmentCache(room.blobs, cache / "media", cache / "render", MEDIA_URL)


def _owner(path: str) -> str:
    return "feeds" if path.startswith("feeds/") else "website"


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during a build: it allocates thousands of small, short-lived
    objects, and a full collection walking a large heap (a long-running process) can cost more
    than the whole incremental rebuild. Collection resumes, as it was, when the build ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_site(
    room: Newsroom,
    channel: Channel,
    gate: Gate,
    *,
    now: datetime | None = None,
    targets: Collection[str] = TARGETS,
    workers: int | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Build one website channel and its feeds; a failure leaves the live site as it was."""
    with _gc_paused():
        return _build_site(room, channel, gate, now=now, targets=targets, workers=workers, progress=progress)


def _build_site(
    room: Newsroom,
    channel: Channel,
    gate: Gate,
    *,
    now: datetime | None = None,
    targets: Collection[str] = TARGETS,
    workers: int | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    started = time.perf_counter()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    unknown = set(targets) - set(TARGETS)
    if unknown:
        raise PublisherError(f"未知构建目标 / unknown build target {', '.join(sorted(unknown))}")
    settings = cast(WebsiteSettings, channel.settings)
    report = BuildReport(channel=channel.name, output=output_dir(room, channel))
    feed_channels = feeds_of(room, channel)

    with read_session(room.engine) as session:
        # The revision each article shows: its current one, or what the release rule keeps live.
        rows = load_shown(session, load_current(session), gate, channel)
        # One gate for the whole build: it reads what it needs about every row in a few queries.
        gate = for_many(gate, session, [row.revision for row in rows])
        metas: dict[str, dict[str, Any]] = {}
        made: dict[str, Item] = {}
        selection = select_items(session, rows, channel, gate, now, metas, made)
        feed_selections: dict[str, Selection] = {
            f.name: select_items(session, rows, f, gate, now, metas, made) for f in feed_channels
        }
    on_site = {i.slug for i in selection.items}
    report.published = [i.slug for i in selection.items]
    report.excluded = dict(selection.excluded)

    releases = Releases(state_dir(room, channel), report.output)
    current = releases.current()
    previous = releases.manifest(current)

    # A revision that replaced the one first published here is a correction: readers see `updated`.
    published = dict(previous.published)
    updated: dict[str, datetime] = {}
    for item in selection.items:
        first = published.setdefault(item.slug, item.revision_id)
        if first != item.revision_id:
            updated[item.slug] = max(item.created_at, item.date)

    room_settings = room.settings
    info = SiteInfo(
        title=channel.title,
        org=room_settings.newsroom.full_name or room_settings.newsroom.name,
        description=channel.description,
        base_url=settings.base_url.rstrip("/"),
        page_size=settings.page_size,
        tz=room_settings.tz,
        columns=tuple((c.key, c.name, c.description) for c in room_settings.columns),
        feeds=bool(feed_channels),
        cards=settings.generates_cards(),
        id_code=room_settings.newsroom.site_id_code,
        column_types=tuple((c.key, c.category) for c in room_settings.columns),
    )
    fragments = fragment_cache(room, channel)
    keep_compiled_templates(room.var_dir / "cache" / "templates")
    every_item: dict[str, Item] = {i.revision_id: i for i in selection.items}
    keys = {rid: render_key(rid, MEDIA_URL) for rid in every_item}

    outputs: list[Output] = []
    if "website" in targets:
        # The consultations of the drafts going live are registered from these very revisions.
        consultations = consultation_views(
            room.engine, selection.items, room_settings.consultation, room_settings.tz, now
        )
        outputs.extend(Website(info, selection.items, fragments, updated, consultations).outputs(keys))
        outputs.extend(image_outputs(room, info, settings.image_limits(), selection.items))
    if "feeds" in targets:
        for feed in feed_channels:
            fs = cast(FeedSettings, feed.settings)
            # A feed item links to the site: it must be on the site too.
            items = [i for i in feed_selections[feed.name].items if i.slug in on_site]
            report.feed_items[feed.name] = [i.slug for i in items]
            feed_info = FeedInfo(
                title=feed.title,
                description=feed.description,
                base_url=info.base_url,
                author=info.org,
                formats=tuple(f for f in fs.formats if f in ("rss", "atom", "json")),
                items=fs.items,
                per_column=fs.per_column,
                columns=tuple((k, n) for k, n, _ in info.columns),
            )
            outputs.extend(
                feed_outputs(feed_info, items, keys, fragments, updated, {k: n for k, n, _ in info.columns})
            )

    media_names = _media(selection.items, room, releases, fragments)
    shown = {i.slug: i.revision_id for i in selection.items}
    if current is not None and _nothing_changed(outputs, previous, targets, media_names, published, shown):
        # Every file is the one the live release has: no staging copy of the release to discard.
        report.files = len(previous.files)
        report.pages = sum(1 for p in previous.files if p.endswith(".html"))
        report.feeds = sum(1 for p in previous.files if p.startswith("feeds/"))
        report.unchanged = len(outputs)
        report.release = current
        report.seconds = time.perf_counter() - started
        return report
    staging = releases.stage(current, previous)
    try:

        def bodies(revision_ids: list[str]) -> dict[str, str]:
            with read_session(room.engine) as session:
                return revision_bodies(session, revision_ids)

        by_key = {keys[rid]: item for rid, item in every_item.items()}
        files, changed = _write(
            outputs,
            staging,
            releases.exact,
            previous,
            targets,
            report,
            fragments,
            by_key,
            bodies,
            workers,
            progress,
        )
        manifest = Manifest(
            files=files,
            published=published,
            media=sorted(media_names),
            exact=releases.exact,
            shown=shown,
        )
        media_changed = set(media_names) != set(previous.media)
        report.files = len(files)
        report.pages = sum(1 for p in files if p.endswith(".html"))
        report.feeds = sum(1 for p in files if p.startswith("feeds/"))
        if changed or media_changed or current is None or published != previous.published:
            release_id = now.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
            report.release = releases.commit(staging, manifest, release_id)
            report.deployed = True
        else:
            releases.discard(staging)
            report.release = current
    except BaseException:
        releases.discard(staging)
        raise
    report.seconds = time.perf_counter() - started
    return report


def _nothing_changed(
    outputs: list[Output],
    previous: Manifest,
    targets: Collection[str],
    media: set[str],
    published: dict[str, str],
    shown: dict[str, str],
) -> bool:
    """Whether the live release is this build already: it holds exactly its manifest's files, every
    output's key is the one that file was made from, no file of these targets lost its output, and
    the images, the first publications and the revisions shown are the same."""
    if not previous.exact or published != previous.published or shown != previous.shown:
        return False
    if media != set(previous.media):
        return False
    files = previous.files
    for out in outputs:
        old = files.get(out.path)
        if old is None or old[1] != out.key:
            return False
    claimed = {out.path for out in outputs}
    return all(path in claimed for path in files if _owner(path) in targets)


class PageTask(NamedTuple):
    """One page for a render worker. A forked worker inherits the list of tasks and is handed only
    an index: the page's context is built there (`job`, in parallel), and neither it nor the body
    crosses a pipe."""

    path: str
    job: Callable[[], tuple[str, dict[str, Any], str]]  # (template, context, render key)
    key: str  # the render key of the body fragment
    old_sha: str | None  # the bytes the previous release has at `path`
    body: str  # "" when the fragment is cached
    sources: tuple[Source, ...]
    media_ready: bool  # every derivative of `sources` is in the cache already
    lacking: bool  # the render cache lacked the fragment when the build looked


_worker: dict[str, Any] = {}


def _init_worker(fragments: FragmentCache, staging: Path, tasks: list[PageTask]) -> None:
    _worker["fragments"] = fragments
    _worker["staging"] = staging
    _worker["tasks"] = tasks


def _page_task(index: int) -> tuple[str, str, bool, str | None]:
    """Render one page (and its body fragment when not cached) and write it if its bytes changed."""
    task: PageTask = _worker["tasks"][index]
    fragments: FragmentCache = _worker["fragments"]
    fragment, fresh = fragments.render_one(task.key, task.body, task.sources, task.media_ready, task.lacking)
    template, context, _ = task.job()
    data = render_page(template, context, fragment)
    digest = hashlib.sha256(data).hexdigest()
    target: Path = _worker["staging"] / task.path
    if digest == task.old_sha and target.is_file():
        return task.path, digest, False, fresh
    write_staged(target, data, replace=task.old_sha is not None)
    return task.path, digest, True, fresh


def _run_pages(
    tasks: list[PageTask], fragments: FragmentCache, staging: Path, workers: int | None
) -> Iterator[tuple[str, str, bool, str | None]]:
    count = workers or os.cpu_count() or 1
    # Workers are forked: they start in milliseconds with the plan (every task, its context maker,
    # the bodies) inherited, and with the page template and the Markdown converter made here
    # first, not once in each of them. Where processes cannot fork, pages render in this one.
    if len(tasks) < PARALLEL_FROM or count == 1 or "fork" not in multiprocessing.get_all_start_methods():
        _init_worker(fragments, staging, tasks)
        try:
            yield from map(_page_task, range(len(tasks)))
        finally:
            _worker.clear()  # a long-running process keeps no bodies between builds
        return
    warm_up()
    chunk = max(1, min(16, len(tasks) // (count * 4)))
    with ProcessPoolExecutor(
        count,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_init_worker,
        initargs=(fragments, staging, tasks),
    ) as pool:
        yield from pool.map(_page_task, range(len(tasks)), chunksize=chunk)


class _Waiting:
    """Outputs made in the building process (feeds, indexes, the sitemap), each ready once the
    fragments it reads are at hand: they are made while the render workers work, one per page
    result, instead of after them with the other cores idle."""

    def __init__(self, outputs: list[Output], pending: set[str]) -> None:
        self.ready: deque[Output] = deque()
        self.left: dict[int, int] = {}
        self.waiters: dict[str, list[Output]] = defaultdict(list)
        for out in outputs:
            needs = {k for k in out.fragments if k in pending}
            if not needs:
                self.ready.append(out)
                continue
            self.left[id(out)] = len(needs)
            for key in needs:
                self.waiters[key].append(out)

    def arrived(self, key: str) -> None:
        for out in self.waiters.pop(key, ()):
            self.left[id(out)] -= 1
            if not self.left[id(out)]:
                self.ready.append(out)

    def rest(self) -> list[Output]:
        """Every output not yet handed out, ready or not (once nothing more can arrive)."""
        out = list(self.ready)
        self.ready.clear()
        seen = {id(o) for o in out}
        for outputs in self.waiters.values():
            for o in outputs:
                if id(o) not in seen:
                    seen.add(id(o))
                    out.append(o)
        self.waiters.clear()
        return out


# Fresh fragments are stored in batches of this many while the workers render (one transaction each).
FLUSH_EVERY = 250


def _write(
    outputs: list[Output],
    staging: Path,
    exact: bool,
    previous: Manifest,
    targets: Collection[str],
    report: BuildReport,
    fragments: FragmentCache,
    by_key: dict[str, Item],
    bodies: Callable[[list[str]], dict[str, str]],
    workers: int | None,
    progress: Progress | None,
) -> tuple[dict[str, list[str]], bool]:
    files: dict[str, list[str]] = {}
    stale: list[Output] = []
    for out in outputs:
        old = previous.files.get(out.path)
        # An exact staging folder holds every file of the previous manifest: no need to look.
        if old is not None and old[1] == out.key and (exact or (staging / out.path).is_file()):
            files[out.path] = old
            report.unchanged += 1
        else:
            stale.append(out)
    pages = [o for o in stale if o.job is not None]
    others = [o for o in stale if o.job is None]
    needed = {k for o in stale for k in o.fragments}
    missing = sorted(fragments.lacking(k for k in needed if k in by_key))
    body_of = bodies([by_key[k].revision_id for k in missing])
    missing_set = set(missing)

    def source(key: str) -> tuple[str, tuple[Source, ...]]:
        if key not in missing_set:
            return "", ()
        item = by_key[key]
        return body_of[item.revision_id], item.sources

    # One listing of the derivative cache instead of a look for each derivative of each page.
    cached_media = set(os.listdir(fragments.media_cache)) if fragments.media_cache.is_dir() else set()
    tasks: list[PageTask] = []
    for o in pages:
        assert o.job is not None and len(o.fragments) == 1, o.path  # a page shows one body
        old = previous.files.get(o.path)
        key = o.fragments[0]
        body, sources = source(key)
        ready = cached_media.issuperset(_derivative_names(sources))
        lacking = key in missing_set
        tasks.append(PageTask(o.path, o.job, key, old[0] if old else None, body, sources, ready, lacking))
    keys = {o.path: o.key for o in pages}
    tasks_key = {t.path: t.key for t in tasks}
    changed = False
    for folder in {str(Path(o.path).parent) for o in stale}:
        (staging / folder).mkdir(parents=True, exist_ok=True)
    # A fragment the pages render arrives with its page; one no page renders is made after them
    # (`ensure` below), so an output that reads it waits until then.
    waiting = _Waiting(others, missing_set)

    def emit(out: Output) -> None:
        nonlocal changed
        data = out.produce()
        digest = out.digest or hashlib.sha256(data).hexdigest()
        old = previous.files.get(out.path)
        target = staging / out.path
        if old is not None and old[0] == digest and target.is_file():
            report.unchanged += 1
        else:
            write_staged(target, data, replace=True)
            report.written.append(out.path)
            changed = True
        files[out.path] = [digest, out.key]

    for done, (path, digest, written, fresh) in enumerate(_run_pages(tasks, fragments, staging, workers), 1):
        files[path] = [digest, keys[path]]
        if fresh is not None:
            fragments.add(tasks_key[path], fresh)
            report.rendered += 1
            if len(fragments.fresh) >= FLUSH_EVERY:
                fragments.flush()
        waiting.arrived(tasks_key[path])
        if waiting.ready:
            emit(waiting.ready.popleft())
        if written:
            report.written.append(path)
            changed = True
        else:
            report.unchanged += 1
        if progress and done % 25 == 0:
            progress("render", 25, len(tasks))
    fragments.flush()
    # Feeds read fragments of items whose pages may not have been rendered in this build.
    # Every page's fragment is in the cache now, rendered or found by its worker.
    paged = set(tasks_key.values())
    report.rendered += fragments.ensure([(k, *source(k)) for k in missing if k not in paged], workers)
    for out in waiting.rest():
        emit(out)
    # Files of this build's targets that no output claims any more (a retracted article, say) go.
    for path, entry in previous.files.items():
        if path in files:
            continue
        if _owner(path) in targets:
            (staging / path).unlink(missing_ok=True)
            report.removed.append(path)
            changed = True
        else:
            files[path] = entry
    return files, changed


@functools.lru_cache(maxsize=1 << 14)
def _derivative_names(sources: tuple[Source, ...]) -> frozenset[str]:
    """The derivative files a revision's images need (remembered: revisions are immutable)."""
    return frozenset(d.name for source in sources for d in media.plan(source))


# revision id -> (its images, their derivatives' names): a build asks for every live item's, and
# hashing the images of a thousand items to look them up cost more than the rest of `_media`.
_shown: dict[str, tuple[tuple[Source, ...], frozenset[str]]] = {}


def _shown_media(item: Item) -> frozenset[str]:
    known = _shown.get(item.revision_id)
    if known is not None and (known[0] is item.sources or known[0] == item.sources):
        return known[1]
    if len(_shown) >= 1 << 15:
        _shown.clear()
    names = _derivative_names(item.sources)
    _shown[item.revision_id] = (item.sources, names)
    return names


def _media(items: list[Item], room: Newsroom, releases: Releases, fragments: FragmentCache) -> set[str]:
    """Link every derivative the live items show into the served pool, making any that are missing."""
    present = set(os.listdir(releases.media)) if releases.media.is_dir() else set()
    showing = [(item, _shown_media(item)) for item in items if item.sources]
    names: set[str] = set().union(*(shown for _, shown in showing))
    if names <= present:
        return names  # every build but the ones that put new images live
    releases.media.mkdir(parents=True, exist_ok=True)
    for item, shown in showing:
        if present.issuperset(shown):
            continue
        for source in item.sources:
            derivatives = media.plan(source)
            todo = [d for d in derivatives if d.name not in present]
            if not todo:
                continue
            if any(not (fragments.media_cache / d.name).is_file() for d in todo):
                media.ensure(source, room.blobs, fragments.media_cache)
            for d in todo:
                link_or_copy(fragments.media_cache / d.name, releases.media / d.name)
                present.add(d.name)
    return names


def build_all(
    room: Newsroom,
    gate: Gate,
    *,
    targets: Collection[str] = TARGETS,
    now: datetime | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[BuildReport]:
    """Every enabled website channel of the newsroom, each with the feeds that publish beside it."""
    sites = websites(room)
    if not sites:
        raise PublisherError("channels/ 中没有启用的网站渠道 / no enabled website channel in channels/")
    return [
        build_site(room, site, gate, now=now, targets=targets, workers=workers, progress=progress)
        for site in sites
    ]
