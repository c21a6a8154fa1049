"""Terminology warnings read text through the same normalisation as the secrecy check: a wrong
term split by a space, an invisible character, emphasis or a line break, or written in a field
other than the body, still asks the reviewer to acknowledge it by name."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest

from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.normalize import fold
from publisher.review.service import ReviewService
from tests.factory import base_meta, write_article
from tests.review_helpers import seed_users


@pytest.fixture
def svc(room: Newsroom) -> Iterator[ReviewService]:
    seed_users(room)
    yield ReviewService(room)


@pytest.mark.parametrize(
    ("body", "meta"),
    [
        ("会议听取了一府\u3000两院的工作报告。\n", {}),
        ("会议听取了一府\u200b两院的工作报告。\n", {}),
        ("会议听取了一*府*两院的工作报告。\n", {}),
        ("会议听取了一府\n两院的工作报告。\n", {}),
        ("会议听取了&#19968;府两院的工作报告。\n", {}),
        ("正文。\n", {"tags": ["一府两院"]}),
        ("正文。\n", {"series": {"id": "jd", "title": "一府两院监督", "part": 1}}),
    ],
)
def test_a_wrong_term_in_disguise_or_in_another_field_still_warns(
    room: Newsroom, svc: ReviewService, body: str, meta: dict[str, Any]
) -> None:
    write_article(room.content_dir, "t.md", base_meta("t", **meta), body)
    assert ingest(room).ok
    assert [w.code for w in svc.submit("t", "wangxm").warnings] == ["一府两院"]


def test_every_invisible_format_character_is_removed_by_the_normalisation() -> None:
    # The class is written out for start-up time; it must stay the whole of Unicode category Cf.
    format_chars = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    assert fold("一府" + "".join(format_chars) + "两院") == "一府两院"
