"""`publisher check` as one service call: every settings, channel, schedule, review and content file.

A staff member fixing a new newsroom should see every mistake in one round. A broken
publisher.toml would otherwise hide the rest, so its broken entries are cut out (see
`config.salvage_settings`) and everything else is still checked against what remains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from publisher import ingest
from publisher.bulletin.definitions import check_bulletins
from publisher.channels.registry import load_channels
from publisher.config import CONFIG_FILE, Paths, salvage_settings
from publisher.errors import ConfigError, Problem
from publisher.imaging.template import template_problems
from publisher.inspection.settings import load_inspection
from publisher.newsroom import Newsroom
from publisher.review.checks import check_lists
from publisher.review.leaders import load_leaders


@dataclass(frozen=True, slots=True)
class Checkup:
    problems: list[Problem]
    report: ingest.IngestReport | None  # None when publisher.toml could not be salvaged
    channels: int

    @property
    def files_with_errors(self) -> int:
        """How many files have a blocking problem: what a summary counts, warnings aside."""
        return len({p.file for p in self.problems if p.severity != "warning"})

    @property
    def settings_broken(self) -> bool:
        return self.report is None or any(p.file == CONFIG_FILE for p in self.problems)

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = dict(self.report.as_dict()) if self.report is not None else {}
        data["problems"] = [p.as_dict() for p in self.problems]
        data["files_with_errors"] = self.files_with_errors
        return data


def checkup(root: Path, progress: Callable[[int], None] | None = None) -> Checkup:
    settings, problems = salvage_settings(root)
    if settings is None:
        found = load_channels(root / Paths().channels, root)
        return Checkup(problems + found.problems, None, len(found.channels))
    room = Newsroom(root, settings)
    report = ingest.check(room, progress=progress)
    problems += report.problems
    review_dir = room.root / settings.paths.review
    problems += check_lists(review_dir, room.root)
    problems += template_problems(room.root)
    problems += check_bulletins(room.root / settings.paths.bulletins, room.root, room.channels.names)
    # The inspection's own files: its rules and thresholds, and the leaders' names.
    for load in (load_inspection, load_leaders):
        try:
            load(review_dir, room.root)
        except ConfigError as exc:
            problems += exc.problems
    return Checkup(problems, report, len(room.channels.channels))
