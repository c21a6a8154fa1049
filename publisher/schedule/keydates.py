"""Key dates and the expressions that anchor on them (`宪法日 - 7d`, `sc-29.end + 1d`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from publisher.errors import PublisherError
from publisher.tomlproblems import did_you_mean

_OFFSET = re.compile(r"^(?P<ref>.+?)\s*(?P<sign>[+-])\s*(?P<n>\d+)\s*(?P<unit>d|w|天|周)$")
_EDGE = re.compile(r"^(?P<ref>.+)\.(?P<edge>start|end)$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RefError(PublisherError):
    """A date expression that cannot be resolved; the loader turns it into a Problem."""


@dataclass(frozen=True, slots=True)
class KeyDate:
    key: str
    name: str
    kind: str
    aliases: tuple[str, ...] = ()
    # Dated key dates have start/end; annual ones have month-days and need a year to become dates.
    start: date | None = None
    end: date | None = None
    annual_start: tuple[int, int] | None = None
    annual_end: tuple[int, int] | None = None
    meeting: str | None = None
    source: str = ""

    @property
    def annual(self) -> bool:
        return self.annual_start is not None

    def span(self, year: int | None) -> tuple[date, date]:
        if self.start is not None:
            return self.start, self.end or self.start
        assert self.annual_start is not None
        if year is None:
            raise RefError(
                f"「{self.name}」每年都有，战役须写明 year / {self.key!r} is annual: set `year` in the campaign"
            )
        first = _month_day(year, self.annual_start)
        if self.annual_end is None:
            return first, first
        last = _month_day(year, self.annual_end)
        if last < first:  # a span across New Year, e.g. 12-28 .. 01-03
            last = _month_day(year + 1, self.annual_end)
        return first, last


def _month_day(year: int, md: tuple[int, int]) -> date:
    try:
        return date(year, *md)
    except ValueError:  # 02-29 in a common year
        return date(year, md[0], md[1] - 1)


class KeyDateIndex:
    """Key dates by key, name and alias."""

    def __init__(self) -> None:
        self.by_key: dict[str, KeyDate] = {}
        self._names: dict[str, KeyDate] = {}

    def add(self, item: KeyDate) -> list[str]:
        """Index `item`; return the identifiers another key date already uses."""
        clashes = []
        for ident in dict.fromkeys((item.key, item.name, *item.aliases)):
            other = self._names.get(ident)
            if other is not None and other.key != item.key:
                clashes.append(ident)
            else:
                self._names[ident] = item
        if item.key not in self.by_key:
            self.by_key[item.key] = item
        return clashes

    def find(self, ident: str) -> KeyDate | None:
        return self._names.get(ident.strip())

    def resolve(self, expression: date | str, year: int | None) -> date:
        """A date literal, `REF`, `REF.start`, `REF.end`, each optionally `± N d|w` (天/周 too)."""
        if isinstance(expression, date):
            return expression
        text = expression.strip()
        if _ISO.match(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise RefError(f"日期不存在 / no such date: {text}") from None
        # The whole text first: keys such as `sc-29` contain what looks like an offset.
        found = self._anchor(text, year)
        if found is not None:
            return found
        match = _OFFSET.match(text)
        if match:
            base = self._anchor(match.group("ref"), year)
            if base is not None:
                days = int(match.group("n")) * (7 if match.group("unit") in ("w", "周") else 1)
                return base + timedelta(days=days if match.group("sign") == "+" else -days)
        ref = match.group("ref").strip() if match else text.split(".")[0].strip()
        raise RefError(
            f"未知的关键日期 / unknown key date in {text!r}{did_you_mean(ref, self._names)}: "
            "use a key, name or alias from key-dates.toml "
            "or a meeting id from meetings.toml, e.g. `宪法日 - 7d` or `sc-29.end + 1d`"
        )

    def _anchor(self, text: str, year: int | None) -> date | None:
        text = text.strip()
        item = self.find(text)
        edge = "start"
        if item is None:
            match = _EDGE.match(text)
            if match:
                item = self.find(match.group("ref"))
                edge = match.group("edge")
        if item is None:
            return None
        first, last = item.span(year)
        return first if edge == "start" else last
