"""A newsroom with a printed bulletin and an issue of three approved articles, for the bulletin's
tests (tests/test_bulletin.py) and its console page (tests/test_console_bulletins.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from tests.factory import base_meta, write_article, write_image

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext, pdffonts, pdfimages)"
)

BULLETIN = """\
title = "江澜市人民代表大会常务委员会公报"
short_title = "江澜市人大常委会公报"
publisher = "江澜市人民代表大会常务委员会办公厅"
permit = "江澜内资准字（2026）第018号"
"""

ISSUE = """\
number = "2026年第6期"
serial = 86
date = 2026-12-04

[[sections]]
title = "法规"
articles = ["law", "report"]

[[sections]]
title = "代表风采"
articles = ["deputy"]
"""

LONG = "\n\n".join(
    f"第{n}条　常务委员会组成人员围绕条例草案的立法目的、适用范围和主要制度进行了审议，"
    "提出了修改意见和建议，法制工作委员会逐条研究后作出说明。" * 3
    for n in range(1, 31)
)
TABLE = "\n\n| 表决事项 | 赞成 | 反对 | 弃权 |\n|---|---|---|---|\n| 《江澜市历史文化名城保护条例》 | 38 | 0 | 1 |\n\n"


def issue_path(room: Newsroom) -> Path:
    return room.root / "bulletins" / "gazette" / "2026-06.toml"


def declare(room: Newsroom, issue: str = ISSUE) -> Path:
    folder = room.root / "bulletins"
    (folder / "gazette").mkdir(parents=True, exist_ok=True)
    (folder / "gazette.toml").write_text(BULLETIN, encoding="utf-8")
    issue_path(room).write_text(issue, encoding="utf-8")
    return issue_path(room)


def write_articles(room: Newsroom) -> None:
    content = room.content_dir
    write_image(content / "images" / "vote.png", (600, 300), (30, 90, 150))
    write_article(
        content,
        "law.md",
        base_meta("law", title="江澜市历史文化名城保护条例"),
        "## 第一章　总则\n\n"
        + LONG
        + TABLE
        + "![表决现场](images/vote.png)\n\n## 第二章　附则\n\n本条例自2027年1月1日起施行。\n",
    )
    write_article(content, "report.md", base_meta("report", title="关于河湖保护情况的报告"), "报告正文。\n")
    write_article(
        content,
        "deputy.md",
        base_meta("deputy", title="陈树林代表：把山里的杨梅送出大山"),
        "代表风采正文。\n",
    )
    assert ingest(room).ok


def pdftext(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", *pages, str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def squeezed(text: str) -> str:
    return "".join(text.split())
