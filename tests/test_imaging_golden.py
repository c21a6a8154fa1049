"""Golden images: three layouts rendered now against the reviewed renders in tests/data/golden,
with a small tolerance (a FreeType or zlib update may move an edge pixel, not a line). Rewrite them
after an intended change with PUBLISHER_UPDATE_GOLDEN=1, and look at them before committing."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageStat

from publisher.imaging.blocks import parse_blocks
from publisher.imaging.compose import Composer, Sheet
from publisher.imaging.covers import og_image
from publisher.imaging.template import BUILTIN, Template, load_template

GOLDEN = Path(__file__).parent / "data" / "golden"
REPO = Path(__file__).resolve().parents[1]
URL = "https://www.jianglan-rd.example.gov.cn/articles/ten-points.html"
BODY = """12月4日是第十三个国家宪法日。宪法是国家的根本法，但它并不遥远：从出生到上学，从就业到养老，都能在宪法里找到依据。

## 一、宪法和你我有什么关系

- 上学：接受教育既是公民的权利，也是公民的义务。
- 选举：年满18周岁的公民依法享有选举权和被选举权。

> 宪法不只写在纸上，更写在每一次投票、每一条建议里。

| 事项 | 数量 | 说明 |
|---|---|---|
| 基层立法联系点 | 12 | 覆盖全部区县 |
| 代表联络站 | 86 | 含“家站点”线上平台 |

1. 关注“江澜人大”公众号。
2. 参加宪法宣传周（12月1日—7日）活动。
"""


def sheet() -> Sheet:
    return Sheet(
        title="长图｜宪法与我们的日常生活",
        column="人大视点",
        blocks=tuple(parse_blocks(BODY)),
        summary="一张长图，带你看看宪法和我们的日常生活有哪些联系。",
        byline="2026年12月3日　谢婉清",
        url=URL,
        footer={"source": "江澜市人大常委会办公厅", "editor": "吴晓燕", "authors": "谢婉清"},
    )


def narrow() -> Template:
    settings = BUILTIN.settings.model_copy(
        update={
            "width": 720,
            "margin": 40,
            "banner_height": 0,
            "fonts": BUILTIN.settings.fonts.model_copy(update={"body": "serif", "body_size": 26}),
        }
    )
    return Template("narrow", settings, None)


LAYOUTS = {
    "default": lambda: load_template(REPO / "channels/templates/default.toml", REPO),
    "rdsd": lambda: load_template(REPO / "channels/templates/rdsd.toml", REPO),
    "narrow-serif": narrow,
}


def check_golden(name: str, data: bytes) -> None:
    path = GOLDEN / f"{name}.png"
    if os.environ.get("PUBLISHER_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    with Image.open(io.BytesIO(data)) as now, Image.open(path) as then:
        assert now.size == then.size, f"{name}: {now.size} != {then.size} (a line moved)"
        difference = ImageChops.difference(now.convert("RGB"), then.convert("RGB"))
        mean = sum(ImageStat.Stat(difference).mean) / 3
        assert mean < 0.5, f"{name}: mean difference {mean:.3f} of 255"


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_long_image_layouts_match_their_golden_images(layout: str) -> None:
    (segment,) = Composer(LAYOUTS[layout]()).compose(sheet()).segments
    check_golden(f"long-{layout}", segment.data)


def test_the_open_graph_card_matches_its_golden_image() -> None:
    card = og_image(
        "常委会第二十九次会议闭幕 表决通过江澜市养老服务条例等三项法规", "工作动态", "江澜人大网", BUILTIN
    )
    check_golden("og-card", card.data)


def test_the_qr_code_decodes_back_to_the_article_url() -> None:
    (segment,) = Composer(BUILTIN).compose(sheet()).segments
    with Image.open(io.BytesIO(segment.data)) as image:
        found = [code.text for code in zxingcpp.read_barcodes(image.convert("RGB"))]
    assert found == [URL]


def test_a_banner_image_fills_the_banner(tmp_path: Path) -> None:
    Image.new("RGB", (400, 100), (20, 120, 60)).save(tmp_path / "banner.png")
    (tmp_path / "t.toml").write_text('banner_image = "banner.png"\nbanner_height = 160\n', encoding="utf-8")
    template = load_template(tmp_path / "t.toml", tmp_path)
    (segment,) = Composer(template).compose(sheet()).segments
    with Image.open(io.BytesIO(segment.data)) as image:
        corner = image.convert("RGB").getpixel((5, 5))
        assert isinstance(corner, tuple) and abs(corner[1] - 120) < 8 and corner[0] < 40
    assert template.sha256 != BUILTIN.sha256
