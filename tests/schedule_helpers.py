"""Small newsrooms with hand-written schedules files, for the scheduling tests."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from publisher.newsroom import Newsroom
from publisher.schedule import Schedules, load_schedules

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time as the aware UTC instant it is."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def only_campaigns(root: Path, **files: str) -> Path:
    """Replace the demo campaigns with these (file stem -> TOML text)."""
    folder = root / "schedules" / "campaigns"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for stem, text in files.items():
        (folder / f"{stem.replace('_', '-')}.toml").write_text(text, encoding="utf-8")
    return root


def write_rules(root: Path, text: str) -> None:
    (root / "schedules" / "newsroom.toml").write_text(text, encoding="utf-8")


def load(root: Path) -> Schedules:
    return load_schedules(Newsroom(root))


def campaign(cadence: str, *, window: str | None = None, extra: str = "", header: str = "") -> str:
    """A campaign file: channels website and wechat, the legislation column, the given cadence."""
    text = f'name = "测试战役"\ncolumn = "legislation"\nchannels = ["website", "wechat"]\n{header}\n'
    if window:
        text += f"[window]\n{window}\n\n"
    return text + f"[cadence]\n{cadence}\n\n{extra}"
