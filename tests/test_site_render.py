"""Rendering one body: newsroom Markdown, Chinese text, images, and XSS payloads made inert."""

from __future__ import annotations

import hashlib
import random
import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
from PIL import Image

from publisher.site.media import Source
from publisher.site.quick_markdown import QuickBlockParser, QuickInlineProcessor
from publisher.site.render import (
    ALLOWED_TAGS,
    CJK_EXTRA,
    CJK_RANGES,
    EXTENSION_CONFIGS,
    EXTENSIONS,
    join_cjk_lines,
    markdown_converter,
    render_fragment,
    render_markdown,
)
from publisher.store.blobs import BlobStore
from tests.factory import REPO, shared_corpus_script, write_image


def html_of(body: str) -> str:
    return render_markdown(body)[0]


def test_tables_footnotes_toc_and_lists() -> None:
    body = (
        "## 一、立法背景\n\n正文[^1]。\n\n### （一）主要内容\n\n"
        "| 项目 | 数量 |\n| --- | ---: |\n| 执法检查 | 21 |\n\n"
        "1. 第一\n2. 第二\n\n- 甲\n- 乙\n\n## 二、下一步\n\n结尾。\n{: .lead }\n\n"
        "```\n代码 块\n保持\n```\n\n[^1]: 依据《立法法》。\n"
    )
    html, toc = render_markdown(body)
    assert "<table>" in html and '<td style="text-align:right">21</td>' in html.replace(": ", ":")
    assert 'class="footnote"' in html and 'href="#fn:1"' in html and "依据《立法法》。" in html
    assert '<h2 id="一立法背景">' in html, "CJK headings keep readable anchors"
    assert 'href="#一立法背景"' in toc and "（一）主要内容" in toc
    assert "<ol>" in html and "<ul>" in html
    assert '<p class="lead">结尾。</p>' in html
    assert "<pre><code>代码 块\n保持\n</code></pre>" in html


QUICK_CASES = [
    "a *b* _c_ **d** __e__ ***f*** `code` \\*esc\\* [link](http://x) ![img](a.png) <http://auto.link> "
    "<me@x.org> &amp; &copy; <b>html</b>  \nbreak",
    "中文[^1]注脚，*强调*。\n\n[^1]: 注释 *强调* `代码` [链接](https://x.cn)",
    "[ref][r] and [r] ![i][r] ![r] [^missing]\n\n[r]: http://example.com 'T'",
    "*a `b*` c* <span>*x*</span> <!-- c --> a_b_c __init__ *unclosed _也未闭合",
    "| a | b |\n|---|:-:|\n| *x* | `y` |\n| [z](u) | &lt; |",
    "## 标题 *强调* {#id .cls}\n\n段落 {: .p }\n\n```python\n*no* `x`\n```\n\n### 二 [链](u)\n\n#### 三\n",
    "***strong em*** **bold *nested em* bold** _under **mixed**_ **未闭合",
    'a\\\nb `` ` `` ```x``` \\\\ \\` <a href="x">*in link*</a> [*em* `c` <b>b</b>](u)',
    '1. one\n2. *two*\n\n* [x](y "t") <https://a.b/c?d=e&f=g>\n    * nested `c` &#35;',
    "line one  \nline two &#35; &#x23; & bare & < > 全角＊星号＊ 【方括号】 《书名》",
    "> 引用 *em* [l](u)\n>\n> - 列表 **b**\n\n    缩进代码 *no*\n\n---\n\n<div>块 *html*</div>\n",
]

