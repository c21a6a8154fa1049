"""稿件 list: the articles with filters, newest change first, a page at a time, each with its state.

A fixed number of queries per page: filters the database can answer are SQL; state and stage come
from `standing.standings_in` over the filtered set as a subquery (aggregated by the database), so a
list of ten thousand articles costs what a list of ten does, in queries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_
from sqlalchemy import select as sql_select
from sqlmodel import Session, col

from publisher.console.views.common import Page, page_request
from publisher.review.users import bylines_of, get_user
from publisher.review.workflow import is_author
from publisher.standing import ArticleState, Standing, could_be, standings_in
from publisher.store.tables import Article, ReviewState, Revision


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    column: str | None = None  # the column's key
    department: str | None = None
    state: ArticleState | None = None
    stage: str | None = None  # the name of the stage the current revision waits at
    author: str | None = None  # a username: articles whose byline is this person
    text: str | None = None  # in the title or the slug

    def narrows_after_sql(self) -> bool:
        return self.state is not None or self.stage is not None or self.author is not None


@dataclass(frozen=True, slots=True)
class ArticleRow:
    slug: str
    title: str
    column: str
    department: str
    authors: tuple[str, ...]
    number: int  # the current revision's number
    revision_id: str
    changed_at: datetime  # UTC; the template shows it in the newsroom's time
    state: ArticleState
    stage: str | None  # the stage its review waits at
    label: str  # the state in one line, both languages


@dataclass(frozen=True, slots=True)
class ArticleList:
    rows: tuple[ArticleRow, ...]
    page: Page
    filters: ArticleFilter


def _filtered(filters: ArticleFilter, author_name: str | None, dialect: str) -> Select[int | None]:
    text = filters.text.strip() if filters.text else ""
    query = sql_select(col(Article.id))
    if filters.column or filters.department or text or author_name is not None:
        query = query.join(Revision, col(Revision.id) == col(Article.current_revision_id))
    else:
        # No revision column asked: the article rows alone, not a revision (with its body) each.
        query = query.where(col(Article.current_revision_id).is_not(None))
    if filters.column:
        query = query.where(col(Revision.column) == filters.column)
    if filters.department:
        query = query.where(col(Revision.department) == filters.department)
    if text:
        needle = text
        query = query.where(
            or_(
                col(Revision.title).contains(needle, autoescape=True),
                func.lower(col(Article.slug)).contains(needle.lower(), autoescape=True),
            )
        )
    if filters.stage:
        # Narrowed here, decided by the standing: only a waiting review names a stage.
        query = query.join(
            ReviewState, col(ReviewState.revision_id) == col(Article.current_revision_id)
        ).where(col(ReviewState.status) == "in_review", col(ReviewState.plan_json).contains(filters.stage))
    if filters.state is not None:
        query = query.where(could_be(filters.state, dialect))  # narrowed here, decided by the standing
    if author_name is not None:
        # Narrowed by the name's characters in order, anything between them (a byline may be
        # written 王 晓明); `is_author` decides (bylines are compared by identity).
        pattern = "%".join(_escaped(ch) for ch in author_name if not ch.isspace())
        query = query.where(col(Revision.meta_json).like(f"%{pattern}%", escape="\\"))
    return query


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ordered(query: Select[int | None]) -> Select[int | None]:
    return query.order_by(col(Article.updated_at).desc(), col(Article.slug))


def article_list(
    session: Session, filters: ArticleFilter = ArticleFilter(), page: int = 1, size: int = 50
) -> ArticleList:
    """One page of the list: 3 queries without state, stage or author filters, 5 with any (+1 for
    the author's account), whatever the number of articles."""
    page, size = page_request(page, size)
    user = get_user(session, filters.author) if filters.author else None
    scope = _filtered(filters, user.display_name if user else None, session.get_bind().dialect.name)
    known: dict[int, Standing] | None = None
    if not filters.narrows_after_sql():
        total = session.execute(sql_select(func.count()).select_from(scope.subquery())).scalar_one()
        ids = list(session.execute(_ordered(scope).limit(size).offset((page - 1) * size)).scalars())
    else:
        # The scope once, in order; its ids then go to the standings as constants, so the
        # database does not work the filters out again for each of the standings' queries.
        if user is None:
            candidates = list(session.execute(_ordered(scope)).scalars())
        else:
            candidates = [
                article_id
                for article_id, meta_json in session.execute(
                    _ordered(scope.add_columns(col(Revision.meta_json)))
                )
                if is_author(user, json.loads(meta_json))
            ]
        known = standings_in(session, [i for i in candidates if i is not None])
        ordered = [
            article_id
            for article_id in candidates
            if article_id is not None
            and (filters.state is None or known[article_id].state is filters.state)
            and (filters.stage is None or known[article_id].stage == filters.stage)
        ]
        total = len(ordered)
        ids = ordered[(page - 1) * size : page * size]
    rows = _rows(session, ids, known)
    return ArticleList(tuple(rows), Page(page, size, total), filters)


def _rows(session: Session, ids: list[int], known: dict[int, Standing] | None) -> list[ArticleRow]:
    # An empty page asks too: the count of queries does not depend on what the filters found.
    states = known if known is not None else standings_in(session, ids)
    found = {
        row[0]: row
        for row in session.execute(
            sql_select(
                col(Article.id),
                col(Article.slug),
                col(Article.updated_at),
                col(Revision.title),
                col(Revision.column),
                col(Revision.department),
                col(Revision.number),
                col(Revision.id),
                col(Revision.meta_json),
            )
            .join(Revision, col(Revision.id) == col(Article.current_revision_id))
            .where(col(Article.id).in_(ids))
        )
    }
    rows: list[ArticleRow] = []
    for article_id in ids:
        _id, slug, changed_at, title, column, department, number, revision_id, meta_json = found[article_id]
        standing = states[article_id]
        meta: dict[str, Any] = json.loads(meta_json)
        rows.append(
            ArticleRow(
                slug,
                title,
                column,
                department,
                tuple(bylines_of(meta)),
                number,
                revision_id,
                changed_at,
                standing.state,
                standing.stage,
                standing.label(),
            )
        )
    return rows
