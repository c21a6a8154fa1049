"""Split a Markdown file into YAML front matter and body, keeping each field's line number."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
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
    yaml_text: str  # the front matter between its --- lines
    body_line: int  # file line of the body's first line
    # Each top-level key's file line, as read by `_simple_mapping`; None when the YAML was composed.
    top_lines: dict[str, int] | None = None
    # The composed YAML, where each field's line is read; composed on the first deeper question
    # when the fast path read the fields.
    node: yaml.Node | None = None
    # field path -> 1-based file line, indexed on the first deeper question: a valid article asks
    # one or two top-level fields, and indexing every node of every file cost a sixth of the parse.
    _lines: dict[Path_, int] = field(default_factory=dict, repr=False, compare=False)

    def line_of(self, loc: Path_) -> int | None:
        """The line of the deepest known node on `loc` (a list item, else its field)."""
        lines = self._lines
        if not lines and len(loc) == 1:
            # A valid article asks only for top-level fields (slug, title, cover): its keys are read
            # where they stand, and the whole tree is indexed only for a deeper question.
            if self.top_lines is not None:
                return self.top_lines.get(loc[0]) if isinstance(loc[0], str) else None
            if self.node is not None:
                return _top_line(self.node, loc[0], 2)
        if not lines:
            node = self.node if self.top_lines is None else _compose(self.yaml_text)[0]
            if node is not None:
                # +2: YAML line 0 is file line 2, right after the opening ---
                _index_lines(node, (), 2, lines)
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
    simple = _simple_mapping(yaml_text)
    if simple is not None:
        return FrontMatter(simple[0], body, yaml_text, end + 2, top_lines=simple[1])
    node, data = _compose(yaml_text)
    if not isinstance(data, dict):
        raise FrontMatterError("前置元数据应为键值映射 / front matter must be a mapping of fields", 2)
    return FrontMatter(data, body, yaml_text, end + 2, node=node)


def _compose(yaml_text: str) -> tuple[yaml.Node | None, Any]:
    """The full loader: the node tree (for lines) and the values; FrontMatterError on bad YAML."""
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
    return node, data


# The fast path. Nearly every article's front matter is lines of `key: value`, a value being a
# quoted or plain scalar on its line, a one-line flow list, or a block list of such scalars. Such
# text is split here into keys and scalar texts, and each scalar is resolved and constructed by
# PyYAML's own resolver and constructors (the same tags, the same Python values); composing and
# constructing the node tree cost half of loading an article's file. Anything else (a nested
# mapping, a comment, an anchor, a multi-line scalar, an escape, a tab, a character YAML would
# refuse) returns None, and the full loader reads the text and reports any error as ever.

# Characters of simple front matter: printable, no tab, no line break but \n (YAML also breaks
# lines at U+0085, U+2028 and U+2029), no byte order mark; libyaml refuses the others.
_SIMPLE_TEXT = re.compile(
    r"[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*"
)
_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: +(.*))?")
_ITEM_LINE = re.compile(r"( *)- +(.*)")
# A scalar on its own: double-quoted without escapes, single-quoted without '' or plain. A plain
# scalar starts with no indicator and holds no ": " or " #" and does not end with ":".
_QUOTED = re.compile(r'"([^"\\]*)"|\'([^\']*)\'')
_PLAIN_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
# One flow list item and what follows it: quoted, or plain without any flow indicator, quote or `?`
# (which PyYAML's own scanner takes for one).
_FLOW_ITEM = re.compile(
    r""" *(?:"([^"\\]*)"|'([^']*)'|([^\s,\[\]{}#:'"&*!|>%@`?-][^,\[\]{}#:?'"]*?)) *(,|\]$)"""
)


class _Resolver(yaml.resolver.Resolver):
    """The implicit tags of `_Loader` (no timestamps), for scalars the fast path reads."""


_Resolver.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
# Typed once here: the stubs leave `resolve` untyped.
_resolve: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = _Resolver().resolve
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_STR = _Resolver.DEFAULT_SCALAR_TAG
# The tags whose values the fast path builds with the loader's constructors; others (merge keys,
# `=`) fall back to the full loader.
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "null", "bool", "int", "float"))


class _NotSimple(Exception):
    pass


def _plain(text: str) -> Any:
    """The value of a plain scalar, as the loader resolves and constructs it."""
    tag = _resolve(yaml.ScalarNode, text, (True, False))
    if tag == _STR:
        return text
    if tag not in _SCALAR_TAGS:
        raise _NotSimple
    return _Loader.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, text))


@lru_cache(maxsize=1024)
def _plain_key(text: str) -> bool:
    """Does a key resolve to its own text (not `true`, `null`, ...)? Keys repeat from file to file."""
    try:
        value = _plain(text)
    except _NotSimple:
        return False
    return isinstance(value, str) and value == text


def _block_scalar(text: str) -> Any:
    """A scalar that is the whole rest of a line (a field's value or a block list item)."""
    quoted = _QUOTED.fullmatch(text)
    if quoted is not None:
        single = quoted.group(2)
        return quoted.group(1) if single is None else single
    if text[0] in _PLAIN_START or ": " in text or " #" in text or text.endswith(":"):
        raise _NotSimple
    return _plain(text)


def _flow_list(text: str) -> list[Any]:
    """`[a, "b", 'c']` on one line."""
    if not text.endswith("]"):
        raise _NotSimple
    if not text[1:-1].strip(" "):
        return []
    items: list[Any] = []
    position, end = 1, len(text)
    while position < end:
        match = _FLOW_ITEM.match(text, position)
        if match is None:
            raise _NotSimple
        double, single, plain = match.group(1, 2, 3)
        if plain is not None:
            items.append(_plain(plain.rstrip(" ")))
        else:
            items.append(double if single is None else single)
        position = match.end()
    return items


def _simple_mapping(yaml_text: str) -> tuple[dict[str, Any], dict[str, int]] | None:
    """The fields and each key's file line, when the text is simple front matter; else None."""
    if _SIMPLE_TEXT.fullmatch(yaml_text) is None:
        return None
    rows = yaml_text.split("\n")
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    index, count = 0, len(rows)
    try:
        while index < count:
            row, key_row = rows[index].rstrip(" "), index
            index += 1
            if not row:
                continue
            field_line = _KEY_LINE.fullmatch(row)
            if field_line is None or not _plain_key(field_line.group(1)):
                return None  # not a plain key that resolves to its own text
            key, rest = field_line.group(1, 2)
            value: Any
            if rest is None:
                # An empty value, or a block list on the lines that follow.
                items: list[Any] = []
                indent = None
                while index < count:
                    item_row = rows[index].rstrip(" ")
                    if not item_row:
                        index += 1
                        continue
                    item = _ITEM_LINE.fullmatch(item_row)
                    if item is None:
                        if item_row[0] == " " or item_row[0] == "-":
                            return None  # deeper structure, or a list item not in the simple form
                        break
                    if indent is None:
                        indent = item.group(1)
                    elif item.group(1) != indent:
                        return None
                    items.append(_block_scalar(item.group(2)))
                    index += 1
                value = items if indent is not None else _plain("")
            elif rest[0] == "[":
                value = _flow_list(rest)
            else:
                value = _block_scalar(rest)
            data[key] = value
            lines[key] = key_row + 2  # YAML line 0 is file line 2, as in `line_of`
    except _NotSimple:
        return None
    return (data, lines) if data else None
