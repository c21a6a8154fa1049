"""Newsroom settings: `publisher.toml`, overridable by `PUBLISHER_*` environment variables."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from publisher.errors import ConfigError, Problem

CONFIG_FILE = "publisher.toml"
_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NewsroomInfo(Strict):
    name: str = Field(min_length=1)
    full_name: str | None = None
    city: str = ""
    timezone: str = "Asia/Shanghai"
    language: str = "zh-CN"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"未知时区 / unknown timezone {value!r}") from exc
        return value


class Column(Strict):
    key: str
    name: str = Field(min_length=1)
    description: str = ""

    @field_validator("key")
    @classmethod
    def _ascii_key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError(
                "栏目 key 须为小写 ASCII 单词以连字符连接 / key must be lower-case ASCII words joined by '-'"
            )
        return value


class Paths(Strict):
    content: str = "content"
    schedules: str = "schedules"
    channels: str = "channels"
    var: str = "var"


# Settings that the environment may override. Others (the taxonomy, paths) belong to the newsroom's
# files alone; PUBLISHER_NEWSROOM, for one, names a folder and must not be read as [newsroom].
ENV_OVERRIDABLE = frozenset({"database_url"})


class _EnvOverrides(EnvSettingsSource):
    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name not in ENV_OVERRIDABLE:
            return None, field_name, False
        return super().get_field_value(field, field_name)


class NewsroomSettings(BaseSettings):
    """Everything `publisher.toml` declares; `PUBLISHER_DATABASE_URL` and friends win over the file."""

    model_config = SettingsConfigDict(env_prefix="PUBLISHER_", extra="forbid", frozen=True)

    newsroom: NewsroomInfo
    database_url: str | None = None
    paths: Paths = Paths()
    columns: list[Column] = Field(min_length=1)
    departments: list[str] = Field(min_length=1)
    committees: list[str] = []

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment outranks the file so one checkout can point at PostgreSQL in CI.
        return (_EnvOverrides(settings_cls), init_settings)

    @model_validator(mode="after")
    def _unique_columns(self) -> NewsroomSettings:
        seen: set[str] = set()
        for column in self.columns:
            for ident in (column.key, column.name):
                if ident in seen:
                    raise ValueError(f"栏目重复 / duplicate column {ident!r}")
                seen.add(ident)
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.newsroom.timezone)

    def column(self, name_or_key: str) -> Column | None:
        for column in self.columns:
            if name_or_key in (column.name, column.key):
                return column
        return None


def _toml_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def load_settings(root: Path) -> NewsroomSettings:
    """Read and validate `publisher.toml`; every problem is reported at once as a ConfigError."""
    path = root / CONFIG_FILE
    if not path.is_file():
        raise ConfigError([Problem(CONFIG_FILE, f"找不到配置文件 / no {CONFIG_FILE} in {root}")])
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([Problem(CONFIG_FILE, "文件不是 UTF-8 编码 / file is not UTF-8")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            [Problem(CONFIG_FILE, f"TOML 语法错误 / syntax error: {exc}", line=_toml_line(str(exc)))]
        ) from None
    database = data.pop("database", {})
    if isinstance(database, dict) and "url" in database:
        data["database_url"] = database.pop("url")
    try:
        return NewsroomSettings(**data)
    except ValidationError as exc:
        problems = [
            Problem(CONFIG_FILE, err["msg"], field=".".join(str(part) for part in err["loc"]) or None)
            for err in exc.errors()
        ]
        raise ConfigError(problems) from None
