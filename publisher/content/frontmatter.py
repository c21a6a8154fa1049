"""Split a Markdown file into YAML front matter and body, keeping each field's line number."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe YAML without implicit timestamps.

    PyYAML turns `2026-02-30` into a constructor crash and `2026-11-20` into a naive date; the
    content model parses dates itself so that each mistake gets its own clear message.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}

Path_ = tuple[str | int, ...]

# A line that is `---` but for surrounding white space, as `line.strip() == "---"`, with the line
# end before it: a pattern that starts with a literal is searched for at C speed.
_CLOSING = re.compile(r"\n[^\S\n]*---[^\S\n]*(?=\n|\Z)")


class FrontMatterError(ValueError):
    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass(frozen=True, slots=True)
class FrontMatter:
    data: dict[str, Any]
    body: str
    node: yaml.Node | None  # the composed YAML, where each field's line is read
    body_line: int  # file line of the body's first line
    # field path -> 1-based file line, indexed on the first question: a valid article asks one or
    # two, and indexing every node of every file cost a sixth of the parse.
    _lines: dict[Path_, int] = field(default_factory=dict, repr=False, compare=False)

    def line_of(self, loc: Path_) -> int | None:
        """The line of the deepest known node on `loc` (a list item, else its field)."""
        lines = self._lines
        if not lines and len(loc) == 1 and self.node is not None:
            # A valid article asks only for top-level fields (slug, title, cover): its keys are read
            # where they stand, and the whole tree is indexed only for a deeper question.
            return _top_line(self.node, loc[0], 2)
        if not lines and self.node is not None:
            # +2: YAML line 0 is file line 2, right after the opening ---
            _index_lines(self.node, (), 2, lines)
        for end in range(len(loc), 0, -1):
            line = lines.get(loc[:end])
            if line is not None:
                return line
        return None


def _top_line(node: yaml.Node, key: str | int, offset: int) -> int | None:
    """The line of a top-level field, as `_index_lines` would record it (the last of equal keys)."""
    line = None
    if isinstance(node, yaml.MappingNode):
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                line = key_node.start_mark.line + offset
    return line


def _index_lines(node: yaml.Node, path: Path_, offset: int, out: dict[Path_, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = (*path, key.value)
                out[child] = key.start_mark.line + offset
                _index_lines(value, child, offset, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            out[child] = item.start_mark.line + offset
            _index_lines(item, child, offset, out)


def parse(text: str) -> FrontMatter:
    """Parse `---\\n<yaml>\\n---\\n<body>`; raise FrontMatterError with the file line on failure."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    first = text.find("\n")
    if (text if first < 0 else text[:first]).strip() != "---":
        raise FrontMatterError(
            "缺少 YAML 前置元数据（首行应为 ---） / missing front matter: first line must be ---", 1
        )
    # Found by a search, not by splitting the file into lines: the body is most of the file.
    closing = _CLOSING.search(text, first) if first >= 0 else None
    if closing is None:
        raise FrontMatterError("前置元数据没有结束的 --- / front matter is not closed by ---", 1)
    yaml_text = text[first + 1 : max(first + 1, closing.start())]
    body = text[closing.end() + 1 :]
    end = text.count("\n", 0, closing.start() + 1)  # the closing line's index
    loader = _Loader(yaml_text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark is not None else None
        problem = exc.problem or str(exc)
        raise FrontMatterError(f"YAML 语法错误 / YAML syntax error: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"YAML 错误 / YAML error: {exc}", 2) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise FrontMatterError("前置元数据应为键值映射 / front matter must be a mapping of fields", 2)
    return FrontMatter(data=data, body=body, node=node, body_line=end + 2)