# Blocks that each exercise a block processor, a gated processor or a plain paragraph in an odd
# position; the equivalence test below strings them together in many orders.
QUICK_BLOCKS = [
    "普通段落，没有任何标记。",
    "第一行\n第二行紧接着\n第三行",
    "标题一\n===",
    "标题二\n---",
    "段落后接\n## 井号标题",
    "# 一级 #",
    "***",
    "- - -",
    "1. 第一\n2. 第二",
    "１. 全角数字开头",
    "3) 右括号不是列表",
    "- 甲\n- 乙\n懒惰续行",
    "* 项目\n\n    项目内的段落\n\n* 再一项",
    "+ 加号列表",
    "> 引用\n懒惰续行的引用",
    "    缩进代码\n    第二行",
    "\t制表符缩进",
    "\u3000\u3000全角空格缩进的段落",
    '[id]: https://example.gov.cn "标题"',
    "见[链接][id]与[^n]。",
    "[^n]: 注释正文\n\n    注释的第二段",
    "| 甲 | 乙 |\n| --- | --- |\n| 1 | 2 |",
    "甲 | 乙\n--- | ---\n1 | 2",
    "文中有竖线 | 但不是表格",
    "```\n围栏代码 *no*\n```",
    "~~~ python\nx = 1\n~~~",
    '<div markdown="1">\n块级 HTML\n</div>',
    "行内 <span>HTML</span> 与 &amp; 实体",
    "段落属性\n{: .lead #p1 }",
    "## 标题属性 {#custom-id}",
    "[TOC]",
    "转义 \\* 星号与 \\\\ 反斜杠",
    "冒号: 开头不是什么\n: 冒号开头",
    "!感叹号开头",
    "_下划线开头_ 的强调",
    "=等号开头的行",
    "<https://www.example.gov.cn>",
    "控制字符\x02保留\x03吗",
    "末尾两个空格  \n换行",
    # Line starts that prose uses and that the plain-block rule reads by their shape.
    "**加粗开头**的段落\n**第二行**也加粗",
    "*斜体开头*的段落",
    "** **",
    "**  **\n* * *",
    "段落\n***",
    "段落\n* 列表项",
    "1月10日，日期开头的段落\n2026年第二行",
    "段落\n12. 第二行像列表",
    "１２．全角句点",
    "![图片开头](a.png)\n图下文字",
    "[人民网](http://www.people.com.cn/)开头的段落",
    "[跨行\n引用]: http://example.com",
    "段落\n[r]: http://example.com",
    "[^注]开头\n[^注]: 定义",
]


def _stock() -> markdown.Markdown:
    return markdown.Markdown(extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="html")


def _same_as_stock(stock: markdown.Markdown, body: str) -> None:
    quick = markdown_converter()
    stock.reset()
    quick.reset()
    assert quick.convert(body) == stock.convert(body), body
    assert getattr(quick, "toc", "") == getattr(stock, "toc", ""), body


def test_the_quick_converter_replaces_only_what_it_says() -> None:
    stock, quick = _stock(), markdown_converter()
    assert isinstance(quick.treeprocessors["inline"], QuickInlineProcessor)
    assert isinstance(quick.parser, QuickBlockParser)
    assert [type(t).__name__ for t in quick.treeprocessors] == [
        "QuickInlineProcessor" if type(t).__name__ == "InlineProcessor" else type(t).__name__
        for t in stock.treeprocessors
    ]
    assert [type(p).__name__ for p in quick.parser.blockprocessors] == [
        type(p).__name__ for p in stock.parser.blockprocessors
    ]


@pytest.mark.parametrize("body", QUICK_CASES)
def test_quick_converter_is_the_stock_one_byte_for_byte(body: str) -> None:
    _same_as_stock(_stock(), body)


def test_quick_converter_matches_stock_on_blocks_in_many_orders() -> None:
    stock = _stock()
    rng = random.Random(20261127)
    for block in QUICK_BLOCKS:
        _same_as_stock(stock, block)
    for _ in range(400):
        picked = rng.sample(QUICK_BLOCKS, rng.randint(2, 6))
        glue = rng.choice(["\n\n", "\n", "\n\n\n", "\r\n\r\n"])
        _same_as_stock(stock, glue.join(picked) + rng.choice(["", "\n", "  "]))


def test_quick_converter_matches_stock_on_real_articles() -> None:
    stock = _stock()
    bodies = [p.read_text(encoding="utf-8") for p in sorted((REPO / "content").rglob("*.md"))]
    bodies += [p.read_text(encoding="utf-8") for p in sorted((REPO / "docs").rglob("*.md"))]
    script = shared_corpus_script()
    if script is not None:
        # A slice of the generated corpus the benchmarks use (front matter and all: it is text too).
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run(
                [sys.executable, str(script), folder, "--count", "150", "--seed", "7", "--quiet"], check=True
            )
            bodies += [p.read_text(encoding="utf-8") for p in sorted(Path(folder).rglob("*.md"))]
    assert len(bodies) > 20
    for body in bodies:
        _same_as_stock(stock, body)
        _same_as_stock(stock, body.split("\n---\n", 1)[-1])


def test_cjk_lines_join_without_spaces_and_punctuation_stays_full_width() -> None:
    body = (
        "市人大常委会执法检查组\n对《江澜市河湖保护条例》\n实施情况开展检查。\nEnglish words\nstay apart.\n"
    )
    html = html_of(body)
    assert "市人大常委会执法检查组对《江澜市河湖保护条例》实施情况开展检查。" in html
    assert "English words\nstay apart." in html
    punctuation = "“四不两直”：不发通知、不打招呼；（一）「引号」！？……——《条例》，。"
    assert punctuation in html_of(punctuation)


