"""The article list and an article's page, as the console renders them."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from publisher.console.views.article_detail import article_detail
from publisher.console.views.article_list import ArticleFilter, article_list
from publisher.errors import NotFound, PublisherError
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.standing import ArticleState
from tests.console_world import build
from tests.factory import base_meta, write_article


def test_the_list_shows_each_article_with_its_state_and_stage(room: Newsroom) -> None:
    world = build(room)
    with Session(room.engine) as session:
        listed = article_list(session)
    states = {row.slug: (row.state, row.stage) for row in listed.rows}
    assert states[world.scheduled] == (ArticleState.SCHEDULED, None)
    assert states[world.in_review] == (ArticleState.IN_REVIEW, "复审")
    assert states[world.draft] == (ArticleState.DRAFT, None)
    assert states[world.rejected][0] is ArticleState.DRAFT
    assert listed.page.total == 5 and listed.page.pages == 1
    in_review = next(r for r in listed.rows if r.slug == world.in_review)
    assert "审核中（复审）" in in_review.label


def test_filters_narrow_by_column_department_state_stage_author_and_text(room: Newsroom) -> None:
    world = build(room)
    with Session(room.engine) as session:
        finance_column = next(r.column for r in article_list(session).rows if r.slug == world.finance)

        def slugs(**filters: object) -> set[str]:
            return {r.slug for r in article_list(session, ArticleFilter(**filters)).rows}  # type: ignore[arg-type]

        assert slugs(column=finance_column) == {world.finance}
        assert slugs(department="预算工作委员会") == {world.finance}
        assert slugs(state=ArticleState.SCHEDULED) == {world.scheduled}
        assert slugs(state=ArticleState.IN_REVIEW) == {world.in_review}
        assert slugs(stage="复审") == {world.in_review}
        assert slugs(stage="初审") == set()
        assert slugs(author="lijing") == {world.rejected}
        assert slugs(text="预算审查") == {world.finance}
        assert slugs(text="ARTICLE-2") == {world.in_review}
        assert slugs(state=ArticleState.DRAFT, department="研究室") == {world.draft, world.rejected}


def test_pages_are_ordered_by_last_change_and_count_the_whole_list(room: Newsroom) -> None:
    build(room)
    with Session(room.engine) as session:
        every = [r.slug for r in article_list(session, size=50).rows]
        first = article_list(session, page=1, size=2)
        third = article_list(session, page=3, size=2)
        drafts = article_list(session, ArticleFilter(state=ArticleState.DRAFT), page=2, size=2)
    assert [r.slug for r in first.rows] + [r.slug for r in third.rows] == every[:2] + every[4:]
    assert first.page.total == 5 and first.page.pages == 3
    assert drafts.page.total == 3 and len(drafts.rows) == 1
    with Session(room.engine) as session:
        changed = [r.changed_at for r in article_list(session).rows]
    assert changed == sorted(changed, reverse=True)


def test_a_page_out_of_range_is_refused_in_both_languages(room: Newsroom) -> None:
    with Session(room.engine) as session, pytest.raises(PublisherError, match="page size"):
        article_list(session, size=0)


def test_the_article_page_shows_each_revision_with_its_chain_and_the_review(room: Newsroom) -> None:
    world = build(room)
    with Session(room.engine) as session:
        detail = article_detail(session, world.in_review)
        rejected = article_detail(session, world.rejected)
        scheduled = article_detail(session, world.scheduled)
    (revision,) = detail.revisions
    assert [a.act for a in revision.chain] == ["submit", "approve", "approve"]
    submit = revision.chain[0]
    assert submit.by.display_name == "周文博" and submit.at_local.endswith("+0800")
    assert [s.name for s in detail.review.stages if s.signed_by] == ["初审", "一校"]
    assert [s.name for s in detail.review.stages if s.waiting] == ["复审"]
    assert detail.standing.state is ArticleState.IN_REVIEW
    assert [a.comment for a in rejected.revisions[0].chain if a.act == "reject"] == ["导语太长，请压缩"]
    assert rejected.review.status == "rejected"
    (release,) = scheduled.deliveries["website"]
    assert release.state == "scheduled" and release.due_local.endswith("+0800")
    actions = [line.action for line in scheduled.history]
    assert "review.approve" in actions and "delivery.schedule" in " ".join(actions)
    assert scheduled.history[0].seq > scheduled.history[-1].seq


def test_an_unknown_article_is_not_found(room: Newsroom) -> None:
    build(room)
    with Session(room.engine) as session, pytest.raises(NotFound, match="no article"):
        article_detail(session, "nope")


def test_the_author_filter_finds_a_byline_written_with_a_space_and_text_is_literal(room: Newsroom) -> None:
    world = build(room)
    write_article(
        room.content_dir, "spaced.md", base_meta("spaced-byline", title="署名有空格", authors=["李　静"])
    )
    assert ingest(room).ok
    with Session(room.engine) as session:
        by_lijing = {r.slug for r in article_list(session, ArticleFilter(author="lijing")).rows}
        percent = article_list(session, ArticleFilter(text="%")).rows
    assert by_lijing == {world.rejected, "spaced-byline"}
    assert percent == ()
