"""The render cache: one fragment per (revision, renderer version, media settings), rendered in parallel."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from publisher.site.deploy import write_file
from publisher.site.media import WIDTHS, Source
from publisher.site.render import RENDER_VERSION, Fragment, Picture, render_fragment
from publisher.store.blobs import BlobStore

# Below this many misses the pool costs more to start than it saves.
PARALLEL_FROM = 24


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
    blobs, media_cache, render_cache, media_url = _worker
    key, body, sources = task
    text = _to_json(render_fragment(body, list(sources), blobs, media_cache, media_url))
    write_file(render_cache / key[:2] / f"{key}.json", text.encode("utf-8"))
    return key, text


class FragmentCache:
    def __init__(self, blobs: BlobStore, media_cache: Path, render_cache: Path, media_url: str) -> None:
        self.blobs = blobs
        self.media_cache = media_cache
        self.render_cache = render_cache
        self.media_url = media_url
        self._memo: dict[str, Fragment] = {}

    def _path(self, key: str) -> Path:
        return self.render_cache / key[:2] / f"{key}.json"

    def has(self, key: str) -> bool:
        return key in self._memo or self._path(key).is_file()

    def get(self, key: str) -> Fragment:
        fragment = self._memo.get(key)
        if fragment is None:
            fragment = _from_json(self._path(key).read_text(encoding="utf-8"))
            self._memo[key] = fragment
        return fragment

    def ensure_one(self, key: str, body: str, sources: tuple[Source, ...]) -> bool:
        """Make sure one fragment is cached, in this process; True when it had to be rendered."""
        if self.has(key):
            return False
        fragment = render_fragment(body, list(sources), self.blobs, self.media_cache, self.media_url)
        write_file(self._path(key), _to_json(fragment).encode("utf-8"))
        self._memo[key] = fragment
        return True

    def ensure(
        self, tasks: Iterable[Task], workers: int | None = None, progress: Callable[[int], None] | None = None
    ) -> int:
        """Render every task not yet cached, on all cores when there are many; returns how many."""
        missing = [t for t in tasks if t[0] not in self._memo and not self._path(t[0]).is_file()]
        if not missing:
            return 0
        args = (self.blobs.root, self.media_cache, self.render_cache, self.media_url)
        count = workers or os.cpu_count() or 1
        if len(missing) < PARALLEL_FROM or count == 1:
            _init(*args)
            results: Iterable[tuple[str, str]] = map(_run, missing)
            for key, text in results:
                self._memo[key] = _from_json(text)
                if progress:
                    progress(1)
            return len(missing)
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        chunk = max(1, min(16, len(missing) // (count * 4)))
        with ProcessPoolExecutor(count, mp_context=context, initializer=_init, initargs=args) as pool:
            for key, text in pool.map(_run, missing, chunksize=chunk):
                self._memo[key] = _from_json(text)
                if progress:
                    progress(1)
        return len(missing)
