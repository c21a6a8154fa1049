"""Near-duplicate grouping of comments (a mass campaign is one group with a count).

Identical after normalisation (Unicode folding, no spaces or punctuation, lower case) -> the same
`fingerprint`. Nearly identical (small edits) -> the same `group_id`: each text is reduced to a
bottom-k sketch of its character 3-gram hashes (crc32, in C), an inverted index from sketch values
to recent comments finds candidates that share any (at most `PER_VALUE` per value, the newest),
and the sketches estimate the Jaccard similarity of the 3-gram sets of the best few. The index holds the newest `CAPACITY` comments of each
consultation, refreshed from the store by id, so it costs one small query and no full scan.
Grouping is a help to staff, not a promise: two near-duplicates committed at the same instant by
two processes may start two groups, which staff may merge.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field

from publisher.review.normalize import fold

SKETCH = 32  # bottom-k size
SIMILAR = 0.6  # estimated Jaccard of 3-gram sets from which two comments are one group
CAPACITY = 5000  # comments per consultation the index remembers
# Of the comments sharing one sketch value, only the newest this many are candidates: a value common
# to thousands (a campaign's, a phrase every comment uses) costs no more than a rare one, and a
# campaign's newest members are enough to find it.
PER_VALUE = 24


def normalise(text: str) -> str:
    return "".join(c for c in fold(text).lower() if c.isalnum())


def fingerprint(text: str) -> str:
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def sketch(text: str) -> tuple[int, ...]:
    norm = normalise(text)
    if len(norm) < 3:
        return (zlib.crc32(norm.encode()),)
    grams = {zlib.crc32(norm[i : i + 3].encode()) for i in range(len(norm) - 2)}
    return tuple(sorted(heapq.nsmallest(SKETCH, grams)))


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of the two sets the sketches were taken from."""
    union = sorted(set(a).union(b))[:SKETCH]
    if not union:
        return 0.0
    both = set(a).intersection(b)
    return sum(1 for v in union if v in both) / len(union)


@dataclass
class _Slug:
    last_id: int = 0
    by_fingerprint: dict[str, int] = field(default_factory=dict)  # fingerprint -> group
    sketches: OrderedDict[int, tuple[tuple[int, ...], int]] = field(default_factory=OrderedDict)
    # sketch value -> comment ids, oldest first (a dict keeps the order; values unused)
    postings: dict[int, dict[int, None]] = field(default_factory=dict)


class GroupIndex:
    """Per consultation, the recent comments' groups; thread-safe (one per `publisher serve`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slugs: dict[str, _Slug] = {}

    def last_id(self, slug: str) -> int:
        with self._lock:
            entry = self._slugs.get(slug)
            return entry.last_id if entry else 0

    def forget(self, slug: str) -> None:
        """Drop what the index knows of a consultation: the next refresh reads it from the store."""
        with self._lock:
            self._slugs.pop(slug, None)

    def add(self, slug: str, comment_id: int, group_id: int, fp: str, sk: tuple[int, ...]) -> None:
        with self._lock:
            entry = self._slugs.setdefault(slug, _Slug())
            entry.last_id = max(entry.last_id, comment_id)
            entry.by_fingerprint.setdefault(fp, group_id)
            if comment_id in entry.sketches:
                return
            entry.sketches[comment_id] = (sk, group_id)
            for value in sk:
                entry.postings.setdefault(value, {})[comment_id] = None
            while len(entry.sketches) > CAPACITY:
                old, (old_sk, _) = entry.sketches.popitem(last=False)
                for value in old_sk:
                    ids = entry.postings.get(value)
                    if ids is not None:
                        ids.pop(old, None)
                        if not ids:
                            del entry.postings[value]

    def group_of(self, slug: str, fp: str, sk: tuple[int, ...]) -> int | None:
        """The group an incoming comment joins, or None: it starts its own."""
        with self._lock:
            entry = self._slugs.get(slug)
            if entry is None:
                return None
            same = entry.by_fingerprint.get(fp)
            if same is not None:
                return same
            counts: dict[int, int] = {}
            for value in sk:
                ids = entry.postings.get(value)
                if ids:
                    for cid in itertools.islice(reversed(ids), PER_VALUE):
                        counts[cid] = counts.get(cid, 0) + 1
            # Candidates sharing the most sketch values first; a handful is enough.
            best: tuple[float, int] | None = None
            for cid, _ in heapq.nlargest(4, counts.items(), key=lambda kv: kv[1]):
                other, group = entry.sketches[cid]
                score = similarity(sk, other)
                if score >= SIMILAR and (best is None or score > best[0]):
                    best = (score, group)
            return best[1] if best else None
