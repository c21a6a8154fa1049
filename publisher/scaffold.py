"""`publisher init`: a complete newsroom that passes `check` and can publish from the first minute.

A new user should not have to copy the demo to get a website channel, key dates, users or review
lists; everything here is generated from the templates in `scaffold_templates`, filled with the
answers (name, city, domain, timezone), so nothing depends on a checkout of the repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PIL import Image

from publisher import scaffold_templates as t
from publisher.config import CONFIG_FILE
from publisher.errors import PublisherError

GITIGNORE = "/var/\n/public/\n"
_DOMAIN = re.compile(r"^[A-Za-z0-9.-]+(:\d+)?$")


@dataclass(frozen=True, slots=True)
class Answers:
    """What `init` asks; every template field is derived from these."""

    name: str
    city: str = "示例市"
    domain: str = "www.example-rd.gov.cn"
    timezone: str = "Asia/Shanghai"

    def check(self) -> None:
        if not self.name.strip():
            raise PublisherError("新闻室名称不能为空 / the newsroom name must not be empty (--name)")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise PublisherError(
                f"未知时区 / unknown timezone {self.timezone!r}; e.g. --timezone Asia/Shanghai"
            ) from None
        if not _DOMAIN.match(self.domain):
            raise PublisherError(
                f"域名格式不对 / not a domain name: {self.domain!r}; e.g. --domain www.rd.example.gov.cn"
            )


def _toml_text(value: str) -> str:
    """A value put inside a basic TOML string: quotes and backslashes cannot break out of it."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _files(answers: Answers, now: datetime) -> dict[str, str]:
    city = _toml_text(answers.city)
    name = _toml_text(answers.name)
    fields = {
        "name": name,
        "full_name": f"{city}人民代表大会常务委员会",
        "city": city,
        "domain": answers.domain,
        "timezone": answers.timezone,
        "next_year": str(now.year + 1),
        "npc_session": str(now.year + 1 - 2023),  # the 14th NPC's first session sat in 2023
    }
    columns = "\n".join(
        t.COLUMN_ENTRY.format(key=c.key, name=c.name, description=c.description) for c in t.COLUMNS
    )
    files = {
        CONFIG_FILE: t.PUBLISHER_TOML.format(columns=columns, **fields),
        "README.md": t.README_MD.format(**fields),
        ".gitignore": GITIGNORE,
        "channels/website.toml": t.WEBSITE_TOML.format(**fields),
        "channels/site-feed.toml": t.FEED_TOML.format(**fields),
        "channels/wechat.toml": t.WECHAT_TOML.format(**fields),
        "channels/templates/default.toml": t.LONG_IMAGE_TEMPLATE_TOML.format(**fields),
        "channels/partner-push.toml": t.PARTNER_PUSH_TOML,
        "channels/partner-pull.toml": t.PARTNER_PULL_TOML,
        "schedules/key-dates.toml": t.KEY_DATES_TOML.format(**fields),
        "schedules/meetings.toml": t.MEETINGS_TOML.format(**fields),
        "schedules/newsroom.toml": t.RULES_TOML.format(**fields),
        "review/secrecy.toml": t.SECRECY_TOML,
        "review/terminology.toml": t.TERMINOLOGY_TOML.format(**fields),
        "review/inspection.toml": t.INSPECTION_TOML,
        "review/leaders.toml": t.LEADERS_TOML,
        "bulletins/gazette.toml": t.BULLETIN_TOML.format(**fields),
    }
    today = now.date()
    for column in t.COLUMNS:
        files[f"schedules/campaigns/{column.key}.toml"] = t.CAMPAIGN_TOML.format(
            column_name=column.name,
            description=column.description,
            key=column.key,
            start=today.isoformat(),
            end=(today + timedelta(days=365)).isoformat(),
            weekday=column.weekday,
            time=column.time,
        )
        # An hour back, so a release scheduled "now" is never before the article's own date.
        written = (now - timedelta(hours=1)).replace(microsecond=0)
        files[f"content/{column.key}/welcome-{column.key}.md"] = t.ARTICLE_MD.format(
            title=column.title.format(city=answers.city),
            key=column.key,
            date=written.isoformat(),
            department=column.department,
            body=column.body.format(city=answers.city),
        )
    return files


def _cover(path: Path) -> None:
    """WeChat's draft needs a cover for every article: a plain one until the newsroom sets its own."""
    image = Image.new("RGB", (900, 383), (178, 34, 34))
    image.save(path, "JPEG", quality=85)


def init_newsroom(folder: Path, answers: Answers, now: datetime | None = None) -> list[Path]:
    """Write a complete newsroom into `folder`; refuse to overwrite an existing one."""
    answers.check()
    if (folder / CONFIG_FILE).exists():
        raise PublisherError(f"已存在新闻室 / {folder / CONFIG_FILE} already exists; nothing was changed")
    moment = now or datetime.now(ZoneInfo(answers.timezone))
    files = _files(answers, moment)
    clashes = [rel for rel in files if rel != ".gitignore" and (folder / rel).exists()]
    if clashes:
        raise PublisherError(
            f"目录中已有同名文件 / these files already exist in {folder}: {', '.join(clashes)}; "
            "请换一个空目录 / choose an empty folder"
        )
    created: list[Path] = []
    for rel, text in files.items():
        path = folder / rel
        if rel == ".gitignore" and path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        created.append(path)
    cover = folder / "channels" / "assets" / "wechat-default-cover.jpg"
    cover.parent.mkdir(parents=True, exist_ok=True)
    _cover(cover)
    created.append(cover)
    return created
