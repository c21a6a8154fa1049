"""Which articles a channel shows right now, and which revision of each: the current revision,
or the one the gate's release rule says is live (`Showing`: the last released revision while a
correction waits), if the publication gate allows it."""

from __future__ import annotations

import json
import weakref
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, NamedTuple, Protocol, runtime_checkable

from sqlalchemy import Engine, Text, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from publisher.channels.registry import Channel
from publisher.content.model import channel_refusal, wants_long_image
from publisher.errors import PublisherError
from publisher.review.gate import Gate, embargo_holds
from publisher.site.media import Source
from publisher.store.batch import in_chunks
from publisher.store.engine import read_session
from publisher.store.tables import Article, Revision, RevisionAsset


@dataclass(frozen=True, slots=True)
class Item:
    """One published article as every page and feed sees it (times in UTC)."""

    slug: str
    revision_id: str
    number: int
    title: str
    column: str
    kind: str
    department: str
    committee: str | None
    authors: tuple[str, ...]
    editor: str | None
    tags: tuple[str, ...]
    summary: str
    date: datetime
    created_at: datetime
    series: dict[str, Any] | None
    video: dict[str, Any] | None
    sources: tuple[Source, ...]
    # A long image shown with the text: True, or the template the front matter names.
    long_image: bool | str = False
    # The front matter's `consultation:` block (a draft open for comment), as the revision has it.
    consultation: dict[str, Any] | None = None

    @property
    def cover(self) -> Source | None:
        # A plain loop: read for every item on every build, where a generator costs twice as much.
        for source in self.sources:
            if source.role == "cover":
                return source
        return None


@dataclass
class Selection:
    items: list[Item] = field(default_factory=list)  # newest first
    excluded: dict[str, tuple[str, ...]] = field(default_factory=dict)  # slug -> reasons


def held_back(meta: dict[str, Any], channel: Channel, now: datetime) -> tuple[str, ...]:
    """Reasons the channel itself refuses a revision, whatever the gate says (belt and braces)."""
    reasons = []
    embargo = embargo_holds(meta, channel, now)
    if embargo is not None:
        reasons.append(embargo.reason)
    excluded = channel_refusal(meta, channel.name)
    if excluded:
        reasons.append(excluded)
    return tuple(reasons)


class RevisionRow(NamedTuple):
    """The columns of a revision a build reads, without its body (plain row, not an ORM object:
    a build reads every article's current revision, and ORM objects cost three times as much; a
    named tuple, made six times as fast as a frozen dataclass, every row of every build)."""

    id: str
    article_id: int
    number: int
    title: str
    column: str
    kind: str
    department: str
    committee: str | None
    dated_at: datetime
    created_at: datetime
    meta_json: str
    load_body: Callable[[str], str]

    @property
    def body(self) -> str:
        return self.load_body(self.id)


class Current(NamedTuple):
    slug: str
    revision: RevisionRow
    sources: tuple[Source, ...]


_ROW_COLUMNS = (
    Revision.id,
    Revision.article_id,
    Revision.number,
    Revision.title,
    Revision.column,
    Revision.kind,
    Revision.department,
    Revision.committee,
    Revision.dated_at,
    Revision.created_at,
    Revision.meta_json,
)
_REMEMBER = 1 << 15

# Revisions are immutable: a revision's columns and images, once read, are remembered for the
# process (a long-running engine rebuilds the site after every release), keyed by database and
# revision id and checked against the article id and the article's creation time as the current
# row has them (`_POINTERS`).
_known: dict[tuple[str, str], tuple[tuple[Any, ...], tuple[Source, ...], Any]] = {}

# Which revision each article shows, from the small article rows alone: the revisions' own columns
# (the date the order needs among them) come from the memory above, or are read for the few this
# process has not seen. The article's creation time tells a database made anew at the same address
# from the one a revision was remembered from; it is read as the driver gives it (compared, never
# parsed: parsing a thousand datetimes cost more than the query).
_POINTERS = (
    col(Article.slug),
    col(Article.current_revision_id),
    col(Article.id),
    type_coerce(col(Article.created_at), Text),
)


