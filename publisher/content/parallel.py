"""Load many article files at once, across the machine's cores when there are enough of them.

Loading (YAML, validation, decoding and hashing images, writing their blobs) is nearly all of a
first ingest's CPU time, and one file's load needs nothing from another's. From `PARALLEL_FROM`
files on, forked workers (one per core) load chunks of files while the caller waits; each result
comes back as plain values (`ArticleRecord`, or the file's problems) and in path order, so the
report reads exactly as a load in one process would. The workers only read files and add blobs
(written aside and renamed, so two writers of one blob agree); the store stays the caller's.

Each worker has its own image cache: an image used by articles of two workers is hashed twice,
which costs less than sharing a cache between processes.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Generator, Sequence
from pathlib import Path

from publisher.content.assets import prepare_decoder
from publisher.content.loader import LoadContext, LoadedArticle, load_article
from publisher.content.record import ArticleRecord
from publisher.errors import Problem

Loaded = ArticleRecord | list[Problem]

# Below this many files a serial load is done before a pool of workers has started.
PARALLEL_FROM = 200
# Files per task: large enough that sending a task costs little beside loading it, small enough
# that the workers end together and progress moves.
CHUNK = 32

_context: LoadContext | None = None  # the worker's, inherited from the parent by fork


def load_one(path: Path, ctx: LoadContext) -> Loaded:
    result = load_article(path, ctx)
    return result.record() if isinstance(result, LoadedArticle) else result


def workers() -> int:
    """Worker processes to use: one per core this process may run on, none where fork is missing."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores if cores > 1 else 0


def load_many(
    paths: Sequence[Path], ctx: LoadContext, progress: Callable[[int], None] | None = None
) -> Generator[Loaded, None, None]:
    """Each file's record or problems, in the order of `paths`."""
    count = workers()
    if count == 0 or len(paths) < PARALLEL_FROM:
        for path in paths:
            yield load_one(path, ctx)
            if progress:
                progress(1)
        return
    chunks = [list(paths[start : start + CHUNK]) for start in range(0, len(paths), CHUNK)]
    prepare_decoder()
    # Objects that exist at the fork are left out of the workers' garbage collection, so it does
    # not touch (and copy) every page the parent had.
    gc.freeze()
    try:
        pool = multiprocessing.get_context("fork").Pool(count, initializer=_adopt, initargs=(ctx,))
    finally:
        gc.unfreeze()
    with pool:
        for results in pool.imap(_load_chunk, chunks):
            yield from results
            if progress:
                progress(len(results))
        pool.close()
        pool.join()


def _adopt(ctx: LoadContext) -> None:
    global _context
    _context = ctx
    # A thread of the parent (a progress bar's) may have held the lock of stdout or stderr when
    # this process was forked: a warning written through it would wait for ever. Fresh streams
    # on the same descriptors have their own locks.
    with contextlib.suppress(OSError):  # a descriptor the parent had closed stays as it was
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115


def _load_chunk(paths: list[Path]) -> list[Loaded]:
    assert _context is not None, "a worker starts with the parent's load context"
    return [load_one(path, _context) for path in paths]
