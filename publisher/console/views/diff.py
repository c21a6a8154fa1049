"""Two revisions of an article side by side: front matter field by field, the body line by line
with the changed characters marked inside changed lines (difflib).

Rows of plain text segments, never HTML: the template escapes every segment and marks the changed
ones, so a revision's own markup stays text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from publisher.errors import NotFound
from publisher.store.tables import Article, ReviewAct, Revision


class Op(StrEnum):
    EQUAL = "equal"
    CHANGE = "change"  # a line on each side, with the characters that differ marked
    INSERT = "insert"  # only on the right
    DELETE = "delete"  # only on the left


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    changed: bool


@dataclass(frozen=True, slots=True)
class DiffRow:
    op: Op
    left_no: int | None  # 1-based line number, None where the side has no line
    left: tuple[Segment, ...]
    right_no: int | None
    right: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class FieldDiff:
    name: str  # the front matter key
    op: Op
    left: tuple[Segment, ...]
    right: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class Side:
    number: int
    revision_id: str
    title: str


@dataclass(frozen=True, slots=True)
class RevisionDiff:
    slug: str
    left: Side
    right: Side
    fields: tuple[FieldDiff, ...]  # every field of either side, in the order of the right's
    body: tuple[DiffRow, ...]

    @property
    def changed(self) -> bool:
        return any(f.op is not Op.EQUAL for f in self.fields) or any(r.op is not Op.EQUAL for r in self.body)


@dataclass(frozen=True, slots=True)
class RevisionPair:
    left: int  # revision numbers; equal when the article has one revision
    right: int


def _whole(text: str, changed: bool) -> tuple[Segment, ...]:
    return (Segment(text, changed),) if text else ()


def intraline(left: str, right: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Both texts cut into segments, the characters that differ marked (CJK has no words to split)."""
    matcher = SequenceMatcher(None, left, right, autojunk=False)
    ours: list[Segment] = []
    theirs: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        changed = tag != "equal"
        if i2 > i1:
            ours.append(Segment(left[i1:i2], changed))
        if j2 > j1:
            theirs.append(Segment(right[j1:j2], changed))
    return _merged(ours), _merged(theirs)


def _merged(segments: list[Segment]) -> tuple[Segment, ...]:
    """Neighbours of the same kind as one segment (an insertion on the right splits nothing on the left)."""
    out: list[Segment] = []
    for segment in segments:
        if out and out[-1].changed == segment.changed:
            out[-1] = Segment(out[-1].text + segment.text, segment.changed)
        else:
            out.append(segment)
    return tuple(out)


def side_by_side(left: list[str], right: list[str]) -> tuple[DiffRow, ...]:
    """Rows of a two-column diff: changed lines paired in order, the rest as inserts or deletes."""
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, left, right, autojunk=False).get_opcodes():
        if tag == "equal":
            rows.extend(
                DiffRow(Op.EQUAL, i + 1, _whole(left[i], False), j + 1, _whole(right[j], False))
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            ours, theirs = intraline(left[i1 + k], right[j1 + k])
            rows.append(DiffRow(Op.CHANGE, i1 + k + 1, ours, j1 + k + 1, theirs))
        rows.extend(
            DiffRow(Op.DELETE, i + 1, _whole(left[i], True), None, ()) for i in range(i1 + paired, i2)
        )
        rows.extend(
            DiffRow(Op.INSERT, None, (), j + 1, _whole(right[j], True)) for j in range(j1 + paired, j2)
        )
    return tuple(rows)


def shown(value: Any) -> str:
    """A front matter value as one line of text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "、".join(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def field_diffs(left: dict[str, Any], right: dict[str, Any]) -> tuple[FieldDiff, ...]:
    out: list[FieldDiff] = []
    for name in [*right, *(k for k in left if k not in right)]:
        a = shown(left[name]) if name in left else None
        b = shown(right[name]) if name in right else None
        if a == b:
            out.append(FieldDiff(name, Op.EQUAL, _whole(a or "", False), _whole(b or "", False)))
        elif a is None:
            out.append(FieldDiff(name, Op.INSERT, (), _whole(b or "", True)))
        elif b is None:
            out.append(FieldDiff(name, Op.DELETE, _whole(a, True), ()))
        else:
            ours, theirs = intraline(a, b)
            out.append(FieldDiff(name, Op.CHANGE, ours, theirs))
    return tuple(out)


def _article(session: Session, slug: str) -> Article:
    article = session.exec(select(Article).where(Article.slug == slug)).first()
    if article is None or article.current_revision_id is None:
        raise NotFound(f"没有这篇稿件 / no article with slug {slug!r}")
    return article


def diff_revisions(session: Session, slug: str, left: int, right: int) -> RevisionDiff:
    """Revision `left` against revision `right` (numbers) of one article: two queries."""
    article = _article(session, slug)
    found = {
        r.number: r
        for r in session.exec(
            select(Revision).where(Revision.article_id == article.id, col(Revision.number).in_([left, right]))
        )
    }
    for number in (left, right):
        if number not in found:
            raise NotFound(f"稿件 {slug} 没有第 {number} 版 / article {slug!r} has no revision {number}")
    a, b = found[left], found[right]
    return RevisionDiff(
        slug,
        Side(a.number, a.id, a.title),
        Side(b.number, b.id, b.title),
        field_diffs(json.loads(a.meta_json), json.loads(b.meta_json)),
        side_by_side(a.body.split("\n"), b.body.split("\n")),
    )


def default_pair(session: Session, slug: str, username: str) -> RevisionPair:
    """What a reviewer wants to see: the last revision they acted on against the current one, or
    else the previous revision against the current one (two queries)."""
    article = _article(session, slug)
    rows = session.exec(select(Revision.id, Revision.number).where(Revision.article_id == article.id)).all()
    numbers = {revision_id: number for revision_id, number in rows}
    current = numbers[article.current_revision_id or ""]
    acted = session.exec(
        select(ReviewAct.revision_id)
        .where(ReviewAct.article_id == article.id, ReviewAct.username == username)
        .order_by(col(ReviewAct.id).desc())
        .limit(1)
    ).first()
    if acted is not None and numbers.get(acted, current) != current:
        return RevisionPair(numbers[acted], current)
    earlier = [n for n in numbers.values() if n < current]
    return RevisionPair(max(earlier) if earlier else current, current)
