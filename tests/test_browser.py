"""A real browser (headless Chromium) opens pages served by `publisher preview`: no console errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.site.build import build_all
from tests.site_support import NOW, allow_all, populate

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's chromium at /usr/bin/chromium")


@pytest.fixture
def preview(
    newsroom_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Path]]:
    db = f"sqlite:///{tmp_path / 'browser.db'}"
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db)
    populate(newsroom_dir)
    room = Newsroom(newsroom_dir)
    assert ingest(room).ok
    build_all(room, allow_all, now=NOW)
    room.close()
    log = tmp_path / "preview.log"
    env = {**os.environ, "PUBLISHER_DATABASE_URL": db, "PUBLISHER_PREVIEW_LOG": "1", "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as errors:
        server = subprocess.Popen(
            [sys.executable, "-m", "publisher", "preview", "--port", "0", "--newsroom", str(newsroom_dir)],
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline().decode("utf-8")
            found = re.search(r"http://127\.0\.0\.1:\d+/", line)
            assert found, line
            yield found.group(0), log
        finally:
            server.terminate()
            server.wait(timeout=10)


def open_page(url: str, screenshot: Path) -> list[str]:
    """Load one page, save a screenshot, return the console messages the page produced."""
    result = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,1600",
            f"--screenshot={screenshot}",
            url,
        ],
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert screenshot.is_file() and screenshot.stat().st_size > 10_000, result.stderr.decode(
        errors="replace"
    )[-2000:]
    return re.findall(r":CONSOLE[^\]]*\] (.*)", result.stderr.decode("utf-8", errors="replace"))


def test_home_and_article_pages_render_without_console_errors(
    preview: tuple[str, Path], tmp_path: Path
) -> None:
    base, log = preview
    shots = Path(os.environ.get("PUBLISHER_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    for name, path in (
        ("home", ""),
        ("article", "articles/series-part-2.html"),
        ("search", "search.html?q=%E5%B7%A5%E4%BD%9C"),
    ):
        console = open_page(base + path, shots / f"{name}.png")
        assert console == [], (name, console)
    served = log.read_text(encoding="utf-8", errors="replace")
    assert '"GET / HTTP/1.1" 200' in served and '/articles/series-part-2.html HTTP/1.1" 200' in served
    assert '/search-index.json HTTP/1.1" 200' in served, "the search page ran its script"
    failed = re.findall(r'"GET (\S+) HTTP/1\.1" [45]\d\d', served)
    assert failed == [], f"requests that failed: {failed}"
