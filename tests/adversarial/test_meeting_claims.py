"""Meeting reports against the register: vote claims in every common phrasing and wherever they
appear (title, summary, body, table, across a line break), each named instrument equal to a voted
item of the meeting, and the 届/次 the text names equal to the meeting's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.service import ReviewService
from publisher.review.workflow import ReviewRefused
from tests.factory import base_meta, write_article
from tests.review_helpers import seed_users

MEETING = {
    "name": "江澜市第十七届人民代表大会常务委员会第二十九次会议",
    "term": 17,
    "session": 29,
    "start": "2026-11-25",
    "end": "2026-11-27",
}
REGISTER = "会议登记「江澜市第十七届人民代表大会常务委员会第二十九次会议」（sc-17-29）"


@pytest.fixture
def svc(room: Newsroom) -> Iterator[ReviewService]:
    seed_users(room)
    yield ReviewService(room)


def submit(room: Newsroom, svc: ReviewService, body: str = "会议召开。\n", **meta: Any) -> None:
    fields = {"title": "常委会会议闭幕", "kind": "meeting_report", "meeting": MEETING, **meta}
    write_article(room.content_dir, "mr.md", base_meta("mr", **fields), body)
    report = ingest(room)
    assert report.ok, report.problems
    svc.submit("mr", "wangxm")


# Not in the register, though it contains a voted item's title (which a substring match took as voted).
LONGER = "《江澜市历史文化名城保护条例实施细则》"


@pytest.mark.parametrize(
    "sentence",
    [
        f"会议表决通过了{LONGER}。",
        f"经表决，会议通过了{LONGER}。",
        f"会议以38票赞成、0票反对、1票弃权，表决通过{LONGER}。",
        f"{LONGER}经表决获得通过。",
        f"会议审议通过{LONGER}。",
        f"会议全票通过{LONGER}。",
        f"会议还通过了{LONGER}。",
        "会议通过了关于加强物业管理工作的决定。",
        f"会议表决通过了《江澜市历史文化名城保护条例》，{LONGER}。",
    ],
)
def test_a_vote_claim_is_recognised_in_its_common_phrasings(
    room: Newsroom, svc: ReviewService, sentence: str
) -> None:
    with pytest.raises(ReviewRefused, match="会议登记中没有该事项"):
        submit(room, svc, f"会议召开。\n\n{sentence}\n")


@pytest.mark.parametrize(
    ("where", "body", "meta"),
    [
        ("title", "会议召开。\n", {"title": "常委会表决通过《江澜市物业管理条例》"}),
        ("summary", "会议召开。\n", {"summary": "会议表决通过了《江澜市物业管理条例》。"}),
        ("table", "| 事项 | 表决结果 |\n|---|---|\n| 《江澜市物业管理条例》 | 通过 |\n", {}),
        ("a line break", "会议表决\n通过了《江澜市\n物业管理条例》。\n", {}),
        ("list item", "会议议程：\n\n- 《江澜市物业管理条例》\n  经表决获得通过\n", {}),
        ("emphasis", "会议**表决**通过了《江澜市物业管理条例》，全体起立。\n", {}),
        ("invisible characters", "会议表决\u200b通过了《江澜市\u3000物业管理条例》。\n", {}),
    ],
)
def test_a_vote_claim_is_checked_wherever_it_appears(
    room: Newsroom, svc: ReviewService, where: str, body: str, meta: dict[str, Any]
) -> None:
    with pytest.raises(ReviewRefused, match="江澜市物业管理条例"):
        submit(room, svc, body, **meta)


def test_a_law_named_inside_a_longer_voted_item_is_not_taken_as_voted(
    room: Newsroom, svc: ReviewService
) -> None:
    # The register's voted item is 关于《江澜市河湖保护条例》实施情况的工作评议, not the law itself.
    with pytest.raises(ReviewRefused, match="会议登记中没有该事项"):
        submit(room, svc, "会议表决通过了《江澜市河湖保护条例》。\n")


def test_a_longer_title_that_contains_a_voted_item_is_not_taken_as_voted(
    room: Newsroom, svc: ReviewService
) -> None:
    with pytest.raises(ReviewRefused, match="相近的表决事项"):
        submit(room, svc, "会议表决通过了《江澜市历史文化名城保护条例实施细则》。\n")


def test_an_item_recorded_as_not_voted_is_named_with_its_register_entry(
    room: Newsroom, svc: ReviewService
) -> None:
    with pytest.raises(ReviewRefused) as refused:
        submit(room, svc, "会议表决通过了《江澜市公共数据管理条例（草案）》。\n")
    message = str(refused.value)
    assert "「会议表决通过了《江澜市公共数据管理条例(草案)》。」" in message  # the sentence
    assert "（会议表决通过了《江澜市公共数据管理条例(草案)》。）" in message  # the claim
    assert REGISTER in message and "登记为未表决事项「《江澜市公共数据管理条例（草案）》」" in message


def test_claims_the_register_records_and_sentences_that_claim_no_vote_pass(
    room: Newsroom, svc: ReviewService
) -> None:
    sentences = [
        "会议表决通过了《江澜市历史文化名城保护条例》和关于批准2026年市级预算调整方案的决议。",
        "经表决，会议通过了《江澜市历史文化名城保护条例》。",
        "《江澜市历史文化名城保护条例》经表决获得通过。",
        # Only the clause that claims the vote names voted items: the draft was read, not voted.
        "会议审议了《江澜市公共数据管理条例（草案）》，表决通过了《江澜市历史文化名城保护条例》。",
        "会议表决通过了关于《江澜市河湖保护条例》实施情况的工作评议。",
        "会议通过专题询问，推动《江澜市河湖保护条例》落实。",
        "会议决定将《江澜市物业管理条例（草案）》提请市十七届人大六次会议审议。",
        "《江澜市公共数据管理条例（草案）》未获通过，将继续审议。",
    ]
    submit(room, svc, "\n\n".join(sentences) + "\n", summary="江澜市第十七届人大常委会第二十九次会议闭幕。")


@pytest.mark.parametrize(
    ("body", "meta"),
    [
        ("江澜市第十七届人大常委会第三十次会议今天闭幕。\n", {}),
        ("会议召开。\n", {"title": "市十六届人大常委会第二十九次会议闭幕"}),
        ("会议召开。\n", {"summary": "江澜市第十七届人民代表大会常务委员会第二十八次会议今天闭幕。"}),
        # A garbled numeral is no meeting's number: a lenient reading took 二二十九 for 29.
        ("江澜市第十七届人大常委会第二二十九次会议今天闭幕。\n", {}),
    ],
)
def test_a_term_or_session_named_in_the_text_must_match_the_meeting(
    room: Newsroom, svc: ReviewService, body: str, meta: dict[str, Any]
) -> None:
    with pytest.raises(ReviewRefused, match="第17届第29次"):
        submit(room, svc, body, **meta)
