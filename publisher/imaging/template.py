"""Long-image templates: `channels/templates/*.toml` of the newsroom (colours, margins, fonts,
banner, footer lines, the columns each serves). A template's hash is part of every cache key, so a
changed template re-renders what it shaped; a broken template file is a ConfigError naming its
file, line and field, never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from publisher.errors import ConfigError, NotFound, Problem
from publisher.imaging.fonts import Face
from publisher.tomlproblems import TomlSource, did_you_mean, validation_problems

TEMPLATE_FOLDER = "channels/templates"
DEFAULT_NAME = "default"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Colours(_Part):
    # The demo website's palette (publisher/site/static/site.css): restrained red on warm paper.
    background: str = "#fffdf8"
    text: str = "#1f1f1f"
    heading: str = "#7d1212"
    accent: str = "#a61b1b"
    muted: str = "#5c5c5c"
    banner: str = "#a61b1b"
    banner_text: str = "#ffffff"
    quote_background: str = "#f6efe6"
    table_rule: str = "#e2ddd5"
    table_header: str = "#f4ece1"

    @field_validator("*")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _COLOUR.match(value):
            raise ValueError(f"颜色须写作 #RRGGBB / a colour is written #RRGGBB: {value!r}")
        return value


class Fonts(_Part):
    body: Face = Face.SANS
    heading: Face = Face.SERIF
    title: Face = Face.SERIF
    body_size: int = Field(default=34, ge=16, le=72)
    heading_size: int = Field(default=42, ge=16, le=96)
    title_size: int = Field(default=60, ge=20, le=120)
    line_height: float = Field(default=1.8, ge=1.2, le=3.0, description="times the body size")
    paragraph_spacing: float = Field(default=0.9, ge=0, le=4, description="times the body size")


class TemplateFile(_Part):
    """One template file. The file's stem is its name."""

    title: str = ""
    # Column keys (or names) this template is for; "default" serves every other column.
    columns: list[str] = []
    width: int = Field(default=1080, ge=480, le=2160)
    margin: int = Field(default=72, ge=16, le=400, description="left and right, in pixels")
    padding: int = Field(default=64, ge=0, le=400, description="above and below the content")
    banner_text: str = Field(default="{column}", description="{column} is the column's name")
    banner_height: int = Field(default=180, ge=0, le=1000)
    # Newsroom-relative; drawn across the banner, cropped to fill it.
    banner_image: str | None = None
    # Lines under the article: {source}, {editor}, {authors}, {review}, {date}, {url} are filled in.
    footer: list[str] = ["来源：{source}", "责任编辑：{editor}", "{review}"]
    source: str = ""
    review_line: str = "本文经三审三校后发布"
    qr: bool = True
    qr_caption: str = "扫码阅读全文"
    colours: Colours = Colours()
    fonts: Fonts = Fonts()


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    settings: TemplateFile
    banner: bytes | None  # the banner image's bytes, read once: part of the hash

    @property
    def sha256(self) -> str:
        payload = json.dumps(
            {"name": self.name, "settings": self.settings.model_dump(mode="json")},
            sort_keys=True,
            ensure_ascii=False,
        ).encode()
        digest = hashlib.sha256(payload)
        digest.update(self.banner or b"")
        return digest.hexdigest()


BUILTIN = Template(DEFAULT_NAME, TemplateFile(title="默认"), None)


def load_template(path: Path, root: Path) -> Template:
    source = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ConfigError([Problem(source, "文件不是 UTF-8 编码 / file is not UTF-8")]) from None
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise ConfigError(
            [
                Problem(
                    source, f"TOML 语法错误 / syntax error: {exc}", line=int(line.group(1)) if line else None
                )
            ]
        ) from None
    try:
        settings = TemplateFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, TomlSource(source, text), TemplateFile)) from None
    banner = None
    if settings.banner_image:
        image = root / settings.banner_image
        if not image.is_file():
            raise ConfigError(
                [
                    Problem(
                        source,
                        f"找不到横幅图片 / banner image not found: {settings.banner_image}",
                        "banner_image",
                    )
                ]
            )
        banner = image.read_bytes()
    return Template(path.stem, settings, banner)


def templates(root: Path) -> dict[str, Template]:
    """Every template of the newsroom, read again only when a template file changed (a site
    build asks once per article). A banner image replaced in place is seen once its template
    file is touched, or by the next process."""
    folder = root / TEMPLATE_FOLDER
    paths = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    return dict(_read_templates(root, stamp))


@lru_cache(maxsize=32)
def _read_templates(root: Path, stamp: tuple[tuple[str, int, int], ...]) -> tuple[tuple[str, Template], ...]:
    found = {DEFAULT_NAME: BUILTIN}
    for name, _mtime, _size in stamp:
        path = root / TEMPLATE_FOLDER / name
        found[path.stem] = load_template(path, root)
    return tuple(found.items())


def template_problems(root: Path) -> list[Problem]:
    """Every problem of every template file, for `publisher check` (one round, all files)."""
    folder = root / TEMPLATE_FOLDER
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        try:
            load_template(path, root)
        except ConfigError as exc:
            problems += exc.problems
    return problems


def choose(root: Path, column_keys: tuple[str, ...], name: str | None = None) -> Template:
    """The named template, or the first whose columns include the article's, or the default."""
    found = templates(root)
    if name is not None:
        if name not in found:
            raise NotFound(
                f"没有长图模板 {name!r}{did_you_mean(name, found)} / no template {name!r}; "
                f"可用 / known: {', '.join(sorted(found))}"
            )
        return found[name]
    for template in found.values():
        if any(key in template.settings.columns for key in column_keys):
            return template
    return found[DEFAULT_NAME]
