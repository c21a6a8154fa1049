"""The files that declare a printed bulletin and its issues, as staff write them.

    bulletins/gazette.toml         the publication: masthead, who prints it, its permit, page size
    bulletins/gazette/2026-06.toml one issue (期): its number, date and sections of article slugs

A bulletin is not a channel: nothing is released to it article by article. An issue is compiled
from articles that already passed review, typeset and handed to the printer as one PDF.
Every problem names the file, the line and the key, as the other settings files do.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from publisher.errors import Problem
from publisher.tomlproblems import TomlSource, validation_problems

# Lower-case ASCII words joined by '-', as channel files are named: the key is in paths and audit.
_KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# An issue file is named by year and number, so the folder lists issues in order: 2026-06.toml.
_ISSUE_KEY = re.compile(r"^\d{4}-\d{2,3}$")

PageSize = Literal["A4", "B5", "16K"]
# Trim sizes in millimetres. 16K is the large 16-mo (185 x 260 mm) Chinese bulletins use.
PAGE_MM: dict[str, tuple[float, float]] = {"A4": (210, 297), "B5": (176, 250), "16K": (185, 260)}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BulletinFile(_Strict):
    title: str = Field(min_length=1, max_length=40)  # the masthead, set large on the cover
    short_title: str = Field(min_length=1, max_length=20)  # the running head of every page
    publisher: str = Field(min_length=1)  # 编印单位
    # 内部资料准印证号: internal materials are printed under a permit; its number is on the cover.
    permit: str = ""
    page: PageSize = "A4"  # trim size: A4, B5, or 16K (185 x 260 mm)
    masthead_colour: str = Field(default="#C00000", pattern=r"^#[0-9A-Fa-f]{6}$")  # the red masthead
    enabled: bool = True  # false: no issue of it is built


class Section(_Strict):
    title: str = Field(min_length=1, max_length=20)  # 栏目, as the contents list it
    articles: list[str] = Field(min_length=1)  # slugs, in the order they are printed

    @field_validator("articles")
    @classmethod
    def _distinct(cls, slugs: list[str]) -> list[str]:
        seen: set[str] = set()
        for slug in slugs:
            if slug in seen:
                raise ValueError(f"稿件 {slug} 列了两次 / {slug} is listed twice")
            seen.add(slug)
        return slugs


class IssueFile(_Strict):
    number: str = Field(min_length=1, max_length=30)  # 期号: 2026年第6期
    serial: int | None = Field(default=None, ge=1)  # 总第86期
    date: date  # the issue's date, printed on the cover and in the running head
    sections: list[Section] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Bulletin:
    key: str
    source: str
    settings: BulletinFile


@dataclass(frozen=True, slots=True)
class Issue:
    bulletin: Bulletin
    key: str  # the file's stem: 2026-06
    source: str  # the file, relative to the newsroom
    text: str  # for the lines that problems point at
    settings: IssueFile

    def locate(self, reason: str, loc: tuple[str | int, ...]) -> Problem:
        return TomlSource(self.source, self.text).problem(reason, loc)


def _read(path: Path, root: Path) -> tuple[str, dict[str, object]] | Problem:
    source = path.relative_to(root).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
        return text, tomllib.loads(text)
    except FileNotFoundError:
        return Problem(source, "文件不存在 / no such file")
    except UnicodeDecodeError:
        return Problem(source, "文件不是 UTF-8 编码 / file is not UTF-8")
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        return Problem(
            source, f"TOML 语法错误 / syntax error: {exc}", line=int(line.group(1)) if line else None
        )


def load_bulletin(path: Path, root: Path) -> Bulletin | list[Problem]:
    source = path.relative_to(root).as_posix()
    if not _KEY.match(path.stem):
        return [
            Problem(
                source,
                "公报文件名须为小写 ASCII 单词以连字符连接 / file name must be lower-case ASCII words joined by '-'",
            )
        ]
    read = _read(path, root)
    if isinstance(read, Problem):
        return [read]
    text, data = read
    try:
        return Bulletin(path.stem, source, BulletinFile.model_validate(data))
    except ValidationError as exc:
        return validation_problems(exc, TomlSource(source, text), BulletinFile)


def load_bulletins(folder: Path, root: Path) -> tuple[dict[str, Bulletin], list[Problem]]:
    found: dict[str, Bulletin] = {}
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        loaded = load_bulletin(path, root)
        if isinstance(loaded, Bulletin):
            found[loaded.key] = loaded
        else:
            problems += loaded
    return found, problems


def load_issue(path: Path, root: Path, bulletins: dict[str, Bulletin]) -> Issue | list[Problem]:
    """An issue file lies in the folder named after its bulletin: bulletins/gazette/2026-06.toml."""
    path = path if path.is_absolute() else root / path
    read = read_issue(path, root)
    if isinstance(read, list):
        return read
    source, text, settings = read
    bulletin = bulletins.get(path.parent.name)
    if bulletin is None:
        known = "、".join(sorted(bulletins)) or "（无 / none）"
        return [
            Problem(
                source,
                f"所在文件夹 {path.parent.name} 不是已声明的公报（{path.parent.parent.name}/{path.parent.name}.toml），"
                f"已有：{known} / the folder names no declared bulletin; declared: {known}",
            )
        ]
    return Issue(bulletin, path.stem, source, text, settings)


def read_issue(path: Path, root: Path) -> tuple[str, str, IssueFile] | list[Problem]:
    """An issue file's name and contents, checked on their own (the bulletin it belongs to aside)."""
    try:
        source = path.resolve().relative_to(root).as_posix()
    except ValueError:
        return [
            Problem(str(path), "期刊文件须在新闻室文件夹内 / the issue file must lie inside the newsroom")
        ]
    if not _ISSUE_KEY.match(path.stem):
        return [Problem(source, "期刊文件名须为 年-期号，如 2026-06.toml / name an issue file YEAR-NN.toml")]
    read = _read(path.resolve(), root)
    if isinstance(read, Problem):
        return [read]
    text, data = read
    try:
        return source, text, IssueFile.model_validate(data)
    except ValidationError as exc:
        return validation_problems(exc, TomlSource(source, text), IssueFile)


def issue_files(folder: Path, bulletin: Bulletin) -> list[Path]:
    return sorted((folder / bulletin.key).glob("*.toml"))


def check_bulletins(folder: Path, root: Path, channel_names: frozenset[str]) -> list[Problem]:
    """Every bulletin and issue file read as a build would read it (`publisher check`); the articles
    an issue lists are checked against the store when it is built (`publisher bulletin check`)."""
    bulletins, problems = load_bulletins(folder, root)
    for key, bulletin in bulletins.items():
        if key in channel_names:
            problems.append(
                Problem(
                    bulletin.source,
                    f"与 channels/{key}.toml 重名：稿件的 channels 字段无法区分 / a channel has the same name",
                )
            )
    # Issues are checked under every bulletin file, a broken one too: one round shows every problem.
    for declared in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        for path in sorted((folder / declared.stem).glob("*.toml")):
            read = read_issue(path, root)
            if isinstance(read, list):
                problems += read
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []:
        if not (folder / f"{sub.name}.toml").is_file() and any(sub.glob("*.toml")):
            problems.append(
                Problem(
                    f"{folder.relative_to(root).as_posix()}/{sub.name}",
                    f"有期刊文件但没有 {sub.name}.toml 声明这份公报 / issues for a bulletin that is not declared",
                )
            )
    return problems
