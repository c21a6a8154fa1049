"""Long images and generated covers on the channels: the WeChat sandbox receives a long-image
article as its image (and the QR code in it opens the article), an article without a cover gets
covers drawn for it, and the demo's long-image article reaches the sandbox as an image."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from typing import cast

import pytest
import zxingcpp
from PIL import Image

from publisher.channels.long_images import article_address
from publisher.channels.wechat.sandbox import State
from publisher.newsroom import Newsroom
from tests.factory import base_meta, write_article
from tests.review_helpers import approve, seed_users
from tests.wechat_helpers import adapter, revisions

REPO = Path(__file__).resolve().parents[1]
BODY = """宪法是国家的根本法，确立了国家的根本制度和根本任务。

## 一、宪法和你我有什么关系

- 上学：接受教育既是公民的权利，也是公民的义务。
- 工作：宪法保障公民的劳动权利。

> 宪法不只写在纸上，更写在每一次投票里。

| 事项 | 依据 |
|---|---|
| 选举 | 宪法第三十四条 |
"""


def sandbox_images(state: State, content: str) -> list[bytes]:
    ids = re.findall(r"mmbiz\.qpic\.cn/sandbox_\w+/(\w+)/", content)
    return [state.images[i][0] for i in ids]


def qr_texts(data: bytes) -> list[str]:
    with Image.open(io.BytesIO(data)) as image:
        return [found.text for found in zxingcpp.read_barcodes(image.convert("RGB"))]


def write_long_image_article(room: Newsroom, slug: str = "ten-points", body: str = BODY) -> None:
    meta = base_meta(slug, title="长图｜宪法十问", kind="long_image", summary="一张长图看懂宪法。")
    write_article(room.content_dir, f"{slug}.md", meta, body * 6)


def test_a_long_image_article_reaches_wechat_as_images_whose_qr_opens_the_article(
    room: Newsroom, sb: tuple[State, str]
) -> None:
    state, base = sb
    write_long_image_article(room)
    (revision,) = revisions(room, "ten-points")
    wechat = adapter(room, base, long_image_height=1600)
    rendition = wechat.render(revision)
    assert len(rendition.images) >= 2  # cut into segments no taller than 1600 px
    (receipt,) = wechat.deliver([rendition])
    assert receipt.status == "published"

    (post,) = state.posts.values()
    content = post.articles[0]["content"]
    assert "宪法是国家的根本法" not in content  # the image is the article on WeChat
    segments = sandbox_images(state, content)
    assert len(segments) == len(rendition.images)
    for data in segments:
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG" and image.width == 1080 and image.height <= 1600
        assert len(data) < 1024 * 1024
    assert article_address(room, "ten-points") in qr_texts(segments[-1])


def test_an_article_without_a_cover_gets_both_covers_drawn_with_their_crops(
    room: Newsroom, sb: tuple[State, str]
) -> None:
    state, base = sb
    (revision,) = revisions(room, "article-2")
    wechat = adapter(room, base)
    rendition = wechat.render(revision)
    assert rendition.cover_sha256 is not None and dict(rendition.cover_crops) == {
        "pic_crop_235_1": "0_0_1_0.5",
        "pic_crop_1_1": "0_0.5_0.425556_1",
    }
    wechat.deliver([rendition])
    article = next(iter(state.posts.values())).articles[0]
    assert article["pic_crop_235_1"] == "0_0_1_0.5" and article["pic_crop_1_1"] == "0_0.5_0.425556_1"
    cover_id = re.search(r"/sandbox_\w+/(\w+)/", article["thumb_url"])
    assert cover_id is not None
    with Image.open(io.BytesIO(state.images[cover_id.group(1)][0])) as cover:
        banner = cover.crop((0, 0, 900, 383))
        square = cover.crop((0, 383, 383, 766))
        # Drawn, not blank: the title's white strokes on the column's colour, in both crops.
        darkest, lightest = cast(tuple[int, int], banner.convert("L").getextrema())
        assert lightest >= 240 and darkest < 120
        darkest, lightest = cast(tuple[int, int], square.convert("L").getextrema())
        assert lightest >= 240 and darkest < 120


def test_a_channel_that_turns_covers_off_keeps_its_default_cover(
    room: Newsroom, sb: tuple[State, str]
) -> None:
    _state, base = sb
    (revision,) = revisions(room, "article-2")
    rendition = adapter(room, base, generated_cover=False).render(revision)
    assert rendition.cover_sha256 is None and rendition.cover_crops == ()


def test_the_rendition_is_the_same_for_the_same_revision(room: Newsroom, sb: tuple[State, str]) -> None:
    _state, base = sb
    write_long_image_article(room)
    (revision,) = revisions(room, "ten-points")
    wechat = adapter(room, base)
    assert wechat.render(revision).sha256 == wechat.render(revision).sha256


@pytest.mark.slow
def test_the_demo_long_image_article_reaches_the_wechat_sandbox_as_an_image(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, sb: tuple[State, str]
) -> None:
    state, base = sb
    demo = tmp_path / "demo"
    demo.mkdir()
    shutil.copy(REPO / "publisher.toml", demo / "publisher.toml")
    for name in ("content", "channels", "schedules", "review"):
        shutil.copytree(REPO / name, demo / name)
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(demo)
    try:
        (revision,) = revisions(room, "constitution-day-long-image")
        seed_users(room)
        approve(room, "constitution-day-long-image")
        # Approval rendered the approved revision into the cache already.
        assert list((room.var_dir / "cache" / "images" / revision.id).glob("*/long-01.*"))
        wechat = adapter(room, base, gate=True)
        rendition = wechat.render(revision)
        (receipt,) = wechat.deliver([rendition])
        assert receipt.status == "published"
        content = next(iter(state.posts.values())).articles[0]["content"]
        segments = sandbox_images(state, content)
        assert segments and "宪法是国家的根本法" not in content
        with Image.open(io.BytesIO(segments[0])) as first:
            assert first.width == 1080 and first.format == "JPEG"
        assert "https://www.jianglan-rd.example.gov.cn/articles/constitution-day-long-image.html" in qr_texts(
            segments[-1]
        )
    finally:
        room.close()
