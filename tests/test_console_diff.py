"""Two revisions side by side, as rows of text segments a template escapes."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from publisher.console.views.diff import Op, RevisionPair, Segment, default_pair, diff_revisions, side_by_side
from publisher.errors import NotFound
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.service import ReviewService
from tests.factory import base_meta, write_article
from tests.review_helpers import seed_users

BODY = "## 标题\n\n第一段，代表们审议了条例草案。\n\n第二段不变。\n"


def test_a_changed_line_marks_only_the_characters_that_differ() -> None:
    rows = side_by_side(["甲", "代表们审议了草案。", "乙"], ["甲", "代表们认真审议了草案。", "乙", "新增"])
    assert [r.op for r in rows] == [Op.EQUAL, Op.CHANGE, Op.EQUAL, Op.INSERT]
    change = rows[1]
    assert change.left == (Segment("代表们审议了草案。", False),)
    assert change.right == (Segment("代表们", False), Segment("认真", True), Segment("审议了草案。", False))
    assert (rows[3].left_no, rows[3].right_no, rows[3].right) == (None, 4, (Segment("新增", True),))


def test_a_removed_line_is_a_delete_row_with_its_number() -> None:
    rows = side_by_side(["一", "二", "三"], ["一", "三"])
    assert [(r.op, r.left_no, r.right_no) for r in rows] == [
        (Op.EQUAL, 1, 1),
        (Op.DELETE, 2, None),
        (Op.EQUAL, 3, 2),
    ]


def _revise(room: Newsroom, title: str, body: str) -> None:
    write_article(room.content_dir, "article-2.md", base_meta("article-2", title=title), body)
    assert ingest(room).ok


def test_revisions_are_compared_field_by_field_and_markup_stays_text(room: Newsroom) -> None:
    assert ingest(room).ok
    _revise(room, "原标题", BODY)
    _revise(room, "新标题", BODY.replace("第一段", "第一段<script>alert(1)</script>"))
    with Session(room.engine) as session:
        diff = diff_revisions(session, "article-2", 2, 3)
    title = next(f for f in diff.fields if f.name == "title")
    assert title.op is Op.CHANGE and Segment("新", True) in title.right
    assert next(f for f in diff.fields if f.name == "department").op is Op.EQUAL
    (changed,) = [r for r in diff.body if r.op is not Op.EQUAL]
    assert Segment("<script>alert(1)</script>", True) in changed.right
    assert (diff.left.number, diff.right.number, diff.changed) == (2, 3, True)


def test_the_default_pair_is_the_last_revision_this_user_acted_on_against_the_current(room: Newsroom) -> None:
    assert ingest(room).ok
    seed_users(room)
    service = ReviewService(room)
    service.submit("article-2", "zhouwb")  # revision 1, acted on by zhouwb
    _revise(room, "第二版", BODY)
    _revise(room, "第三版", BODY + "\n补充一段。\n")
    with Session(room.engine) as session:
        assert default_pair(session, "article-2", "zhouwb") == RevisionPair(1, 3)
        assert default_pair(session, "article-2", "hejing") == RevisionPair(2, 3)
        assert default_pair(session, "article-1", "zhouwb") == RevisionPair(1, 1)
        with pytest.raises(NotFound, match="has no revision 9"):
            diff_revisions(session, "article-2", 1, 9)
