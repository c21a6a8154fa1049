"""What ingest stores of one loaded article, as plain values.

A `LoadedArticle` carries its validated model and frozen dataclasses, which is what checks and
tests read. The store needs only the canonical snapshot's text and the few fields the revision
row keeps in columns; a record of plain named tuples is cheap to build and to send back from a
loading process (content/parallel.py). What crosses is what the writer uses, once: the canonical
meta as its JSON text (not the dict as well), the date as ISO text (pickling an aware datetime
cost more than the rest of the record), the images as the loader's own `AssetUse` tuples.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from publisher.content.assets import AssetUse
from publisher.content.revision import canonical_json


class RevisionColumns(NamedTuple):
    """The front matter fields a revision row keeps in columns of their own."""

    title: str
    column: str  # the column's key
    kind: str
    department: str
    committee: str | None
    sensitive: bool


class ArticleRecord(NamedTuple):
    source: str  # newsroom-relative path of the .md file
    source_sha256: str  # of the raw bytes, for the unchanged fast path
    source_stat: tuple[int, int]  # (size, mtime_ns) taken before the bytes were read
    slug: str
    slug_line: int | None
    revision_id: str
    dated_at: str  # the front matter's date, `datetime.isoformat()`: its instant and offset
    columns: RevisionColumns
    body: str  # normalised
    assets: tuple[AssetUse, ...]
    # Encoded where the article is loaded (in a worker, see parallel.py), not by the one writer.
    meta_json: str  # canonical_json of the canonical front matter, as the revision hashes it
    assets_json: str  # asset_stamps(assets)


def asset_stamps(assets: Iterable[AssetUse]) -> str:
    """The images' (path, size, mtime_ns, sha256) as the unchanged fast path compares them."""
    return canonical_json(
        sorted({(u.asset.path, u.asset.size, u.asset.mtime_ns, u.asset.sha256) for u in assets})
    )
