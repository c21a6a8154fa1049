"""Settings models of each channel kind (the `[settings]` table of a channel file).

These are the fields the foundation knows; each channel's own issue widens its model. Secrets
are never written here: a field ending in `_env` names the environment variable that holds one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class KindSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebsiteSettings(KindSettings):
    base_url: str = Field(pattern=r"^https?://")
    output: str = "public"
    page_size: int = Field(default=20, ge=1, le=200)


class FeedSettings(KindSettings):
    site: str = Field(description="the website channel whose pages the feed links to")
    formats: list[str] = ["rss", "atom", "json"]
    items: int = Field(default=30, ge=1, le=500)
    per_column: bool = True


class WechatSettings(KindSettings):
    app_id: str
    app_secret_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    api_base: str = Field(default="https://api.weixin.qq.com", pattern=r"^https?://")
    sandbox: bool = False
    pushes_per_day: int = Field(default=1, ge=1)


class PartnerSettings(KindSettings):
    outlet: str
    mode: list[str] = Field(min_length=1)
    endpoint: str | None = Field(default=None, pattern=r"^https?://")
    secret_env: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$")
    columns: list[str] = []
    full_text: bool = True
    trusted_for_embargo: bool = False


class SinkSettings(KindSettings):
    """A webhook that receives a JSON envelope per delivery, deduplicated by Idempotency-Key."""

    url: str = Field(pattern=r"^https?://")


KIND_SETTINGS: dict[str, type[KindSettings]] = {
    "sink": SinkSettings,
    "website": WebsiteSettings,
    "feed": FeedSettings,
    "wechat": WechatSettings,
    "partner": PartnerSettings,
}
