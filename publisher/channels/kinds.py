"""Settings models of each channel kind (the `[settings]` table of a channel file).

These are the fields the foundation knows; each channel's own issue widens its model. Secrets
are never written here: a field ending in `_env` names the environment variable that holds one.
Each model is bound to its kind by a `ChannelKind` at the end, which pyproject.toml registers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from publisher.delivery.kinds import ChannelKind

_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


# What a channel does with an approved correction of an article it released (engine/corrections.py):
# "replace" sends the corrected revision in place of the old one (the site rebuilds the page with a
# 更正 note); "note" leaves what was published and lists it in `publisher articles`; "republish"
# takes the old one down and publishes the corrected one.
CorrectionPolicy = Literal["replace", "note", "republish"]

# WeChat takes body images (a long image's segments among them) as JPEG or PNG under 1 MB.
WECHAT_BODY_IMAGE_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """What a channel takes as one image of a long image (publisher/imaging): the tallest
    segment, the most bytes, the format. None: no limit."""

    max_height: int | None = None
    max_bytes: int | None = None
    format: Literal["PNG", "JPEG"] = "PNG"


class KindSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def correction_policy(self) -> CorrectionPolicy | None:
        """None: the kind follows corrections itself (partners: supply/service.py) or not at all."""
        return None

    def image_limits(self) -> ImageLimits | None:
        """How the kind shows long images (长图); None: it shows none."""
        return None

    def generates_cards(self) -> bool:
        """Whether an article without a cover gets a generated cover or share card here."""
        return False


class WebsiteSettings(KindSettings):
    base_url: str = Field(pattern=r"^https?://")
    # "approved": an article goes live on the next build after its final approval.
    # "scheduled": only when its release on this channel (a delivery) falls due; a build in between
    # never puts it up early.
    release: Literal["approved", "scheduled"] = "approved"
    output: str = "public"
    page_size: int = Field(default=20, ge=1, le=200)
    # An article without a cover gets an Open Graph image (1200x630) drawn from its title and column.
    og_image: bool = True

    def correction_policy(self) -> CorrectionPolicy | None:
        return "replace"

    def image_limits(self) -> ImageLimits | None:
        return ImageLimits(format="PNG")  # one image, as tall as it is; text stays sharp in PNG

    def generates_cards(self) -> bool:
        return self.og_image


class FeedSettings(KindSettings):
    site: str = Field(description="the website channel whose pages the feed links to")
    formats: list[str] = ["rss", "atom", "json"]
    items: int = Field(default=30, ge=1, le=500)
    per_column: bool = True

    def correction_policy(self) -> CorrectionPolicy | None:
        return "replace"


class WechatSettings(KindSettings):
    """One WeChat official account (公众号): credentials, API base, quotas and publishing behaviour."""

    app_id: str
    app_secret_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    api_base: str = Field(default="https://api.weixin.qq.com", pattern=r"^https?://")
    sandbox: bool = False
    # Quotas. Free-publish posts a day; an account that also mass-sends to followers
    # (message/mass/sendall) has one mass send a day, so it is held to one push a day.
    pushes_per_day: int = Field(default=1, ge=1, le=100)
    mass_send: bool = False
    api_calls_per_minute: int = Field(default=300, ge=1)
    # "HH:MM-HH:MM" in the newsroom's timezone; a window may cross midnight ("22:00-07:00").
    quiet_hours: list[str] = []
    max_articles: int = Field(default=8, ge=1, le=8)
    # draft/add needs a cover for every article; used when an article has none (newsroom-relative).
    default_cover: str | None = None
    # An article without a cover gets its covers (2.35:1 and 1:1) drawn from its title and column;
    # false: default_cover stands in, as before.
    generated_cover: bool = True
    # A long image goes up as segments no taller than this (pixels), each a JPEG under 1 MB.
    long_image_height: int = Field(default=4000, ge=1000, le=20000)
    # 阅读原文: "{slug}" is replaced by the article's slug.
    source_url: str | None = Field(default=None, pattern=r"^https?://")
    open_comment: bool = False
    # A PUBLISHJOBFINISH callback reaches the service; polling still runs as the fallback.
    callback: bool = False
    timeout_seconds: float = Field(default=15.0, gt=0)
    poll_seconds: float = Field(default=5.0, gt=0)
    publish_wait_seconds: float = Field(default=900.0, ge=0)
    reconcile_seconds: float = Field(default=120.0, ge=0)
    backoff_seconds: float = Field(default=60.0, ge=0)
    # No longer used (45009 is a daily quota and defers to the next day); accepted so that
    # existing channel files still load.
    backoff_attempts: int = Field(default=3, ge=0, le=10)
    # The API cannot edit a published post. "note": leave it, listed in `publisher articles` as
    # showing the old revision; "republish": retract the post and publish the corrected article.
    on_correction: Literal["note", "republish"] = "note"

    def correction_policy(self) -> CorrectionPolicy | None:
        return self.on_correction

    def image_limits(self) -> ImageLimits | None:
        return ImageLimits(self.long_image_height, WECHAT_BODY_IMAGE_MAX_BYTES, "JPEG")

    def generates_cards(self) -> bool:
        return self.generated_cover

    @property
    def push_limit(self) -> int:
        """Pushes a day: an account that also mass-sends has one (its mass send)."""
        return 1 if self.mass_send else self.pushes_per_day

    @field_validator("quiet_hours")
    @classmethod
    def _windows(cls, value: list[str]) -> list[str]:
        for window in value:
            if not _WINDOW.match(window):
                raise ValueError(
                    f"静默时段格式应为 HH:MM-HH:MM / quiet hours must read HH:MM-HH:MM: {window!r}"
                )
        return value

    @model_validator(mode="after")
    def _mass_send_once(self) -> WechatSettings:
        if self.mass_send and self.pushes_per_day > 1:
            raise ValueError(
                "群发账号每天只能推送一次，pushes_per_day 须为 1 / an account that mass-sends pushes once a day"
            )
        return self


class PartnerSettings(KindSettings):
    """A partner outlet we supply manuscripts to (供稿): what it takes, and how it receives it."""

    outlet: str
    mode: list[Literal["pull", "push"]] = Field(min_length=1)
    # The website channel whose article URLs and images the packages link to.
    site: str = "website"
    # What the partner takes; an empty list takes everything. Tags match if any one matches.
    columns: list[str] = []
    tags: list[str] = []
    kinds: list[str] = []
    full_text: bool = True
    # Images by URL (the website's media), attached (data: URIs inside the signed package), or none.
    images: Literal["url", "attached", "none"] = "url"
    image_width: int = Field(default=1520, ge=64, le=4096)
    # Wire practice: a trusted partner gets embargoed items early, marked with the embargo time.
    trusted_for_embargo: bool = False
    # push
    endpoint: str | None = Field(default=None, pattern=r"^https?://")
    secret_env: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$")
    timeout_seconds: float = Field(default=10, gt=0, le=120)
    replay_window_seconds: int = Field(default=300, ge=10, le=3600)
    # pull
    formats: list[Literal["atom", "rss", "json", "ninjs"]] = ["ninjs", "atom", "rss", "json"]
    feed_items: int = Field(default=50, ge=1, le=500)

    @model_validator(mode="after")
    def _push_needs_endpoint_and_secret(self) -> PartnerSettings:
        if "push" in self.mode and (self.endpoint is None or self.secret_env is None):
            raise ValueError(
                "推送供稿须填写 endpoint 与 secret_env / push mode needs endpoint and secret_env"
            )
        if len(set(self.mode)) != len(self.mode):
            raise ValueError("mode 有重复项 / mode lists a mode twice")
        return self


class SinkSettings(KindSettings):
    """A webhook that receives a JSON envelope per delivery, deduplicated by Idempotency-Key."""

    url: str = Field(pattern=r"^https?://")


# Registered as entry points of the group `publisher.channel_kinds` (pyproject.toml); the engine
# finds them through `publisher.delivery.kinds`, never through this module.
WEBSITE = ChannelKind(
    "website", WebsiteSettings, "publisher.engine.adapters:WebsitePerformer", shows_undelivered=True
)
FEED = ChannelKind("feed", FeedSettings, "publisher.engine.adapters:WebsitePerformer", shows_undelivered=True)
WECHAT = ChannelKind("wechat", WechatSettings, "publisher.engine.wechat_performer:WechatPerformer")
PARTNER = ChannelKind("partner", PartnerSettings, "publisher.supply.performer:PartnerPerformer")
SINK = ChannelKind("sink", SinkSettings, "publisher.engine.performers:sink_performer")
