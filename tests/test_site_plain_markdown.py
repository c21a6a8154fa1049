"""The direct path for common newsroom Markdown is Python-Markdown's output, byte for byte, or declines."""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import markdown
import pytest

from publisher.review.checks import SecrecyList, Subject, check_secrecy
from publisher.site.plain_markdown import render_plain
from publisher.site.render import (
    EXTENSION_CONFIGS,
    EXTENSIONS,
    _count,
    markdown_converter,
    render_markdown,
    sanitise,
)
from tests.factory import REPO, shared_corpus_script


def _stock() -> markdown.Markdown:
    return markdown.Markdown(extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="html")


def _agrees(stock: markdown.Markdown, body: str) -> bool:
    """The direct path's result equals the stock converter's (HTML, toc, toc size); True when it
    took the body, False when it declined it."""
    plain = render_plain(markdown_converter(), body)
    if plain is None:
        return False
    stock.reset()
    assert plain.html == stock.convert(body), body
    assert plain.toc == stock.toc, body  # type: ignore[attr-defined]
    assert plain.toc_tokens == _count(stock.toc_tokens), body  # type: ignore[attr-defined]
    return True


def _corpus(count: int, seed: int, images: bool) -> list[str]:
    script = shared_corpus_script()
    assert script is not None, "../shared/bench/make_corpus.py is needed beside the checkout"
    with tempfile.TemporaryDirectory() as folder:
        args = [sys.executable, str(script), folder, "--count", str(count), "--seed", str(seed), "--quiet"]
        subprocess.run([*args, "--images"] if images else args, check=True)
        return [
            p.read_text(encoding="utf-8").split("\n---\n", 1)[1] for p in sorted(Path(folder).glob("*.md"))
        ]


@pytest.mark.parametrize(("seed", "images"), [(1, True), (11, False)])
def test_the_direct_path_renders_the_generated_corpus_as_python_markdown_does(
    seed: int, images: bool
) -> None:
    stock = _stock()
    bodies = _corpus(200, seed, images)
    taken = sum(_agrees(stock, body) for body in bodies)
    # It must also carry the load it exists for: the corpus is the newsroom's common shapes.
    assert taken >= 0.95 * len(bodies)


def test_the_direct_path_renders_the_demo_newsroom_as_python_markdown_does() -> None:
    stock = _stock()
    bodies = [p.read_text(encoding="utf-8") for p in sorted((REPO / "content").rglob("*.md"))]
    assert len(bodies) > 10
    for body in bodies:
        _agrees(stock, body.split("\n---\n", 1)[-1])


