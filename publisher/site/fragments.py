"""The render cache: one fragment per (revision, renderer version, media settings), rendered in parallel."""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from publisher.site.media import WIDTHS, Source
from publisher.site.render import RENDER_VERSION, Fragment, Picture, render_fragment
from publisher.store.batch import in_chunks
from publisher.store.blobs import BlobStore

# Below this many misses the pool costs more to start than it saves.
PARALLEL_FROM = 24


@functools.lru_cache(maxsize=1 << 16)
def render_key(revision_id: str, media_url: str) -> str:
    payload = f"{RENDER_VERSION}\0{revision_id}\0{media_url}\0{WIDTHS}"
    return hashlib.sha256(payload.encode()).hexdigest()


def _to_json(fragment: Fragment) -> str:
    cover = fragment.cover
    return json.dumps(
        {
            "html": fragment.html,
            "toc": fragment.toc,
            "media": list(fragment.media),
            "cover": None if cover is None else [cover.src, cover.width, cover.height, cover.srcset],
        },
        ensure_ascii=False,
    )


def _from_json(text: str) -> Fragment:
    data: dict[str, Any] = json.loads(text)
    cover = data["cover"]
    return Fragment(
        html=data["html"],
        toc=data["toc"],
        media=tuple(data["media"]),
        cover=None if cover is None else Picture(cover[0], int(cover[1]), int(cover[2]), cover[3]),
    )


Task = tuple[str, str, tuple[Source, ...]]  # (render key, body, images)
_worker: tuple[BlobStore, Path, Path, str] | None = None


def _init(blobs_root: Path, media_cache: Path, render_cache: Path, media_url: str) -> None:
    global _worker
    _worker = (BlobStore(blobs_root), media_cache, render_cache, media_url)


def _run(task: Task) -> tuple[str, str]:
    assert _worker is not None
    blobs, media_cache, _, media_url = _worker
    key, body, sources = task
    return key, _to_json(render_fragment(body, list(sources), blobs, media_cache, media_url))


class _PerThread(threading.local):
    """Connections per thread and process, by cache file, kept from build to build: sqlite3 refuses
    a connection made on another thread (a long-running worker performs its rounds on a pool), and a
    connection must not cross a fork."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.by_file: dict[Path, sqlite3.Connection] = {}


_connections = _PerThread()
_inherited: list[dict[Path, sqlite3.Connection]] = []


class FragmentCache:
    """Fragments by render key, in one SQLite file: thousands of small entries, one commit per build.

    Any process may read; new fragments are kept in memory (`fresh`) and written by `flush`, which
    the building process calls, so worker processes never contend for the write lock.
    """

    def __init__(self, blobs: BlobStore, media_cache: Path, render_cache: Path, media_url: str) -> None:
        self.blobs = blobs
        self.media_cache = media_cache
        self.render_cache = render_cache
        self.media_url = media_url
        self._memo: dict[str, Fragment] = {}
        self.fresh: dict[str, str] = {}

    def _conn(self) -> sqlite3.Connection:
        local = _connections
        if local.pid != os.getpid():
            # A forked child: the parent's connections stay the parent's (kept, never used here).
            _inherited.append(local.by_file)
            local.by_file, local.pid = {}, os.getpid()
        file = self.render_cache / "fragments.db"
        db = local.by_file.get(file)
        if db is None or not file.is_file():
            self.render_cache.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(file, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            # A cache: a commit need not reach the disk before the build goes on (what a crash
            # loses is rendered again); the database stays whole either way in WAL mode.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS fragment (key TEXT PRIMARY KEY, data TEXT NOT NULL)")
            local.by_file[file] = db
        return db

    def _load(self, key: str) -> str | None:
        row = self._conn().execute("SELECT data FROM fragment WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def known(self) -> set[str]:
        return {str(k) for (k,) in self._conn().execute("SELECT key FROM fragment")}

    def has(self, key: str) -> bool:
        return key in self._memo or key in self.fresh or self._load(key) is not None

    def lacking(self, keys: Iterable[str]) -> set[str]:
        """The keys among `keys` that no fragment is cached under, asked in a few queries."""
        left = {k for k in keys if k not in self._memo and k not in self.fresh}
        db = self._conn()
        for chunk in in_chunks(left):
            marks = ",".join("?" * len(chunk))
            left.difference_update(
                k for (k,) in db.execute(f"SELECT key FROM fragment WHERE key IN ({marks})", chunk)
            )
        return left

    def get(self, key: str) -> Fragment:
        fragment = self._memo.get(key)
        if fragment is None:
            text = self.fresh.get(key) or self._load(key)
            if text is None:
                raise KeyError(key)
            fragment = _from_json(text)
            self._memo[key] = fragment
        return fragment

    def add(self, key: str, text: str) -> None:
        # Parsed when first read: a full build reads back only the few dozen the feeds carry.
        self.fresh[key] = text

    def flush(self) -> None:
        if self.fresh:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO fragment (key, data) VALUES (?, ?)", self.fresh.items())
            db.execute("COMMIT")
            self.fresh.clear()

    def render_one(
        self,
        key: str,
        body: str,
        sources: tuple[Source, ...],
        media_ready: bool = False,
        lacking: bool = False,
    ) -> tuple[Fragment, str | None]:
        """The fragment, rendered here when not cached; the JSON is returned when it is new
        (`lacking`: the caller has just seen the cache lack it, so it is not looked up again)."""
        fragment = self._memo.get(key)
        if fragment is not None:
            return fragment, None
        if not lacking and self._load(key) is not None:
            return self.get(key), None
        fragment = render_fragment(
            body, list(sources), self.blobs, self.media_cache, self.media_url, media_ready
        )
        self._memo[key] = fragment
        return fragment, _to_json(fragment)

    def ensure(
        self, tasks: Iterable[Task], workers: int | None = None, progress: Callable[[int], None] | None = None
    ) -> int:
        """Render every task not yet cached, on all cores when there are many; returns how many."""
        tasks = list(tasks)
        lacking = self.lacking(t[0] for t in tasks)
        missing = [t for t in tasks if t[0] in lacking]
        if not missing:
            return 0
        args = (self.blobs.root, self.media_cache, self.render_cache, self.media_url)
        count = workers or os.cpu_count() or 1
        if len(missing) < PARALLEL_FROM or count == 1:
            _init(*args)
            results: Iterable[tuple[str, str]] = map(_run, missing)
            for key, text in results:
                self.add(key, text)
                if progress:
                    progress(1)
            self.flush()
            return len(missing)
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        chunk = max(1, min(16, len(missing) // (count * 4)))
        with ProcessPoolExecutor(count, mp_context=context, initializer=_init, initargs=args) as pool:
            for key, text in pool.map(_run, missing, chunksize=chunk):
                self.add(key, text)
                if progress:
                    progress(1)
        self.flush()
        return len(missing)
