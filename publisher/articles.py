"""Read-side queries about articles and their revisions, for the CLI, the console and the tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from publisher.errors import NotFound
from publisher.store.tables import Article, Revision, RevisionAsset


@dataclass(frozen=True, slots=True)
class ArticleView:
    article: Article
    revision: Revision

    @property
    def meta(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.revision.meta_json)
        return data


def list_articles(session: Session, column: str | None = None) -> list[ArticleView]:
    query = (
        select(Article, Revision)
        .join(Revision, col(Revision.id) == col(Article.current_revision_id))
        .order_by(col(Revision.dated_at).desc(), col(Article.slug))
    )
    if column is not None:
        query = query.where(Revision.column == column)
    return [ArticleView(article, revision) for article, revision in session.exec(query)]


def get_article(session: Session, slug: str) -> ArticleView:
    row = session.exec(
        select(Article, Revision)
        .join(Revision, col(Revision.id) == col(Article.current_revision_id))
        .where(Article.slug == slug)
    ).first()
    if row is None:
        raise NotFound(f"没有这篇稿件 / no article with slug {slug!r}")
    return ArticleView(*row)


def history(session: Session, slug: str) -> tuple[Article, list[Revision]]:
    article = session.exec(select(Article).where(Article.slug == slug)).first()
    if article is None:
        raise NotFound(f"没有这篇稿件 / no article with slug {slug!r}")
    revisions = list(
        session.exec(select(Revision).where(Revision.article_id == article.id).order_by(col(Revision.number)))
    )
    return article, revisions


def assets_of(session: Session, revision_id: str) -> list[RevisionAsset]:
    return list(
        session.exec(
            select(RevisionAsset)
            .where(RevisionAsset.revision_id == revision_id)
            .order_by(col(RevisionAsset.position))
        )
    )
