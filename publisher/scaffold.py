"""`publisher init`: a new, empty newsroom that validates and ingests from the first minute."""

from __future__ import annotations

from pathlib import Path

from publisher.config import CONFIG_FILE
from publisher.errors import PublisherError

TEMPLATE = """\
# Newsroom settings. Paths are relative to this folder; runtime state goes to var/.
departments = ["研究室"]
committees = []

[newsroom]
name = "{name}"
timezone = "Asia/Shanghai"
language = "zh-CN"

[database]
# Default: SQLite at var/publisher.db; PUBLISHER_DATABASE_URL overrides.

[[columns]]
key = "news"
name = "工作动态"
"""

GITIGNORE = "/var/\n/public/\n"


def init_newsroom(folder: Path, name: str) -> list[Path]:
    """Create the folders and a starter publisher.toml; refuse to overwrite an existing newsroom."""
    if (folder / CONFIG_FILE).exists():
        raise PublisherError(f"已存在新闻室 / {folder / CONFIG_FILE} already exists; nothing was changed")
    created: list[Path] = []
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("content", "schedules", "channels"):
        path = folder / sub
        if not path.exists():
            path.mkdir()
            created.append(path)
    config = folder / CONFIG_FILE
    config.write_text(TEMPLATE.format(name=name.replace('"', "'")), encoding="utf-8")
    created.append(config)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text(GITIGNORE, encoding="utf-8")
        created.append(ignore)
    return created
