"""Turn a settings file's validation errors into problems staff can act on.

Pydantic says "Extra inputs are not permitted" at `('settings', 'pushes_per_dya')`; a staff
member needs the file, the line, the key, what was expected in Chinese and English, and the
key they probably meant. Every TOML settings file (publisher.toml, channels/, schedules/) is
explained here, so the wording and the line-finding are one rule in one module.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from publisher.errors import Problem

Loc = tuple[str | int, ...]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' 是否想写 / did you mean 'x'?' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"；是否想写 / did you mean {close[0]!r}?" if close else ""


class TomlSource:
    """One file's text, for turning a key path into the line it is written on."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines = text.splitlines()

    def problem(self, reason: str, loc: Loc = (), severity: str = "error") -> Problem:
        field = ".".join(str(p) for p in loc) or None
        return Problem(self.source, reason, field=field, line=self.line_of(loc), severity=severity)

    def line_of(self, loc: Loc) -> int | None:
        """Best effort: follow [table] / [[array]] headers (dotted too) and `key =` lines down the path."""
        found: int | None = None
        pos = 0
        table: list[str] = []
        i = 0
        while i < len(loc):
            if isinstance(loc[i], int):
                i += 1
                continue
            step = self._header(loc, i, table, pos)
            if step is not None:
                pos = found = step[0]
                table += [str(p) for p in loc[i : step[1]] if isinstance(p, str)]
                i = step[1]
                continue
            key_line = self._key_line(str(loc[i]), pos if table else -1)
            if key_line is not None:
                found = key_line
            break
        return None if found is None else found + 1

    def _header(self, loc: Loc, i: int, table: list[str], pos: int) -> tuple[int, int] | None:
        """The header line that opens loc[i:j] (`[a.b]` or the n-th `[[a.b]]`), and j."""
        names: list[str] = []
        j = i
        while j < len(loc) and isinstance(loc[j], str):
            names.append(str(loc[j]))
            name = re.escape(".".join([*table, *names]))
            nxt = loc[j + 1] if j + 1 < len(loc) else None
            if isinstance(nxt, int):
                heads = self._headers(rf"\[\[\s*{name}\s*\]\]", pos)
                if len(heads) > nxt:
                    return heads[nxt], j + 2
            # A table, or an array of tables named without an index (an unknown key: `[[sectons]]`).
            heads = self._headers(rf"\[\s*{name}\s*\]", pos) or self._headers(rf"\[\[\s*{name}\s*\]\]", pos)
            if heads:
                return heads[0], j + 1
            j += 1
        return None

    def _headers(self, pattern: str, start: int) -> list[int]:
        regex = re.compile(rf"^\s*{pattern}\s*(#.*)?$")
        return [n for n in range(start, len(self.lines)) if regex.match(self.lines[n])]

    def _key_line(self, key: str, header: int) -> int | None:
        regex = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for n in range(header + 1, len(self.lines)):
            if re.match(r"^\s*\[", self.lines[n]):
                return None
            if regex.match(self.lines[n]):
                return n
        return None


# -- what the model expects at a path ----------------------------------------------------------------
def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation may hold: through Optional, unions, lists, dicts and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = get_origin(annotation)
    if origin is Annotated:
        return _models_in(get_args(annotation)[0])
    if origin in (Union, types.UnionType, list, tuple, set, frozenset, dict):
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    return []


