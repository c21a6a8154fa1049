"""The screening's shortcut for one line of plain prose must read exactly what the renderer reads."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import lxml.html as lxml_html
import pytest

from publisher.consultation.receipts import RECEIPT_RE, new_receipt
from publisher.review import normalize

PLAIN = [
    "强烈建议降低首次业主大会筹备门槛，已交付面积达到百分之三十即可申请成立筹备组，让业主早日当家作主。",
    "关于电梯维修的意见（12）：建议第3条增加具体的时限和责任主体，ab12cd34。",
    "机密 文件 第1条",
    "秘 密",
    "  前后空格  ",
    "“引号”‘单’《法》【注】——…·～",
]


def renderer_reading(body: str) -> tuple[str, ...]:
    """What `rendered_blocks` returned before the shortcut: the renderer, then the HTML parse."""
    fragment = normalize.rendered_html(body)
    if not fragment.strip():
        return ()
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    blocks: list[str] = []
    normalize._collect(root, blocks)
    return tuple(" ".join(b.split()) for b in blocks if b and b.strip())


def random_prose(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = list("机密秘绝内部第条款的意见建议一二三0123456789abcXYZ ，。、；：？！（）《》“”【】—…·")
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(count)]


@pytest.mark.parametrize("body", PLAIN)
def test_a_line_of_plain_prose_is_read_as_the_renderer_reads_it(body: str) -> None:
    assert normalize._plain_line(body)
    assert normalize.rendered_blocks.__wrapped__(body) == renderer_reading(body)


def test_random_lines_of_prose_are_read_as_the_renderer_reads_them() -> None:
    for body in random_prose(7, 2000):
        assert normalize.rendered_blocks.__wrapped__(body) == renderer_reading(body), body


@pytest.mark.parametrize(
    "body",
    ["机*密*★", "1. 第一条", "# 标题", "a &amp; b", "秘\n密", "机\u200b密", "<b>机</b>密", "`代码`", "a | b"],
)
def test_markup_line_breaks_and_invisible_characters_still_go_through_the_renderer(body: str) -> None:
    assert not normalize._plain_line(body)
    assert normalize.rendered_blocks(body) == renderer_reading(body)


def test_receipt_numbers_keep_their_shape_and_differ() -> None:
    now = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    receipts = {new_receipt(now, ZoneInfo("Asia/Shanghai")) for _ in range(2000)}
    assert len(receipts) == 2000
    assert all(RECEIPT_RE.match(r) for r in receipts)
    assert {r[8] for r in receipts} == set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
