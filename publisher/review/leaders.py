"""Leaders' names (严重错别字): review/leaders.toml lists each leader's name, titles and the wrong
forms known to slip in; a text that writes a wrong form, or puts another leader's title before a
name, is a finding.

The checklist counts a leader's name written wrong as a single-veto error, so the list is the
newsroom's to keep: the inspection re-reads everything live against today's list, and review can
ask the same function. Text is read through `normalize` like every other check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pydantic import Field

from publisher.review.checks import Finding, Subject, _load, _Strict
from publisher.review.normalize import fold, rendered_blocks, shown_fields, source_view_text


class Leader(_Strict):
    name: str = Field(min_length=2)
    titles: list[str] = Field(default_factory=list)
    wrong: list[str] = Field(default_factory=list)  # known misspellings of the name


class LeaderList(_Strict):
    leader: list[Leader] = Field(default_factory=list)


def load_leaders(review_dir: Path, root: Path) -> LeaderList:
    result: LeaderList = _load(review_dir / "leaders.toml", root, LeaderList)
    return result


@dataclass(frozen=True)
class _Matchers:
    leaders: LeaderList

    @cached_property
    def wrong(self) -> list[tuple[Leader, str]]:
        return [(leader, fold(w)) for leader in self.leaders.leader for w in leader.wrong]

    @cached_property
    def titled(self) -> re.Pattern[str] | None:
        """Any known title directly before any leader's name (longest title first)."""
        titles = sorted(
            {fold(t) for leader in self.leaders.leader for t in leader.titles}, key=len, reverse=True
        )
        names = sorted({fold(leader.name) for leader in self.leaders.leader}, key=len, reverse=True)
        if not titles or not names:
            return None
        return re.compile(f"({'|'.join(map(re.escape, titles))})({'|'.join(map(re.escape, names))})")


def _texts(subject: Subject) -> list[tuple[int | None, str]]:
    texts: list[tuple[int | None, str]] = [(None, fold(text)) for _, text in shown_fields(subject.meta)]
    texts += [(n, fold(source_view_text(line))) for n, line in enumerate(subject.body.split("\n"), 1)]
    texts += [(None, fold(block)) for block in rendered_blocks(subject.body)]
    return texts


def check_leaders(subject: Subject, leaders: LeaderList) -> list[Finding]:
    """Wrong forms of a leader's name, and a name under a title that is not that leader's."""
    if not leaders.leader:
        return []
    matchers = _Matchers(leaders)
    by_name = {fold(leader.name): leader for leader in leaders.leader}
    found: dict[tuple[str, str], int | None] = {}
    for line, text in _texts(subject):
        for leader, wrong in matchers.wrong:
            if wrong in text:
                key = (f"name:{leader.name}", f"「{wrong}」应为「{leader.name}」")
                if found.get(key) is None:
                    found[key] = line
        if matchers.titled is not None:
            for match in matchers.titled.finditer(text):
                leader = by_name[match.group(2)]
                if match.group(1) not in {fold(t) for t in leader.titles}:
                    key = (
                        f"title:{leader.name}",
                        f"「{match.group(0)}」：{leader.name}的职务为「{'、'.join(leader.titles)}」",
                    )
                    if found.get(key) is None:
                        found[key] = line
    return [
        Finding(
            "leaders",
            "block",
            code,
            f"领导同志姓名或职务有误{what} / a leader's name or title is written wrong",
            line,
        )
        for (code, what), line in found.items()
    ]
