"""Blobs: put once under their hash, whole or not at all, whatever happened to their folder."""

from __future__ import annotations

import hashlib
import itertools
import shutil
from pathlib import Path

from publisher.store.blobs import BlobStore


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_blob_is_kept_under_its_hash_once_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    data = b"\x89PNG image bytes"
    sha = _sha(data)
    assert blobs.put(sha, data) == blobs.path(sha) == tmp_path / "blobs" / sha[:2] / sha
    assert blobs.has(sha) and blobs.get(sha) == data
    mtime = blobs.path(sha).stat().st_mtime_ns
    assert blobs.put(sha, data) == blobs.path(sha)  # already there: not written again
    assert blobs.path(sha).stat().st_mtime_ns == mtime
    assert [p.name for p in blobs.path(sha).parent.iterdir()] == [sha]


def test_a_folder_removed_after_the_store_made_it_is_made_again(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    first = b"first"
    blobs.put(_sha(first), first)
    shutil.rmtree(tmp_path / "blobs")  # e.g. var/ cleared while a long-lived process runs
    # Bytes whose blob goes into the folder this store remembers having made for the first one.
    neighbour = next(
        data for data in (str(n).encode() for n in itertools.count()) if _sha(data)[:2] == _sha(first)[:2]
    )
    blobs.put(_sha(neighbour), neighbour)
    assert blobs.get(_sha(neighbour)) == neighbour
    assert [p.name for p in blobs.path(_sha(neighbour)).parent.iterdir()] == [_sha(neighbour)]
