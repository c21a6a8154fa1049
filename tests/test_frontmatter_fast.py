"""The front matter fast path reads exactly what the full YAML loader reads, or leaves the text to it.

Whenever `_simple_mapping` answers, its fields are the full loader's, value for value and type for
type (compared by `repr`, so `1`, `1.0` and `True` differ), and each key's line is the line the
composed YAML gives; text the full loader refuses is never accepted by the fast path, so every
error is still the full loader's, with its line.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from publisher.content import frontmatter
from publisher.content.frontmatter import FrontMatterError, _compose, _simple_mapping, _top_line, parse
from tests.factory import REPO, shared_corpus_script

# Lines and values the fast path must read as YAML does, or leave to the full loader.
KEYS = ["title", "slug", "tags", "authors", "_x", "true", "null", "Yes", "on", "a1", "key_"]
SCALARS = [
    "plain",
    "两个 词",
    "中文：全角冒号",
    "a:b",
    "a: b",
    "a :b",
    "ends:",
    "a #b",
    "a#b",
    "C#",
    "https://example.org/x?y=1#z",
    "images/a.png",
    "2026-11-20",
    "2026-11-20T10:00:00+08:00",
    "2026-02-30",
    "10:00",
    "1:30",
    "0",
    "012",
    "0x1F",
    "0b101",
    "1_000",
    "-5",
    "+5",
    "3.0",
    "1e3",
    ".inf",
    ".NaN",
    "~",
    "null",
    "Null",
    "true",
    "False",
    "yes",
    "NO",
    "on",
    "Off",
    "y",
    "n",
    "<<",
    "=",
    "&anchor x",
    "*alias",
    "!!str 5",
    "!tag x",
    "|",
    ">",
    "%x",
    "@x",
    "`x`",
    "?x",
    "a?b",
    "- x",
    "-x",
    ":x",
    ",x",
    "[x]",
    "{x: 1}",
    "a, b",
    "a [b] {c}",
    '"quoted"',
    '"quoted with \\" escape"',
    '"tab\\tescape"',
    '"unclosed',
    '"a" trailing',
    '""',
    "'single'",
    "'it''s'",
    "''",
    "'a' trailing",
    '"含 # 与 : 的引号"',
    "'含 # 与 : 的单引号'",
    "全角\u3000空格",
    "\u3000前导全角空格",
    "x\u3000#y",
    "tail spaces   ",
]
FLOWS = [
    "[]",
    "[ ]",
    "[a, b]",
    "[高翔, 何欣]",
    '["a", "b"]',
    "['a', 'b']",
    '["a, b", c]',
    '["a]b"]',
    "[a b, c]",
    "[1, 2.5, true, ~, null]",
    "[a, ]",
    "[, a]",
    "[a,b]",
    "[ a , b ]",
    "[[a]]",
    "[a: b]",
    "[a]b]",
    "[a] x",
    "[a",
    '["es\\"c"]',
    "['it''s']",
    "[-1, -x]",
    "[http://x]",
    "[a#b]",
    "[a #b]",
    "[a?b]",
    "[a-b, c.d]",
]
# Whole lines that are not `key: value`.
ODD_LINES = [
    "# a comment",
    "  # an indented comment",
    "  nested: 1",
    "  continued plain text",
    "...",
    "%YAML 1.1",
    "- loose item",
    "key:value",
    "key :value",
    '"quoted key": 1',
    "? complex",
    "\tkey: tab",
    "key:\tvalue",
    "key: value\u2028more",
    "key: nel\x85x",
    "key: \ufeffbom",
    "key: bell\x07",
    "key: del\x7f",
    "",
    "   ",
]


def _value_lines(rng: random.Random) -> list[str]:
    """The text after `key:` on its line, and any lines that follow it."""
    shape = rng.random()
    if shape < 0.5:
        return [" " + rng.choice(SCALARS)]
    if shape < 0.7:
        return [" " + rng.choice(FLOWS)]
    if shape < 0.9:
        indent = " " * rng.choice([0, 0, 2, 2, 4])
        items = [f"{indent}-{rng.choice([' ', '  '])}{rng.choice(SCALARS)}" for _ in range(rng.randint(0, 4))]
        if items and rng.random() < 0.1:
            items.insert(rng.randrange(len(items)), "")
        if items and rng.random() < 0.1:
            items[rng.randrange(len(items))] = " " * rng.choice([1, 3]) + "- odd indent"
        return ["", *items]
    return ["   " if rng.random() < 0.5 else ""]


def generated_documents(count: int, seed: int = 15) -> list[str]:
    rng = random.Random(seed)
    documents = []
    for _ in range(count):
        lines: list[str] = []
        for _ in range(rng.randint(0, 7)):
            if rng.random() < 0.07:
                lines.append(rng.choice(ODD_LINES))
                continue
            key = rng.choice(KEYS)
            first, *rest = _value_lines(rng)
            lines.append(f"{key}:{first}")
            lines.extend(rest)
        documents.append("\n".join(lines))
    return documents


def _full(yaml_text: str) -> tuple[yaml.Node | None, Any] | None:
    """The full loader's node and fields, None when it refuses the text."""
    try:
        return _compose(yaml_text)
    except FrontMatterError:
        return None