def load_current(session: Session) -> list[Current]:
    """Every article's current revision, newest first; bodies are left in the database until needed."""
    engine = session.get_bind().engine
    pointers = [
        tuple(r)
        for r in session.execute(sa_select(*_POINTERS).where(col(Article.current_revision_id).is_not(None)))
    ]
    # A rebuild after one edit makes one row: the rest are the last build's, by the same pointer.
    last = _last_rows.get(engine, {})
    shown: dict[tuple[Any, ...], Current] = {}
    unseen = []
    for pointer in pointers:
        row = last.get(pointer)
        if row is None:
            unseen.append(pointer)
        else:
            shown[pointer] = row
    if unseen:
        shown.update(_rows(session, unseen))
    _last_rows[engine] = shown
    return _newest_first(list(shown.values()))


def _newest_first(rows: list[Current]) -> list[Current]:
    """By date, newest first, and by slug among articles of one date (Python's order of strings,
    whatever the database's collation)."""
    rows.sort(key=_BY_SLUG)
    rows.sort(key=_BY_DATE, reverse=True)
    return rows


_BY_SLUG = attrgetter("slug")
_BY_DATE = attrgetter("revision.dated_at")


@runtime_checkable
class Showing(Protocol):
    """A gate that also says which revision of an article a channel shows, when it is not the
    current one (engine/release.py: the last released revision while a correction is in review
    or not yet released). A gate without it shows current revisions."""

    def shown(self, session: Session, channel: Channel, current: Mapping[int, str]) -> Mapping[int, str]: ...


def load_shown(session: Session, current: list[Current], gate: Gate, channel: Channel) -> list[Current]:
    """The rows a channel shows: `current` with the revisions the gate's release rule chose instead,
    read in one query for them all, newest first."""
    if not isinstance(gate, Showing):
        return current
    chosen = gate.shown(session, channel, {row.revision.article_id: row.revision.id for row in current})
    if not chosen:
        return current
    extra: list[tuple[Any, ...]] = []
    for chunk in in_chunks(set(chosen.values())):
        extra.extend(
            tuple(r)
            for r in session.execute(
                sa_select(col(Article.slug), col(Revision.id), *_POINTERS[2:])
                .join(Article, col(Article.id) == col(Revision.article_id))
                .where(col(Revision.id).in_(chunk))
            )
        )
    replaced = list(_rows(session, extra).values())
    return _newest_first([row for row in current if row.revision.article_id not in chosen] + replaced)


def _rows(session: Session, order: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Current]:
    """(slug, revision id, article id, the article's creation time) -> its row, in that order,
    reading only revisions this process has not read before. A pointer at no revision has none
    (as a join would drop it)."""
    engine = session.get_bind().engine
    load_body = _body_reader(engine)
    database = str(engine.url)
    here: dict[str, tuple[tuple[Any, ...], tuple[Source, ...]]] = {}
    born: dict[str, Any] = {}
    unknown = []
    for _, rid, article_id, article_created in order:
        known = _known.get((database, rid))
        # The same text ingested into a database made anew at the same address is another row.
        if known is None or known[0][1] != article_id or known[2] != article_created:
            unknown.append(rid)
            born[rid] = article_created
        else:
            here[rid] = known[:2]
    fields: dict[str, tuple[Any, ...]] = {}
    assets: dict[str, list[Source]] = defaultdict(list)
    for chunk in in_chunks(unknown):
        for row in session.execute(
            sa_select(*(col(c) for c in _ROW_COLUMNS)).where(col(Revision.id).in_(chunk))
        ):
            fields[row[0]] = tuple(row)
        # Plain rows, not ORM objects: thousands of images, read-only.
        for rid, ref, role, sha, width, height, fmt in session.execute(
            sa_select(
                col(RevisionAsset.revision_id),
                col(RevisionAsset.ref),
                col(RevisionAsset.role),
                col(RevisionAsset.sha256),
                col(RevisionAsset.width),
                col(RevisionAsset.height),
                col(RevisionAsset.format),
            )
            .where(col(RevisionAsset.revision_id).in_(chunk))
            .order_by(col(RevisionAsset.revision_id), col(RevisionAsset.position))
        ):
            assets[rid].append(Source(ref, role, sha, width, height, fmt))
    if len(_known) + len(fields) > _REMEMBER:
        _known.clear()
    for rid, values in fields.items():
        here[rid] = (values, tuple(assets.get(rid, ())))
        _known[(database, rid)] = (*here[rid], born[rid])
    out: dict[tuple[Any, ...], Current] = {}
    for pointer in order:
        found = here.get(pointer[1])
        if found is not None:
            r, sources = found
            out[pointer] = Current(pointer[0], RevisionRow._make((*r, load_body)), sources)
    return out


