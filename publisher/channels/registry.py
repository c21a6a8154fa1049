"""Find, validate and list the newsroom's channel files.

Every file `channels/<name>.toml` declares one channel account. The common fields are checked
here; the `[settings]` table is checked by the model its kind registers (the entry-point group
`publisher.channel_kinds`, see `publisher/delivery/kinds.py`), so a new kind touches nothing here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from publisher.channels.kinds import KindSettings
from publisher.delivery.kinds import channel_kind, channel_kinds
from publisher.errors import Problem
from publisher.tomlproblems import TomlSource, did_you_mean, validation_problems

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Limits(BaseModel):
    """Limits that hold across every worker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_in_flight: int | None = Field(default=None, ge=1)  # deliveries performed at once on this channel
    per_day: int | None = Field(default=None, ge=1)  # releases per local day (e.g. WeChat pushes)

    # The channel quota rule, here once: the claims (engine/claims.py) count, these decide.
    def room(self, in_flight: int, done_today: int) -> int | None:
        """How many more releases may start now, given those in flight and those done today in the
        newsroom's day (None: no limit)."""
        room: list[int] = []
        if self.max_in_flight is not None:
            room.append(self.max_in_flight - in_flight)
        if self.per_day is not None:
            room.append(self.per_day - done_today - in_flight)
        return max(0, min(room)) if room else None

    def day_spent(self, done_today: int) -> bool:
        """Whether today's releases are used up: what waits, waits for tomorrow."""
        return self.per_day is not None and done_today >= self.per_day


class ChannelFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    kind: str
    title: str = Field(min_length=1)
    description: str = ""
    enabled: bool = True
    external: bool = True  # leaves the building: the secrecy gate applies
    limits: Limits = Limits()
    settings: dict[str, Any] = {}

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if channel_kind(value) is None:
            raise ValueError(
                f"未知渠道类型 / unknown channel kind {value!r}{did_you_mean(value, channel_kinds())}; "
                f"known: {', '.join(sorted(channel_kinds()))}"
            )
        return value


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    kind: str
    title: str
    description: str
    enabled: bool
    external: bool
    settings: KindSettings
    source: str
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True, slots=True)
class ChannelSet:
    channels: dict[str, Channel]
    problems: list[Problem]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.channels)


def load_channel(path: Path, root: Path) -> Channel | list[Problem]:
    source = path.relative_to(root).as_posix()
    name = path.stem
    if not _NAME.match(name):
        return [
            Problem(
                source,
                "渠道文件名须为小写 ASCII 单词以连字符连接 / file name must be lower-case ASCII words joined by '-'",
            )
        ]
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        return [Problem(source, "文件不是 UTF-8 编码 / file is not UTF-8")]
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        return [
            Problem(source, f"TOML 语法错误 / syntax error: {exc}", line=int(line.group(1)) if line else None)
        ]
    reader = TomlSource(source, text)
    problems: list[Problem] = []
    base: ChannelFile | None = None
    try:
        base = ChannelFile.model_validate(data)
    except ValidationError as exc:
        problems += validation_problems(exc, reader, ChannelFile)
    # The settings are checked even when the common fields are wrong: every problem in one round.
    kind = data.get("kind")
    found = channel_kind(kind) if isinstance(kind, str) else None
    model = found.settings if found is not None else None
    settings: KindSettings | None = None
    raw = data.get("settings", {})
    if model is not None and isinstance(raw, dict):
        try:
            validated = model.model_validate(raw)
            # A kind's settings model says how the kind follows corrections; a third party's must too.
            assert isinstance(validated, KindSettings), f"{kind}: settings model is not a KindSettings"
            settings = validated
        except ValidationError as exc:
            problems += validation_problems(exc, reader, model, prefix=("settings",))
    if problems or base is None or settings is None:
        return problems
    return Channel(
        name=name,
        kind=base.kind,
        title=base.title,
        description=base.description,
        enabled=base.enabled,
        external=base.external,
        settings=settings,
        source=source,
        limits=base.limits,
    )


def load_channels(folder: Path, root: Path) -> ChannelSet:
    channels: dict[str, Channel] = {}
    problems: list[Problem] = []
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            loaded = load_channel(path, root)
            if isinstance(loaded, Channel):
                channels[loaded.name] = loaded
            else:
                problems.extend(loaded)
    return ChannelSet(channels=channels, problems=problems)
