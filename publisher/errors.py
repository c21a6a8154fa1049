"""Domain errors and the Problem record every validator reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one input, precise enough for staff to fix it without guessing."""

    file: str
    reason: str
    field: str | None = None
    line: int | None = None
    severity: str = "error"  # "error" blocks; "warning" is reported and passes

    def location(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f" [{self.field}]"
        return where

    def __str__(self) -> str:
        return f"{self.location()}: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "reason": self.reason,
            "severity": self.severity,
        }


class PublisherError(Exception):
    """A domain error with a message fit to show staff."""


class ConfigError(PublisherError):
    """The newsroom's own settings are unusable."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class NotFound(PublisherError):
    pass


def display_path(path: Path, root: Path) -> str:
    """A path as staff see it: relative to the newsroom when it lies inside."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