def _body_reader(engine: Engine) -> Callable[[str], str]:
    """Reads a revision's body through a session of its own when a row's body is asked for: rows
    outlive the build that read them (`_last_rows`), and a revision's body never changes. The
    engine is held weakly, so a remembered row keeps no closed newsroom's engine alive."""
    reader = _readers.get(engine)
    if reader is None:
        held = weakref.ref(engine)

        def reader(revision_id: str) -> str:
            alive = held()
            if alive is None:
                raise PublisherError("数据库已关闭 / the database this row came from is closed")
            with read_session(alive) as session:
                return session.exec(select(Revision.body).where(col(Revision.id) == revision_id)).one()

        _readers[engine] = reader
    return reader


# Per engine (held weakly): the rows of its last build by pointer, and its body reader.
_last_rows: weakref.WeakKeyDictionary[Engine, dict[tuple[Any, ...], Current]] = weakref.WeakKeyDictionary()
_readers: weakref.WeakKeyDictionary[Engine, Callable[[str], str]] = weakref.WeakKeyDictionary()


# Revisions are immutable: what one parses to (its front matter, its Item) is remembered across
# builds of a long-running process, bounded. Never mutated by their readers.
_metas: dict[str, dict[str, Any]] = {}
_items: dict[tuple[str, str], Item] = {}


def _meta_of(revision: RevisionRow) -> dict[str, Any]:
    meta = _metas.get(revision.id)
    if meta is None:
        if len(_metas) >= _REMEMBER:
            _metas.clear()
        meta = _metas[revision.id] = json.loads(revision.meta_json)
    return meta


def select_items(
    session: Session,
    current: list[Current],
    channel: Channel,
    gate: Gate,
    now: datetime,
    metas: dict[str, dict[str, Any]] | None = None,
    made: dict[str, Item] | None = None,
) -> Selection:
    """`metas` (revision id -> parsed front matter) and `made` (revision id -> its Item) may be
    shared by the selections of one build. A retracted article is left out by the gate (it reads
    the `Retraction` rows), on every channel at once."""
    chosen = Selection()
    metas = {} if metas is None else metas
    made = {} if made is None else made
    for row in current:
        revision = row.revision
        meta = metas.get(revision.id)
        if meta is None:
            meta = metas[revision.id] = _meta_of(revision)
        reasons = held_back(meta, channel, now)
        if not reasons:
            decision = gate(session, revision, channel, now)
            if not decision.allowed:
                reasons = decision.reasons or ("not allowed by the publication gate",)
        if reasons:
            chosen.excluded[row.slug] = reasons
            continue
        item = made.get(revision.id)
        if item is None:
            item = made[revision.id] = _item(row, meta)
        chosen.items.append(item)
    return chosen


def _item(row: Current, meta: dict[str, Any]) -> Item:
    revision = row.revision
    remembered = _items.get((revision.id, row.slug))
    if remembered is not None and remembered.sources == row.sources:
        return remembered
    if len(_items) >= _REMEMBER:
        _items.clear()
    item = _items[(revision.id, row.slug)] = Item(
        slug=row.slug,
        revision_id=revision.id,
        number=revision.number,
        title=revision.title,
        column=revision.column,
        kind=revision.kind,
        department=revision.department,
        committee=revision.committee,
        authors=tuple(meta.get("authors", ())),
        editor=meta.get("editor"),
        tags=tuple(meta.get("tags", ())),
        summary=meta.get("summary", ""),
        date=revision.dated_at.astimezone(UTC),
        created_at=revision.created_at.astimezone(UTC),
        series=meta.get("series"),
        video=meta.get("video"),
        sources=row.sources,
        long_image=(meta.get("long_image") or True) if wants_long_image(meta) else False,
        consultation=meta.get("consultation"),
    )
    return item
