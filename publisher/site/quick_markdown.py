"""Python-Markdown, made quicker for Chinese prose, with output identical to the stock converter.

Python-Markdown tries every block processor on every block, every inline pattern on every piece of
text and runs every tree processor over the whole tree, whether or not the document could hold
what each one looks for. Newsroom prose is mostly plain paragraphs of Han characters, so most of
that work finds nothing. Each shortcut here skips a step only when a literal the step cannot act
without is absent, so the result is the stock converter's, byte for byte (tests compare the two on
the demo newsroom, a generated corpus and hand-written edge cases):

- the inline pass tries a pattern only on text holding the pattern's trigger (`[`, `*`, `<`...);
- the block parser sends a plain block (no line starts with a character any block processor
  looks for, no `|`) straight to the paragraph processor;
- tree and preprocessors that act on one literal (attribute lists on `{`, escapes on `\\`, fenced
  code on three backticks or tildes, raw HTML on `<` or `&`, the `[TOC]` marker) run only when the
  document holds it;
- `is_block_level` is remembered per tag instead of lower-casing and scanning a list each call.

A shortcut whose processor has been replaced (another extension, a new Python-Markdown) switches
itself off and the stock code runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any
from xml.etree import ElementTree as etree

import markdown
from markdown import blockprocessors, inlinepatterns, util
from markdown.blockparser import BlockParser
from markdown.extensions import footnotes, sane_lists, tables
from markdown.extensions.attr_list import AttrListTreeprocessor
from markdown.extensions.fenced_code import FencedBlockPreprocessor
from markdown.extensions.toc import TocTreeprocessor
from markdown.preprocessors import HtmlBlockPreprocessor, Preprocessor
from markdown.treeprocessors import InlineProcessor, UnescapeTreeprocessor

# A literal that each of these inline patterns cannot match without (keyed by the exact regex, so
# a pattern Python-Markdown changes or an extension adds simply runs as it always did).
_INLINE_TRIGGERS: dict[str, tuple[str, ...]] = {
    inlinepatterns.BACKTICK_RE: ("`",),
    inlinepatterns.ESCAPE_RE: ("\\",),
    inlinepatterns.LINK_RE: ("[",),  # also the reference patterns
    inlinepatterns.IMAGE_LINK_RE: ("![",),  # also the image reference patterns
    inlinepatterns.AUTOLINK_RE: ("<",),
    inlinepatterns.AUTOMAIL_RE: ("<",),
    inlinepatterns.LINE_BREAK_RE: ("  \n",),
    inlinepatterns.HTML_RE: ("<",),
    inlinepatterns.ENTITY_RE: ("&",),
    r"\[\^([^\]]*)\]": ("[^",),  # footnotes
}


def inline_triggers(pattern: Any) -> tuple[str, ...] | None:
    """The literals one of which `pattern` needs to match, or None when it is not known."""
    if not isinstance(pattern, inlinepatterns.InlineProcessor):
        return None
    source = pattern.compiled_re.pattern
    if isinstance(pattern, inlinepatterns.DelimiterProcessor):
        tokens = tuple(pattern.tokens)
        return tokens if tokens and source == "|".join(re.escape(t) for t in tokens) else None
    return _INLINE_TRIGGERS.get(source)


class QuickInlineProcessor(InlineProcessor):
    """Python-Markdown's inline pass, skipping the patterns that cannot match a piece of text.

    The stock pass tries every inline pattern's regex on every text node: for Chinese prose, which
    rarely holds a `[`, `<`, `*` or backtick, that is most of the conversion time. A pattern is
    skipped only when a literal its regex requires is absent; matching replaces text by
    placeholders and never adds such a literal, so the result is the stock pass's, byte for byte.
    """

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        patterns = list(self.inlinePatterns)
        literals: list[str] = []
        plan: list[tuple[Any, tuple[int, ...] | None]] = []
        for pattern in patterns:
            found = inline_triggers(pattern)
            if found is None:
                plan.append((pattern, None))
                continue
            for literal in found:
                if literal not in literals:
                    literals.append(literal)
            plan.append((pattern, tuple(literals.index(t) for t in found)))
        self._plan = plan
        self._literals = tuple(literals)
        self._runs: dict[tuple[bool, ...], tuple[int, ...]] = {}
        self._apply: Callable[[Any, str, int, int], tuple[str, bool, int]] = (
            self._InlineProcessor__applyPattern  # type: ignore[attr-defined]
        )
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        if isinstance(data, util.AtomicString):
            return data
        present = tuple(map(data.__contains__, self._literals))
        runs = self._runs.get(present)
        if runs is None:
            runs = tuple(
                n for n, (_, need) in enumerate(self._plan) if need is None or any(present[i] for i in need)
            )
            self._runs[present] = runs
        apply = self._apply
        for index in runs:
            if index < patternIndex:
                continue
            pattern = self._plan[index][0]
            start = 0
            matched = True
            while matched:
                data, matched, start = apply(pattern, data, index, start)
        return data

    def _InlineProcessor__processPlaceholders(
        self, data: str | None, parent: etree.Element, isText: bool = True
    ) -> list[tuple[etree.Element, list[str]]]:
        # Text no pattern matched holds no placeholder: the stock walk would only append it.
        if data and type(data) is str and util.INLINE_PLACEHOLDER_PREFIX not in data:
            if isText:
                parent.text = parent.text + data if parent.text else data
            else:
                parent.tail = parent.tail + data if parent.tail else data
            return []
        stock: Callable[..., list[tuple[etree.Element, list[str]]]] = (
            InlineProcessor._InlineProcessor__processPlaceholders  # type: ignore[attr-defined]
        )
        return stock(self, data, parent, isText)


# The block processors whose tests the plain-block rule below was written against: every one of
# them needs a line that starts with a character in _PLAIN_BREAKERS, a `|`, or an empty block.
_KNOWN_BLOCK_PROCESSORS: frozenset[type] = frozenset(
    {
        blockprocessors.EmptyBlockProcessor,
        blockprocessors.ListIndentProcessor,
        blockprocessors.CodeBlockProcessor,
        blockprocessors.HashHeaderProcessor,
        blockprocessors.SetextHeaderProcessor,
        blockprocessors.HRProcessor,
        blockprocessors.OListProcessor,
        blockprocessors.UListProcessor,
        blockprocessors.BlockQuoteProcessor,
        blockprocessors.ReferenceProcessor,
        blockprocessors.ParagraphProcessor,
        sane_lists.SaneOListProcessor,
        sane_lists.SaneUListProcessor,
        tables.TableProcessor,
        footnotes.FootnoteBlockProcessor,
    }
)
# Indented code and lists (space, tab), headings (#, =, -), rules (-, _), lists (+, -), quotes (>),
# tables (|, also anywhere), and, to stay on the safe side, raw HTML, fences, escapes and stash
# placeholders. An empty block, an empty line or a trailing newline is not plain either. Three
# line starts are common in Chinese prose and are not plain only in the shape a processor reads:
# `*` as a list bullet (`* `) or a rule (a line of nothing but `*` and spaces), not `**加粗**`;
# digits (Python's \d, full-width ones too) as an ordered list's `1.`, not a date like `1月10日`;
# `[` as a reference (`[id]:`, which may run over lines) or a footnote (`[^`), not a link. No
# block processor reads `!` (an image line is a paragraph).
_NOT_PLAIN = re.compile(
    r"(?:\A|\n)(?:[\n \t#=_+>|<`~:\\\x02-]|\*(?:[ \t]|[* \t]*(?:\n|\Z))|\d+\.|\[(?:\^|[^\[\]]*\]:))"
    r"|\||\n\Z|\A\Z"
)


class QuickBlockParser(BlockParser):
    """The stock block parser, except that a plain block goes straight to the paragraph processor.

    Installed by changing the class of the parser Python-Markdown built, so every processor the
    extensions registered stays in place."""

    _checked: tuple[list[blockprocessors.BlockProcessor], blockprocessors.BlockProcessor | None] = ([], None)

    def parseBlocks(self, parent: etree.Element, blocks: list[str]) -> None:
        # One sorted list per call instead of one per block (the registry re-lists on every walk).
        processors = list(self.blockprocessors)
        known, paragraph = self._checked
        if processors != known:
            paragraph = None
            if all(type(p) in _KNOWN_BLOCK_PROCESSORS for p in processors):
                paragraph = next(
                    (p for p in processors if type(p) is blockprocessors.ParagraphProcessor), None
                )
            self._checked = (processors, paragraph)
        not_plain = _NOT_PLAIN.search
        while blocks:
            if paragraph is not None and not_plain(blocks[0]) is None:
                paragraph.run(parent, blocks)
                continue
            for processor in processors:
                if processor.test(parent, blocks[0]) and processor.run(parent, blocks) is not False:
                    break


class _Probe(Preprocessor):
    """Notes which trigger literals the normalised document holds, for the gated processors."""

    def __init__(self, md: QuickMarkdown, literals: Sequence[str]) -> None:
        super().__init__(md)
        self.quick = md
        self.literals = tuple(literals)

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        self.quick.present = frozenset(t for t in self.literals if t in text)
        return lines


# (registry, processor name, expected class, method, literals it needs one of, what a skip returns)
_GATES: tuple[tuple[str, str, type, str, tuple[str, ...], str], ...] = (
    ("preprocessors", "fenced_code_block", FencedBlockPreprocessor, "run", ("```", "~~~"), "input"),
    ("preprocessors", "html_block", HtmlBlockPreprocessor, "run", ("<", "&"), "input"),
    ("treeprocessors", "attr_list", AttrListTreeprocessor, "run", ("{",), "none"),
    ("treeprocessors", "unescape", UnescapeTreeprocessor, "run", ("\\",), "none"),
)


class QuickMarkdown(markdown.Markdown):
    """A Markdown converter with the shortcuts above; call it exactly like `markdown.Markdown`."""

    def __init__(self, **kwargs: Any) -> None:
        # Set before the stock constructor, which calls reset().
        self.present: frozenset[str] = frozenset()
        self._block_level: dict[str, bool] = {}
        super().__init__(**kwargs)
        if type(self.treeprocessors["inline"]) is InlineProcessor:
            # Same name and priority (Python-Markdown's own 20): the quick pass replaces the stock one.
            self.treeprocessors.register(QuickInlineProcessor(self), "inline", 20)
        if type(self.parser) is BlockParser:
            self.parser.__class__ = QuickBlockParser
        literals: list[str] = []
        for registry_name, name, cls, method, needs, skipped in _GATES:
            registry = getattr(self, registry_name)
            if name in registry and type(registry[name]) is cls:
                self._gate(registry[name], method, needs, skipped)
                literals.extend(needs)
        toc = self.treeprocessors["toc"] if "toc" in self.treeprocessors else None  # noqa: SIM401 (no .get)
        if type(toc) is TocTreeprocessor and toc.marker:
            self._gate(toc, "replace_marker", (toc.marker,), "none")
            literals.append(toc.marker)
        # Right after whitespace is normalised (30), before anything that reads the text (25, 20).
        self.preprocessors.register(_Probe(self, literals), "quick_probe", 29)

    def _gate(self, processor: Any, method: str, needs: tuple[str, ...], skipped: str) -> None:
        inner = getattr(processor, method)

        def gated(first: Any, *rest: Any) -> Any:
            if any(n in self.present for n in needs):
                return inner(first, *rest)
            return first if skipped == "input" else None

        setattr(processor, method, gated)

    def reset(self) -> QuickMarkdown:
        super().reset()
        self._block_level.clear()  # an extension may have changed block_level_elements since
        return self

    def is_block_level(self, tag: Any) -> bool:
        if not isinstance(tag, str):
            return False
        known = self._block_level.get(tag)
        if known is None:
            known = self._block_level[tag] = tag.lower().rstrip("/") in self.block_level_elements
        return known