def keys_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The keys a table at `loc` may hold, per the model; [] when the path leaves the models."""
    models = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        if not any(part in m.model_fields for m in models):
            continue  # a union member's tag in pydantic's path, not a key of the file
        nested: list[type[BaseModel]] = []
        for m in models:
            field = m.model_fields.get(part)
            if field is not None:
                nested.extend(_models_in(field.annotation))
        if not nested:
            return []
        models = nested
    return sorted({name for m in models for name in m.model_fields})


_TYPES = {
    "string_type": "文本 / text",
    "int_type": "整数 / an integer",
    "int_parsing": "整数 / an integer",
    "int_from_float": "整数 / an integer",
    "float_type": "数字 / a number",
    "float_parsing": "数字 / a number",
    "bool_type": "true 或 false / true or false",
    "bool_parsing": "true 或 false / true or false",
    "list_type": '列表，如 ["a", "b"] / a list, e.g. ["a", "b"]',
    "dict_type": "表（[section] 或 { ... }） / a table",
    "model_type": "表（[section] 或 { ... }） / a table",
    "model_attributes_type": "表（[section] 或 { ... }） / a table",
    "date_type": "日期，如 2026-12-04 / a date, e.g. 2026-12-04",
    "date_parsing": "日期，如 2026-12-04 / a date, e.g. 2026-12-04",
    "date_from_datetime_parsing": "日期，如 2026-12-04 / a date, e.g. 2026-12-04",
    "datetime_type": "日期时间，如 2026-12-04T09:00:00 / a date and time",
    "datetime_parsing": "日期时间，如 2026-12-04T09:00:00 / a date and time",
}


def _expected_choices(ctx: dict[str, Any]) -> list[str]:
    return re.findall(r"'([^']*)'", str(ctx.get("expected", "")))


def explain(err: ErrorDetails, model: type[BaseModel], loc: Loc) -> str:
    """One validation error, said in Chinese and English, with a suggestion where one fits."""
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    value = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        allowed = keys_at(model, loc[:-1])
        known = f"（可用的键 / keys here: {', '.join(allowed)}）" if allowed else ""
        return f"未知的键 / unknown key {key!r}{did_you_mean(key, allowed)}{known}"
    if kind == "missing":
        return "缺少必填的键 / a required key is missing"
    if kind in ("literal_error", "enum"):
        choices = _expected_choices(ctx)
        hint = did_you_mean(str(value), choices) if isinstance(value, str) else ""
        return f"应为以下之一 / expected one of: {ctx.get('expected', '')}，实为 / got {value!r}{hint}"
    if kind in _TYPES:
        return f"应为{_TYPES[kind].split(' / ')[0]} / expected {_TYPES[kind].split(' / ')[1]}，实为 / got {value!r}"
    if kind == "string_pattern_mismatch":
        return f"格式不符 / does not match the expected form {ctx.get('pattern', '')!r}: {value!r}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        sign = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}[
            kind
        ]
        bound = next(iter(ctx.values()), "")
        return f"应 {sign} {bound} / must be {sign} {bound}，实为 / got {value!r}"
    if kind in ("too_short", "string_too_short"):
        least = ctx.get("min_length", 1)
        return f"至少需要 {least} 项（或字符） / needs at least {least} item(s) or character(s)"
    if kind in ("too_long", "string_too_long"):
        most = ctx.get("max_length", "")
        return f"最多 {most} 项（或字符） / at most {most} item(s) or character(s)"
    if kind == "value_error":
        # Our validators already speak both languages; pydantic only prefixes "Value error, ".
        return str(err["msg"]).removeprefix("Value error, ")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        choices = _expected_choices(ctx)
        tag = str(ctx.get("tag", ""))
        return (
            f"kind 应为以下之一 / kind must be one of: {ctx.get('expected_tags', '')}"
            f"{did_you_mean(tag, choices) if tag else ''}"
        )
    return f"取值无效 / invalid value: {err['msg']}"


def validation_problems(
    exc: ValidationError,
    source: TomlSource,
    model: type[BaseModel],
    prefix: Loc = (),
    written: dict[Loc, Loc] | None = None,
) -> list[Problem]:
    """Every error of one validation as a Problem with its line; `written` maps a model's path to
    the path as the file spells it (publisher.toml's `database_url` is written `[database] url`)."""
    problems = []
    for err in exc.errors():
        loc: Loc = tuple(err["loc"])
        shown = (written or {}).get(loc, loc)
        problems.append(source.problem(explain(err, model, loc), (*prefix, *shown)))
    return problems
