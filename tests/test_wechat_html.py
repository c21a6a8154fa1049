"""The WeChat-safe HTML rules (issue 6, point 1), asserted on the HTML itself; the limits check."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from lxml import html as lxml_html
from lxml.html import HtmlElement

from publisher.channels.checks import CHECKERS
from publisher.channels.kinds import WechatSettings
from publisher.channels.registry import load_channels
from publisher.channels.wechat.html import TEXT, TEXT_TAGS, UnhostedImage, to_wechat_html
from publisher.channels.wechat.images import cover_crops, crop
from publisher.channels.wechat.render import ImageRef, _markdown_html, render_article
from publisher.review.checks import Subject
from tests.factory import REPO

BODY = """导语段落，见[江澜人大网](https://www.jianglan-rd.example.gov.cn/a.html)与
[往期推送](https://mp.weixin.qq.com/s/abcdef)，又见[江澜人大网](https://www.jianglan-rd.example.gov.cn/a.html)、
<https://example.org/law> 和[目录](#part)。依据立法法[^1]。

## 第一部分 {: #part }

![代表在联络站](images/photo.jpg)

1. 第一项
    - 子项甲
        - 孙项
    - 子项乙
2. 第二项

| 条款 | 内容 | 施行日期 |
|---|---|---|
| 第一条 | 为了规范养老服务 | 2027-01-01 |

```python
def main():
    if True:
\treturn  "两个空格"
```

<script>alert("x")</script>
<iframe src="https://example.org/embed"></iframe>
<form action="/x"><input name="q"></form>
<video src="v.mp4">视频</video><audio src="a.mp3">音频</audio>
<style>p { color: red }</style>
<p class="lead" id="top" onclick="x()">带属性的段落</p>

[^1]: 《中华人民共和国立法法》第八十一条。
"""

IMAGES = {"images/photo.jpg": "http://mmbiz.qpic.cn/mmbiz_jpg/abc/0?wx_fmt=jpeg"}


@pytest.fixture(scope="module")
def tree() -> HtmlElement:
    out = to_wechat_html(_markdown_html(BODY), IMAGES)
    root: HtmlElement = lxml_html.fragment_fromstring(out)
    return root


@pytest.fixture(scope="module")
def out() -> str:
    return to_wechat_html(_markdown_html(BODY), IMAGES)


def test_every_style_inline_no_style_elements_no_classes(tree: HtmlElement, out: str) -> None:
    assert "<style" not in out
    for element in tree.iter():
        assert "class" not in element.attrib and "id" not in element.attrib, element.tag
        assert not any(name.startswith("on") for name in element.attrib)
    assert tree.tag == "section" and "font-size: 16px" in tree.get("style", "")


def test_no_script_iframe_form_video_audio(tree: HtmlElement, out: str) -> None:
    tags = {e.tag for e in tree.iter()}
    assert not tags & {"script", "iframe", "form", "input", "video", "audio", "style"}
    assert "alert" not in out and "视频" not in out and "音频" not in out
    assert "带属性的段落" in out


def test_images_only_on_wechats_host(tree: HtmlElement) -> None:
    sources = [img.get("src") for img in tree.iter("img")]
    assert sources == [IMAGES["images/photo.jpg"]]
    figure = next(tree.iter("img")).getparent()
    assert figure is not None and figure.tag == "section"
    assert figure[-1].text == "代表在联络站"  # the caption under the photo
    with pytest.raises(UnhostedImage):
        to_wechat_html('<p><img src="https://example.org/x.png"></p>', {})
    kept = to_wechat_html('<p><img src="https://mmbiz.qpic.cn/a/0?wx_fmt=png"></p>', {})
    assert "https://mmbiz.qpic.cn/a/0?wx_fmt=png" in kept


def test_links_become_numbered_markers_with_endnotes(tree: HtmlElement, out: str) -> None:
    links = [a.get("href") for a in tree.iter("a")]
    assert links == ["https://mp.weixin.qq.com/s/abcdef"]  # the only clickable kind
    marks = [s.text for s in tree.iter("sup") if s.text and s.text.startswith("[")]
    assert marks == ["[1]", "[1]", "[2]"]  # the same address keeps its number
    notes = tree[-1]
    assert notes[0].text == "参考资料"
    assert [p.text for p in notes[1:]] == [
        "[1] 江澜人大网：https://www.jianglan-rd.example.gov.cn/a.html",
        "[2] https://example.org/law",
    ]
    assert "目录" in out and 'href="#' not in out  # in-page anchors do nothing in an article


def test_footnotes_kept_without_back_links(out: str) -> None:
    assert "注释" in out and "第八十一条" in out and "↩" not in out


def test_code_blocks_keep_spaces_and_line_breaks(tree: HtmlElement) -> None:
    pre = next(tree.iter("pre"))
    code = pre[0]
    assert code.tag == "code" and len(code.findall("br")) == 2
    lines = [code.text or ""] + [br.tail or "" for br in code.findall("br")]
    assert lines[1] == "\u00a0" * 4 + "if\u00a0True:"
    assert lines[2] == "\u00a0" * 4 + 'return\u00a0\u00a0"两个空格"'  # a tab is four spaces
    assert "white-space: pre-wrap" in pre.get("style", "")


def test_nested_lists_survive(tree: HtmlElement) -> None:
    ol = next(tree.iter("ol"))
    assert "list-style-type: decimal" in ol.get("style", "")
    first = ol[0]
    assert first.tag == "li" and first[0].tag == "section" and first[0].text == "第一项"
    inner = first[1]
    assert inner.tag == "ul" and "list-style-type: disc" in inner.get("style", "")
    grand = inner[0][1]
    assert grand.tag == "ul" and "list-style-type: circle" in grand.get("style", "")
    assert grand[0][0].tag == "section" and grand[0][0].text == "孙项"


def test_tables_scroll(tree: HtmlElement) -> None:
    table = next(tree.iter("table"))
    wrap = table.getparent()
    assert wrap is not None and wrap.tag == "section" and "overflow-x: auto" in wrap.get("style", "")
    assert all("border" in cell.get("style", "") for cell in table.iter("td", "th"))


def test_text_colour_pinned_for_dark_mode(tree: HtmlElement) -> None:
    for element in tree.iter():
        if element.tag in TEXT_TAGS:
            assert "color:" in element.get("style", "").replace("background-color:", ""), element.tag
    assert f"color: {TEXT}" in tree.get("style", "")
    assert "#000000" not in lxml_html.tostring(tree, encoding="unicode")


def test_government_theme_headings(tree: HtmlElement) -> None:
    h2 = next(tree.iter("h2"))
    assert "color: #9e1b1b" in h2.get("style", "") and "border-left" in h2.get("style", "")


def test_render_is_deterministic() -> None:
    settings = WechatSettings(app_id="a", app_secret_env="S", source_url="https://x.example/{slug}.html")
    meta = {"title": "标题", "slug": "s", "authors": ["王晓明", "李静"], "summary": "摘要"}
    images = [ImageRef("images/photo.jpg", "inline", "a" * 64), ImageRef("c.jpg", "cover", "b" * 64)]
    one = render_article(meta, BODY, images, settings, revision_id="r")
    two = render_article(meta, BODY, images, settings, revision_id="r")
    assert one == two and one.sha256 == two.sha256
    assert one.author == "王晓明、李静" and one.cover_sha256 == "b" * 64 and one.images == ("a" * 64,)
    assert one.content_source_url == "https://x.example/s.html"
    assert "wxasset:" + "a" * 64 in one.content
    final = one.content_with({"a" * 64: "http://mmbiz.qpic.cn/x/0?wx_fmt=jpeg"})
    assert "wxasset:" not in final


def test_cover_crops() -> None:
    assert crop(470, 200, 2.35) == "0_0_1_1"
    crops = cover_crops(900, 500)
    x1, y1, x2, y2 = (float(v) for v in crops["pic_crop_235_1"].split("_"))
    assert (x1, x2) == (0.0, 1.0) and abs((900 / ((y2 - y1) * 500)) - 2.35) < 0.01
    x1, y1, x2, y2 = (float(v) for v in crops["pic_crop_1_1"].split("_"))
    assert (y1, y2) == (0.0, 1.0) and abs((x2 - x1) * 900 - 500) < 1


# -- the limits, as review runs them -----------------------------------------------------------------
def _check(meta: Mapping[str, object], body: str = "正文。\n") -> dict[str | None, str]:
    channels = load_channels(REPO / "channels", REPO)
    check = CHECKERS["wechat"](channels.channels["wechat"])
    return {p.field: p.reason for p in check(Subject(dict(meta), body))}


def test_limits_name_field_and_limit() -> None:
    ok = {"title": "标" * 32, "authors": ["甲" * 16], "summary": "摘" * 128, "cover": "c.jpg"}
    assert _check(ok) == {}
    found = _check({"title": "标" * 33, "authors": ["甲" * 10, "乙" * 10], "summary": "摘" * 129})
    assert set(found) == {"title", "author", "digest"}
    assert "32" in found["title"] and "16" in found["author"] and "128" in found["digest"]
    long_body = "\n\n".join("这是一段很长的正文。" * 40 for _ in range(60))
    assert "20000" in _check({"title": "t", "cover": "c.jpg"}, long_body)["content"]
    assert "body" in _check({"title": "t"}, "![外链](https://example.org/a.png)\n")


def test_cover_required_without_a_default(tmp_path: Path) -> None:
    settings = WechatSettings(app_id="a", app_secret_env="S")
    from publisher.channels.wechat.limits import check_article

    problems = check_article(Subject({"title": "t"}, "正文\n"), settings, source="channels/wx.toml")
    assert [p.field for p in problems] == ["cover"]
