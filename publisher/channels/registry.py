"""Find, validate and list the newsroom's channel files.

Every file `channels/<name>.toml` declares one channel account. The common fields are checked
here; the `[settings]` table is checked by the model its kind registers in `kinds.py`, so a new
channel kind adds a model there and nothing else changes.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from publisher.channels.kinds import KIND_SETTINGS, KindSettings
from publisher.errors import Problem
from publisher.tomlproblems import TomlSource, did_you_mean, validation_problems

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Limits(BaseModel):
    """Limits that hold across every worker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_in_flight: int | None = Field(default=None, ge=1)  # deliveries performed at once on this channel
    per_day: int | None = Field(default=None, ge=1)  # releases per local day (e.g. WeChat pushes)


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
        if value not in KIND_SETTINGS:
            raise ValueError(
                f"未知渠道类型 / unknown channel kind {value!r}{did_you_mean(value, KIND_SETTINGS)}; "
                f"known: {', '.join(sorted(KIND_SETTINGS))}"
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
    settings: BaseModel
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
    model = KIND_SETTINGS.get(kind) if isinstance(kind, str) else None
    settings: KindSettings | None = None
    raw = data.get("settings", {})
    if model is not None and isinstance(raw, dict):
        try:
            settings = model.model_validate(raw)
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