def _agrees(yaml_text: str) -> bool:
    """Either the fast path leaves the text alone, or it reads what the full loader reads. Returns
    whether the fast path read it."""
    simple = _simple_mapping(yaml_text)
    if simple is None:
        return False
    full = _full(yaml_text)
    assert full is not None, f"the fast path accepted text the loader refuses: {yaml_text!r}"
    node, data = full
    assert isinstance(data, dict) and node is not None
    assert repr(simple[0]) == repr(data), yaml_text
    assert simple[1] == {key: _top_line(node, key, 2) for key in data}, yaml_text
    return True


def test_generated_front_matter_is_read_as_the_full_loader_reads_it_or_left_to_it() -> None:
    documents = generated_documents(10000)
    fast = sum(_agrees(text) for text in documents)
    # Not vacuous: both ways are taken many times.
    assert 500 < fast < len(documents) - 5000


@pytest.mark.parametrize("value", SCALARS + FLOWS)
def test_each_value_is_read_as_the_full_loader_reads_it_or_left_to_it(value: str) -> None:
    for text in (
        f"title: {value}",
        f"a: 1\ntitle: {value}\nb: 2",
        f"tags:\n  - {value}",
        f"tags:\n- {value}\n- x",
    ):
        _agrees(text)


def test_the_newsrooms_articles_and_a_generated_corpus_are_read_alike(tmp_path: Path) -> None:
    paths = sorted((REPO / "content").rglob("*.md"))
    script = shared_corpus_script()
    if script is not None:
        subprocess.run(
            [
                sys.executable,
                str(script),
                str(tmp_path),
                "--count",
                "300",
                "--seed",
                "3",
                "--images",
                "--quiet",
            ],
            check=True,
        )
        paths += sorted(tmp_path.glob("*.md"))
    fast = sum(_agrees(parse(path.read_text(encoding="utf-8")).yaml_text) for path in paths)
    assert fast > len(paths) // 2


def test_a_simple_front_matter_answers_deeper_questions_from_the_composed_yaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = '---\ntitle: 第一\ntags:\n  - x\n  - ""\nauthors: [甲, 乙]\ntitle: 第二\n---\nbody\n'
    composed: list[str] = []
    real = frontmatter._compose

    def counting(yaml_text: str) -> tuple[yaml.Node | None, Any]:
        composed.append(yaml_text)
        return real(yaml_text)

    monkeypatch.setattr(frontmatter, "_compose", counting)
    fm = parse(text)
    assert fm.data == {"title": "第二", "tags": ["x", ""], "authors": ["甲", "乙"]}
    assert (fm.line_of(("title",)), fm.line_of(("tags",)), fm.line_of(("authors",))) == (7, 3, 6)
    assert composed == []  # top-level questions are answered from the fast path's lines
    assert fm.line_of(("tags", 1)) == 5 and fm.line_of(("authors", 1)) == 6
    assert fm.line_of(("missing",)) is None and fm.line_of(("title",)) == 7
    assert len(composed) == 1
