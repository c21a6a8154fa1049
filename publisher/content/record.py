"""What ingest stores of one loaded article, as plain values.

A `LoadedArticle` carries its validated model and frozen dataclasses, which is what checks and
tests read. The store needs only the canonical snapshot, and a record of plain named tuples is
cheap to build and to send back from a loading process: pickling the model and the dataclasses
cost the parent more than a tenth of loading the file itself. What the writer would encode
for every article is encoded here, beside the loading.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from publisher.content.revision import canonical_json


class StoredAsset(NamedTuple):
    """One image of a revision: the reference as written and the file it resolved to."""

    ref: str
    role: str
    path: str  # newsroom-relative, POSIX
    sha256: str
    size: int
    width: int
    height: int
    format: str
    mtime_ns: int


class ArticleRecord(NamedTuple):
    source: str  # newsroom-relative path of the .md file
    source_sha256: str  # of the raw bytes, for the unchanged fast path
    source_stat: tuple[int, int]  # (size, mtime_ns) taken before the bytes were read
    slug: str
    slug_line: int | None
    revision_id: str
    dated_at: datetime
    meta: dict[str, Any]  # canonical front matter, as the revision hashes it
    body: str  # normalised
    assets: tuple[StoredAsset, ...]
    # Encoded where the article is loaded (in a worker, see parallel.py), not by the one writer.
    meta_json: str  # canonical_json(meta)
    assets_json: str  # asset_stamps(assets)


def asset_stamps(assets: Iterable[StoredAsset]) -> str:
    """The images' (path, size, mtime_ns, sha256) as the unchanged fast path compares them."""
    return canonical_json(sorted({(a.path, a.size, a.mtime_ns, a.sha256) for a in assets}))