def test_cjk_line_joining_follows_its_one_line_definition() -> None:
    # The rule, as one regex: a newline with the spaces and tabs around it goes when a CJK
    # character stands on both sides. The code walks lines instead (faster); it must agree.
    cjk = "".join(f"{chr(low)}-{chr(high)}" for low, high in CJK_RANGES) + CJK_EXTRA
    rule = re.compile(f"(?<=[{cjk}])[ \\t]*\\n[ \\t]*(?=[{cjk}])")
    rng = random.Random(7)
    alphabet = "中文，。“” \t\nab《》\u3000x—·"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert join_cjk_lines(text) == rule.sub("", text), repr(text)
    assert join_cjk_lines("<pre>代码\n保持</pre>\n正文\n接续") == "<pre>代码\n保持</pre>\n正文接续"


def test_no_toc_for_short_articles() -> None:
    assert render_markdown("## 只有一个标题\n\n正文。\n")[1] == ""


def _image_source(tmp_path: Path, size: tuple[int, int], fmt: str = "JPEG") -> tuple[BlobStore, Source]:
    path = write_image(tmp_path / f"img.{fmt.lower()}", size)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    blobs = BlobStore(tmp_path / "blobs")
    blobs.put(sha, data)
    return blobs, Source("images/photo.jpg", "inline", sha, size[0], size[1], fmt)


def test_images_become_sized_lazy_derivatives_cached_by_hash(tmp_path: Path) -> None:
    blobs, source = _image_source(tmp_path, (1600, 900))
    cache = tmp_path / "media"
    fragment = render_fragment("导语。\n\n![现场照片](images/photo.jpg)\n", [source], blobs, cache, "/media/")
    img = re.search(r"<img [^>]+>", fragment.html)
    assert img is not None
    tag = img.group(0)
    assert 'width="760" height="428"' in tag and 'loading="lazy"' in tag and 'alt="现场照片"' in tag
    assert f'src="/media/{source.sha256[:24]}-760.jpg"' in tag and "1520w" in tag and "380w" in tag
    assert "<figure>" in fragment.html and "<figcaption>现场照片</figcaption>" in fragment.html
    made = {p.name: Image.open(p).size for p in cache.iterdir()}
    assert sorted(made.values()) == [(380, 214), (760, 428), (1520, 855)]
    stamps = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    render_fragment("![现场照片](images/photo.jpg)\n", [source], blobs, cache, "/media/")
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == stamps, "derivatives are made once"


def test_small_images_are_never_upscaled(tmp_path: Path) -> None:
    blobs, source = _image_source(tmp_path, (300, 200), "PNG")
    fragment = render_fragment("![小图](images/photo.jpg)\n", [source], blobs, tmp_path / "m", "/media/")
    assert 'width="300" height="200"' in fragment.html
    assert fragment.media == (f"{source.sha256[:24]}-300.png",)


def test_unrecorded_local_image_is_not_shown(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    fragment = render_fragment("![别处](../../etc/passwd)\n", [], blobs, tmp_path / "m", "/media/")
    assert "<img" not in fragment.html and "别处" in fragment.html


XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    "[点我](javascript:alert(1))",
    "[点我](JaVaScRiPt:alert(1))",
    "[点我](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<iframe src=https://evil.example></iframe>",
    "<object data=x.swf></object><embed src=x.swf>",
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p onclick="alert(1)">x</p>',
    '段落 {: onclick="alert(1)" }',
    '<form action="https://evil.example"><input name=q></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '"><script>alert(1)</script>',
    "<details open ontoggle=alert(1)>",
    '<a href="vbscript:msgbox(1)">x</a>',
    '![x](x" onerror="alert(1))',
    "<!--<img src=x onerror=alert(1)>-->",
]


class _Inspector(HTMLParser):
    """Every tag and attribute the browser would see (text is inert whatever it says)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, "", ""))
        self.found.extend((tag, name, value or "") for name, value in attrs)


ALLOWED_SCHEMES = ("http:", "https:", "mailto:", "/", "#")


@pytest.mark.parametrize("payload", XSS)
def test_xss_payloads_come_out_inert(payload: str, tmp_path: Path) -> None:
    html = render_fragment(
        f"正文。\n\n{payload}\n\n结尾。\n", [], BlobStore(tmp_path), tmp_path / "m", "/media/"
    ).html
    inspector = _Inspector()
    inspector.feed(html)
    for tag, name, value in inspector.found:
        assert tag in ALLOWED_TAGS, (payload, html)
        assert not name.startswith("on"), (payload, html)
        if name in ("href", "src", "srcset", "action", "formaction", "cite"):
            assert value.strip().lower().startswith(ALLOWED_SCHEMES), (payload, html)
        if name == "style":
            assert re.fullmatch(r"text-align:\s*\w+;?", value), (payload, html)
    assert "<script" not in html.lower() and "正文。" in html