# Shapes the direct path writes itself (each must be taken, and equal).
TAKEN = [
    "普通段落。",
    "第一行\n第二行",
    "## 标题\n\n段落。",
    "# 一级\n\n## 二级\n\n### 三级\n\n#### 四级\n\n## 二级\n\n## 二级",  # repeated slugs get _1, _2
    "### 先有三级\n\n## 再有二级\n\n### 三级",
    "## 标题 #\n\n## 空格  之间\n\n##紧贴井号",
    "**加粗**开头，中间**加粗**，结尾**加粗**",
    "**a**b**c**",
    "把**“有没有”**变为**“好不好”**，中文**English**中文，**1.** 与 **#** 开头",
    "**全角\u3000空格在中间**与**不换行\u00a0空格**",
    "[链](http://x.cn/)**紧接加粗**[链](http://x.cn/)",
    "[ 链 ](http://x.cn/)(括号)[链](/path)[链](#anchor)![ ](a.png)文字",
    "a[^A]b[^01]c[^a-b]\n\n[^a-b]: 三\n[^01]: 二\n[^A]: 一",
    "> 引文[^1]\n\n[^1]: 注\n\n| 表[^2] | 乙 |\n| --- | --- |\n| 1 | 2 |\n\n[^2]: 注\n\n- 项[^3]\n\n[^3]: 注",
    "[^1]: 定义在前\n\n## 标题\n\n引用在后[^1]",
    "见[人民网](http://www.people.com.cn/)与[新华网](https://www.xinhuanet.com/a_b/c.html?x=1#y)。",
    "[链接开头](http://x.cn/)的段落",
    "![图一](images/a-1.png)",
    "![](images/a-1.png)\n\n![说明](images/a_2.png)",
    "正文[^1]，又一处[^2]。\n\n[^1]: 注一。\n[^2]: 注二**加粗**[链](http://x.cn/)",
    "后定义先引用[^b]与[^a]。\n\n[^a]: 甲\n\n[^b]: 乙",
    "> 引用一段。\n>\n> ——某代表",
    "> 只有一行",
    "- 甲\n- **乙**：说明\n- [丙](http://x.cn/)",
    "1. 第一\n2. 第二\n3. 第三",
    "1. 第一\n9. 编号不连续",
    "列表前的段落：\n\n- 甲\n\n段落\n\n1. 一",
    "| 甲 | 乙 |\n| --- | --- |\n| 1 | 2 |",
    "| 左 | 中 | 右 | 无 |\n| :--- | :---: | ---: | --- |\n| **1** | [2](http://x.cn/) |  | 4 |",
    "2025年以来，数字开头的段落。",
    "“引号”开头与（括号）结尾（）",
    "全角＊星号＊、【方括号】、＃井号、＆与号、＜尖括号＞都不是标记。",
    "段落\n\n\n\n多个空行之后",
    "\n\n开头有空行",
    "结尾有空行\n\n\n",
    "英文 words 与 numbers 123 and (parentheses) and 'quotes'.",
    "段落\n   \n只有空格的行",
]

# Shapes it declines (Python-Markdown renders them; still equal whatever it did).
DECLINED = [
    "转义 \\* 星号",
    "实体 &amp; 与 &#23494;",
    "行内 <span>HTML</span>",
    "*斜体*",
    "_下划线_",
    "a_b 的下划线",
    "`代码`",
    "末尾两个空格  \n换行",
    "制表\t符",
    "回车\r\n换行",
    "## 标题 {#custom}",
    "## 标题**加粗**",
    "## 标题[^1]\n\n[^1]: 注",
    "段落 {: .lead }",
    "[TOC]\n\n## 一\n\n## 二\n\n## 三",
    "[ref][r]\n\n[r]: http://x.cn/",
    "[^missing] 未定义的注脚",
    "一处[^1]两处[^1]\n\n[^1]: 注",
    "未引用的注脚\n\n[^1]: 注",
    "[^1]: 重复\n[^1]: 定义\n\n引[^1]",
    "> 引一\n\n> 引二，会并入前一个引用",
    "- 甲\n\n- 乙，会并成松散列表",
    "- 甲\n\n[^1]: 注\n\n- 乙[^1]",
    "3. 从三开始",
    "- 甲\n懒惰续行",
    "- # 列表里的标题",
    "| 甲 | 乙 |\n| --- | --- |",
    "| 甲 | 乙 |\n| --- | --- |\n| 少一格 |",
    "甲 | 乙\n--- | ---\n1 | 2",
    "标题\n===",
    "***",
    "    缩进代码",
    "```\n围栏\n```",
    "<div>块</div>",
    "!感叹号",
    "[链接](http://x.cn/?a=1&b=2)",
    '[链接](http://x.cn/ "标题")',
    "[链 接](<http://x.cn/>)",
    "**跨\n行加粗**",
    "**加粗 **末尾空格",
    "** 不是加粗 **",
    "\u3000\u3000全角空格缩进的段落",  # the paragraph processor strips any leading space
    "a **\u3000全角空格开头**",
    "**全角空格结尾\u3000**后",
    "**\u00a0不换行空格开头**",
    "a**b**c**d 未闭合",
    '"ASCII 双引号"',
    "注脚占位 ///Footnotes Go Here///",
    "控制字符\x02保留",
    "  \n",
    "",
]


@pytest.mark.parametrize("body", TAKEN)
def test_common_shapes_take_the_direct_path_and_match(body: str) -> None:
    assert _agrees(_stock(), body), "declined a shape it should write"


