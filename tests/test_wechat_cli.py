"""publisher wechat preview, publisher sandbox wechat, and a Chromium screenshot of the preview."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image
from typer.testing import CliRunner

from publisher.channels.wechat.sandbox import free_port
from publisher.cli import app
from tests.factory import base_meta, write_article, write_image

runner = CliRunner()
CHROMIUM = Path("/usr/bin/chromium")

BODY = """导语：江澜市人大常委会召开座谈会。

## 一、主要内容

![座谈会现场](images/meeting.png)

1. 统一目录管理
    - 一数一源
2. 共享为原则

| 条款 | 施行 |
|---|---|
| 第一条 | 2027年1月1日 |

详见[江澜人大网](https://www.jianglan-rd.example.gov.cn/)。
"""


@pytest.fixture
def env(newsroom_dir: Path, db_url: str) -> dict[str, str]:
    write_image(newsroom_dir / "content" / "images" / "meeting.png", (300, 160), (40, 110, 70))
    meta = base_meta("preview-me", title="市人大常委会召开公共数据立法座谈会", cover="images/cover.png")
    write_article(newsroom_dir / "content", "preview-me.md", meta, BODY)
    return {"PUBLISHER_NEWSROOM": str(newsroom_dir), "PUBLISHER_DATABASE_URL": db_url}


def _preview(env: dict[str, str], out: Path) -> str:
    assert runner.invoke(app, ["ingest"], env=env).exit_code == 0
    result = runner.invoke(app, ["wechat", "preview", "preview-me", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def test_preview_writes_the_phone_frame(env: dict[str, str], tmp_path: Path) -> None:
    page = _preview(env, tmp_path / "p.html")
    assert 'class="phone"' in page and "width: 375px" in page
    assert "市人大常委会召开公共数据立法座谈会" in page and "参考资料" in page
    assert "data:image/png;base64," in page  # self-contained: the image travels inside
    assert "wxasset:" not in page

    default = runner.invoke(app, ["wechat", "preview", "preview-me"], env=env)
    assert default.exit_code == 0
    assert (Path(env["PUBLISHER_NEWSROOM"]) / "var" / "preview" / "wechat" / "preview-me.html").is_file()

    missing = runner.invoke(app, ["wechat", "preview", "no-such-article"], env=env)
    assert missing.exit_code == 1 and "no-such-article" in missing.stderr


def test_a_preview_of_an_article_with_an_off_platform_image_says_why_instead_of_a_traceback(
    newsroom_dir: Path, db_url: str, tmp_path: Path
) -> None:
    env = {"PUBLISHER_NEWSROOM": str(newsroom_dir), "PUBLISHER_DATABASE_URL": db_url, "COLUMNS": "200"}
    meta = base_meta("offsite", title="外链图片的稿件")
    write_article(
        newsroom_dir / "content", "offsite.md", meta, "正文。\n\n![外站图片](http://example.com/x.png)\n"
    )
    assert runner.invoke(app, ["ingest"], env=env).exit_code == 0
    result = runner.invoke(app, ["wechat", "preview", "offsite", "--out", str(tmp_path / "p.html")], env=env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    said = " ".join(result.stderr.split())
    assert "http://example.com/x.png" in said and "offsite" in said
    assert "图片不在微信图床上" in said and "put the image beside the article" in said
    assert not (tmp_path / "p.html").exists()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium")
def test_preview_screenshot_in_chromium(env: dict[str, str], tmp_path: Path) -> None:
    page = tmp_path / "preview.html"
    _preview(env, page)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=420,1000",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with Image.open(shot) as image:
        assert image.size == (420, 1000)
        rgb = image.convert("RGB")
        colours: set[tuple[int, int, int]] = set()
        for _, colour in rgb.getcolors(maxcolors=1 << 24) or []:
            assert isinstance(colour, tuple)
            colours.add((colour[0], colour[1], colour[2]))
        # The phone's dark bezel, the account's deep red heading bar, and the photo's green.
        assert any(max(c) < 45 for c in colours), "no phone frame"
        assert any(abs(r - 0x9E) < 24 and g < 60 and b < 60 for r, g, b in colours), "no red heading bar"
        assert any(abs(r - 40) < 12 and abs(g - 110) < 12 and abs(b - 70) < 12 for r, g, b in colours), (
            "no photo"
        )
        # Phone width: in a row, the bezel spans 375 px of page plus two 10 px sides.
        row = [rgb.getpixel((x, 500)) for x in range(rgb.width)]
        dark = [x for x, pixel in enumerate(row) if isinstance(pixel, tuple) and max(pixel) < 45]
        assert dark and 385 <= dark[-1] - dark[0] + 1 <= 400


def test_sandbox_command_serves_the_api(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "publisher", "sandbox", "wechat", "--port", str(port), "--secret", "s3"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ)
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 20
        while True:
            try:
                if httpx.get(f"{base}/").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.time() < deadline, "the sandbox did not start"
            time.sleep(0.1)
        wrong = httpx.get(
            f"{base}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": "wx-sandbox-jianglan", "secret": "x"},
        )
        assert wrong.json()["errcode"] == 40001
        token = httpx.post(
            f"{base}/cgi-bin/stable_token",
            json={"grant_type": "client_credential", "appid": "wx-sandbox-jianglan", "secret": "s3"},
        ).json()
        assert token["expires_in"] == 7200
        count = httpx.get(
            f"{base}/cgi-bin/draft/count", params={"access_token": token["access_token"]}
        ).json()
        assert count == {"total_count": 0}
        assert "还没有发表内容" in httpx.get(f"{base}/").text
    finally:
        process.terminate()
        process.wait(timeout=10)
