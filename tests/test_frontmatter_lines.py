"""Every field's line in the file, whether asked for at the top level or deeper."""

from __future__ import annotations

from publisher.content.frontmatter import parse

TEXT = (
    "---\n"
    "title: 第一\n"  # line 2
    "slug: b\n"
    "tags:\n"
    "  - x\n"
    "  - y\n"  # line 6
    "meta:\n"
    "  k: 1\n"
    "title: 第二\n"  # line 9: the later of equal keys is the one YAML keeps
    "1: z\n"
    "---\n"
    "body\n"
)


def test_a_top_level_field_is_found_on_its_own_line_before_and_after_a_deeper_question() -> None:
    expected = {"title": 9, "slug": 3, "tags": 4, "meta": 7, "1": 10, "missing": None}
    asked_first = {key: parse(TEXT).line_of((key,)) for key in expected}
    deeper = parse(TEXT)
    assert deeper.line_of(("tags", 1)) == 6 and deeper.line_of(("meta", "k")) == 8
    asked_after = {key: deeper.line_of((key,)) for key in expected}
    assert asked_first == asked_after == expected
