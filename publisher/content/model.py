"""The article's front matter as a validated model, and its canonical (normalised) form."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from publisher.consultation.declare import ConsultationDecl
from publisher.tomlproblems import did_you_mean

# long_image: the article is told as a long image (长图); WeChat posts the image, the website shows
# it with the full text beneath (publisher/imaging).
Kind = Literal["news", "meeting_report", "interpretation", "feature", "notice", "video", "long_image"]
SeriesStage = Literal["inspection", "inquiry", "evaluation", "rectification", "other"]

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SERIES_ID_RE = SLUG_RE


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """What the newsroom declares, against which front matter is checked."""

    columns: dict[str, str]  # every accepted spelling (name or key) -> column key
    departments: frozenset[str]
    committees: frozenset[str]
    channels: frozenset[str]
    channel_hint: str = field(default="")


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _to_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"不是有效日期（YYYY-MM-DD） / not a valid date: {value!r}") from None
    return value


class Series(_Part):
    id: str
    title: str = Field(min_length=1)
    part: int = Field(ge=1)
    stage: SeriesStage | None = None

    @field_validator("id")
    @classmethod
    def _ascii(cls, value: str) -> str:
        if not SERIES_ID_RE.match(value):
            raise ValueError(
                "系列 id 须为小写 ASCII 单词以连字符连接 / id must be lower-case ASCII words joined by '-'"
            )
        return value


class Meeting(_Part):
    name: str = Field(min_length=1)
    # Optional: read from the name when absent (常务委员会 -> standing committee, else congress).
    body: Literal["standing-committee", "congress"] | None = None
    term: int = Field(ge=1, description="届")
    session: int = Field(ge=1, description="次")
    start: date
    end: date | None = None

    _dates = field_validator("start", "end", mode="before")(_to_date)

    @model_validator(mode="after")
    def _ordered(self) -> Meeting:
        if self.end is not None and self.end < self.start:
            raise ValueError("会议结束日期早于开始日期 / end is before start")
        return self


class Regulation(_Part):
    name: str = Field(min_length=1)
    passed: date | None = None
    approved: date | None = None
    effective: date | None = None

    _dates = field_validator("passed", "approved", "effective", mode="before")(_to_date)


class Video(_Part):
    url: str = Field(pattern=r"^https://")
    duration: str | None = Field(default=None, pattern=r"^(\d{1,2}:)?\d{1,2}:\d{2}$")


class ArticleMeta(BaseModel):
    """Front matter. Validate with `context={"taxonomy": Taxonomy}` to check declared names."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    slug: str | None = None
    date: datetime
    column: str
    kind: Kind
    authors: list[str] = Field(min_length=1)
    editor: str | None = None
    department: str
    committee: str | None = None
    tags: list[str] = []
    summary: str | None = Field(default=None, max_length=300)
    cover: str | None = None
    sensitive: bool = False
    series: Series | None = None
    meeting: Meeting | None = None
    regulation: Regulation | None = None
    video: Video | None = None
    channels: list[str] | None = None
    embargo: datetime | None = None  # not to be published, on any channel, before this moment
    # A long image (长图) rendered from the approved revision and shown with the article: true, or
    # the name of a template in channels/templates/. Kind long_image has one whatever this says.
    long_image: bool | str | None = None
    # A draft open for public comment (征求意见): its window, whether a name is required, the
    # questions asked (publisher/consultation/declare.py); the clauses are the body's 第X条 headings.
    consultation: ConsultationDecl | None = None

    @field_validator("slug")
    @classmethod
    def _slug_ascii(cls, value: str | None) -> str | None:
        if value is not None and not SLUG_RE.match(value):
            raise ValueError(
                "slug 须为小写 ASCII 字母、数字，以连字符连接 / slug must be lower-case ASCII words joined by '-'"
            )
        return value

    @field_validator("date", "embargo", mode="before")
    @classmethod
    def _offset_required(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError as exc:
                if re.match(r"^\d{4}-\d{2}-\d{2}", text):
                    raise ValueError(f"日期不存在 / impossible date {text!r}: {exc}") from None
                raise ValueError(f"不是 ISO 8601 时间 / not an ISO 8601 time: {text!r}") from None
            if parsed.tzinfo is None:
                raise ValueError(
                    f"时间缺少时区偏移（如 +08:00） / time {text!r} has no UTC offset (write e.g. +08:00)"
                )
            return parsed
        return value

    @field_validator("authors", "tags", "channels", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("authors", "tags")
    @classmethod
    def _no_blank_items(cls, value: list[str]) -> list[str]:
        if any(not item for item in value):
            raise ValueError("列表中有空项 / the list has an empty item")
        return value

    @field_validator("column")
    @classmethod
    def _known_column(cls, value: str, info: ValidationInfo) -> str:
        taxonomy = _taxonomy(info)
        if taxonomy is None:
            return value
        key = taxonomy.columns.get(value)
        if key is None:
            known = "、".join(sorted({k for k in taxonomy.columns if not k.isascii()}))
            hint = did_you_mean(value, taxonomy.columns)
            raise ValueError(f"未知栏目 / unknown column {value!r}{hint}; 可用栏目 / declared: {known}")
        return key

    @field_validator("department")
    @classmethod
    def _known_department(cls, value: str, info: ValidationInfo) -> str:
        taxonomy = _taxonomy(info)
        if taxonomy is not None and value not in taxonomy.departments:
            hint = did_you_mean(value, taxonomy.departments)
            raise ValueError(f"未知部门 / unknown department {value!r}{hint} (publisher.toml: departments)")
        return value

    @field_validator("committee")
    @classmethod
    def _known_committee(cls, value: str | None, info: ValidationInfo) -> str | None:
        taxonomy = _taxonomy(info)
        if value is not None and taxonomy is not None and value not in taxonomy.committees:
            hint = did_you_mean(value, taxonomy.committees)
            raise ValueError(
                f"未知专门委员会 / unknown committee {value!r}{hint} (publisher.toml: committees)"
            )
        return value

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        taxonomy = _taxonomy(info)
        if value is None or taxonomy is None:
            return value
        unknown = [name for name in value if name not in taxonomy.channels]
        if unknown:
            known = ", ".join(sorted(taxonomy.channels)) or "(none)"
            hint = did_you_mean(unknown[0], taxonomy.channels)
            raise ValueError(
                f"未知渠道 / unknown channel {', '.join(unknown)}{hint}; channels/ declares: {known}"
            )
        return value

    def canonical(self, slug: str) -> dict[str, Any]:
        """The normalised front matter that a revision hashes: UTC time, no empty optionals."""
        data = self.model_dump(mode="json", exclude_none=True)
        data["slug"] = slug
        for name in ("date", "embargo"):
            moment = getattr(self, name)
            if moment is not None:
                data[name] = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return data


def _taxonomy(info: ValidationInfo) -> Taxonomy | None:
    context = info.context
    if isinstance(context, dict):
        value = context.get("taxonomy")
        if isinstance(value, Taxonomy):
            return value
    return None


def wants_long_image(meta: Mapping[str, Any]) -> bool:
    """Kind long_image, or a long image attached in the front matter (`long_image: true | NAME`):
    the one rule of which articles have a long image, asked by every channel and the site."""
    return meta.get("kind") == "long_image" or bool(meta.get("long_image"))


def channel_allowed(meta: Mapping[str, Any], channel: str) -> bool:
    """The front matter's `channels:` restriction, the one rule every stage asks: an article that
    lists channels goes to those only; one that lists none goes wherever it is scheduled."""
    wanted = meta.get("channels")
    return wanted is None or channel in wanted


def channel_refusal(meta: Mapping[str, Any], channel: str) -> str | None:
    """Why `channel_allowed` says no, in both languages and naming the field; None when it allows."""
    if channel_allowed(meta, channel):
        return None
    listed = ", ".join(meta.get("channels") or ()) or "-"
    return (
        f"稿件的 channels 字段不含渠道 {channel}（只发：{listed}） / "
        f"the article's `channels:` field excludes channel {channel} (only: {listed})"
    )