@pytest.mark.parametrize("body", DECLINED)
def test_other_shapes_go_to_python_markdown(body: str) -> None:
    assert not _agrees(_stock(), body)


def test_shapes_strung_together_in_any_order_match() -> None:
    stock = _stock()
    common = [b.strip("\n") for b in TAKEN if b.strip()]
    odd = [b.strip("\n") for b in DECLINED if b.strip()]
    rng = random.Random(20261130)
    taken = 0
    for _ in range(800):
        picked = rng.sample(common, rng.randint(2, 5))
        if rng.random() < 0.3:
            picked.insert(rng.randrange(len(picked) + 1), rng.choice(odd))
        glue = rng.choice(["\n\n", "\n\n", "\n", "\n\n\n"])
        taken += _agrees(stock, glue.join(picked) + rng.choice(["", "\n", "\n\n"]))
    assert taken > 200  # the combinations exercise the direct path, not only the fallback


@pytest.mark.parametrize(
    "body",
    [
        "机密★5年\n\n正文。",
        "正文提到**绝密★**长期的文件。",
        "机**密**★\n\n正文。",
        "- 秘密 ★ 的列表项",
        "| 甲 | 乙 |\n| --- | --- |\n| 机密★ | 乙 |",
        "> 内部资料，注意保存",
        "正文[^1]。\n\n[^1]: 内部资料 注意保存",
        "机&#23494;★ 写成实体",
        "机&#x5BC6;&#9733; 都是实体",
        "机\u00a0密 ★ 中间不换行空格",
        "## 秘密★\n\n正文。",
    ],
)
def test_secrecy_markings_are_still_found_in_every_shape(body: str) -> None:
    # The review gate reads the body as written and as rendered; the rendered view comes from
    # render_markdown, whichever path made it.
    found = check_secrecy(Subject(meta={"title": "标题"}, body=body), SecrecyList())
    assert found, body


def test_each_thread_has_its_own_converter() -> None:
    seen: dict[str, object] = {}

    def one(name: str) -> None:
        seen[name] = markdown_converter()
        seen[name + "-again"] = markdown_converter()

    threads = [threading.Thread(target=one, args=(f"t{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    converters = {id(seen[f"t{n}"]) for n in range(4)}
    assert len(converters) == 4, "threads must not share a converter (it holds one document's state)"
    assert all(seen[f"t{n}"] is seen[f"t{n}-again"] for n in range(4)), "built once per thread"


def test_threads_rendering_at_once_get_what_one_thread_gets() -> None:
    bodies = [f"## 标题{n}\n\n正文*强调*{n}[^1]。\n\n[^1]: 注{n}\n\n- 甲\n- 乙" for n in range(40)]
    expected = [render_markdown(b) for b in bodies]
    results: dict[int, tuple[str, str]] = {}

    def run(offset: int) -> None:
        for n in range(offset, len(bodies), 4):
            for _ in range(5):
                got = render_markdown(bodies[n])
                assert results.setdefault(n, got) == got

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[n] for n in range(len(bodies))] == expected
    assert sanitise(expected[0][0]) == expected[0][0]


@pytest.mark.parametrize(
    ("extension", "setting", "value"),
    [
        ("toc", "baselevel", 2),
        ("toc", "permalink", True),
        ("toc", "anchorlink", True),
        ("toc", "title", "目录"),
        ("toc", "marker", "目录在此"),
        ("footnotes", "USE_DEFINITION_ORDER", False),
        ("footnotes", "UNIQUE_IDS", True),
        ("footnotes", "SEPARATOR", "-"),
        ("footnotes", "SUPERSCRIPT_TEXT", "[{}]"),
    ],
)
def test_a_converter_configured_otherwise_gets_no_direct_path(
    extension: str, setting: str, value: object
) -> None:
    configs = {name: dict(config) for name, config in EXTENSION_CONFIGS.items()}
    configs.setdefault(extension, {})[setting] = value
    other = markdown.Markdown(extensions=EXTENSIONS, extension_configs=configs, output_format="html")
    assert render_plain(markdown_converter(), TAKEN[0]) is not None
    assert render_plain(other, TAKEN[0]) is None
