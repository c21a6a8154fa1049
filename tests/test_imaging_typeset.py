"""Chinese typesetting for long images: 避头尾 over a generated corpus, phrases kept whole, no line
past the margin, a 10,000-character article set without overflow."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest

from publisher.content.frontmatter import parse as parse_front_matter
from publisher.imaging.blocks import ListBlock, Paragraph, Picture, Quote, Table, parse_blocks
from publisher.imaging.compose import Composer, SegmentLimits, Sheet
from publisher.imaging.fonts import Face, font, font_path
from publisher.imaging.linebreak import AUTOSPACE, NO_LINE_END, NO_LINE_START, autospace
from publisher.imaging.template import BUILTIN
from publisher.imaging.typeset import typeset
from tests.factory import shared_corpus_script


def corpus_bodies(tmp_path: Path, count: int) -> list[str]:
    script = shared_corpus_script()
    assert script is not None, "../shared/bench/make_corpus.py is needed beside the checkout"
    out = tmp_path / "corpus"
    subprocess.run(
        [sys.executable, str(script), str(out), "--count", str(count), "--seed", "17", "--quiet"],
        check=True,
    )
    return [parse_front_matter(p.read_text(encoding="utf-8")).body for p in sorted(out.glob("*.md"))]


def test_the_fonts_come_with_the_install_and_carry_their_licence() -> None:
    for face in Face:
        path = font_path(face)
        assert path.is_file() and "packages" in str(path)  # site- or dist-packages: the install's own
    dist = distribution("pylopdf-fonts-zh-cn")
    licence = Path(str(next(dist.locate_file(f) for f in dist.files or [] if f.name == "LICENSE")))
    assert "SIL Open Font License" in licence.read_text(encoding="utf-8")
    assert font(Face.SANS, 30).getlength("宪法") == 60  # real CJK glyphs, one em each


def test_no_line_starts_with_closing_or_ends_with_opening_punctuation_over_a_corpus(tmp_path: Path) -> None:
    bodies = corpus_bodies(tmp_path, 12)
    placed = Composer(BUILTIN).place(
        Sheet(title="语料", column="测试", blocks=tuple(b for body in bodies for b in parse_blocks(body)))
    )
    lines = [line for p in placed for line in p.layout.lines]
    assert len(lines) > 1500
    starts = [line.text for line in lines if line.text[0] in NO_LINE_START]
    ends = [line.text for line in lines if line.text[-1] in NO_LINE_END]
    assert starts == [] and ends == []
    # Narrow measures make the rules work hardest: every paragraph again at three widths.
    paragraphs = [b.text for body in bodies[:4] for b in parse_blocks(body) if isinstance(b, Paragraph)]
    for measure in (160, 333, 517):
        for text in paragraphs:
            layout = typeset(text, font(Face.SANS, 30), measure, 48)
            assert all(line.text[0] not in NO_LINE_START for line in layout.lines), text
            assert all(line.text[-1] not in NO_LINE_END for line in layout.lines), text
            assert layout.overflows() == []


def test_phrases_and_latin_words_are_not_cut_when_they_fit() -> None:
    text = "常委会审议了江澜市Python数据条例草案和2026年预算调整方案的报告"
    for measure in range(200, 700, 37):
        layout = typeset(text, font(Face.SANS, 30), measure, 48)
        for line in layout.lines:
            assert not line.text.endswith(("Pyt", "Py", "20", "202")), line.text
        assert "".join(line.text for line in layout.lines).replace(AUTOSPACE, "") == text


def test_latin_and_digits_get_a_quarter_em_inside_chinese() -> None:
    assert autospace("第3次会议用Python") == f"第{AUTOSPACE}3{AUTOSPACE}次会议用{AUTOSPACE}Python"
    assert autospace("2026年12月") == f"2026{AUTOSPACE}年{AUTOSPACE}12{AUTOSPACE}月"


def test_a_ten_thousand_character_article_renders_without_overflow(tmp_path: Path) -> None:
    bodies = corpus_bodies(tmp_path, 6)
    body = "\n\n".join(bodies)
    han = sum(1 for ch in body if "\u4e00" <= ch <= "\u9fff")
    assert han >= 10_000
    limits = SegmentLimits(max_height=4000, max_bytes=1024 * 1024, format="JPEG")
    image = Composer(BUILTIN).compose(
        Sheet(title="一万字", column="测试", blocks=tuple(parse_blocks(body))), limits
    )
    margin, width = BUILTIN.settings.margin, BUILTIN.settings.width
    for placed in image.placed:
        for line in placed.layout.lines:
            assert placed.left + line.x >= margin
            assert placed.left + line.x + line.width <= width - margin + 0.5, line.text
    assert len(image.segments) > 3
    assert all(s.height <= 4000 and len(s.data) <= 1024 * 1024 for s in image.segments)
    # Filled to the limit but for the last: a cut may fall after any line (only a table row or a
    # heading's space stays whole), so no segment ends in a paragraph's height of blank paper.
    assert all(s.height > 4000 - 300 for s in image.segments[:-1])
    assert sum(s.height for s in image.segments) == image.height


def test_segments_are_cut_between_lines_never_through_one() -> None:
    text = "宪法是国家的根本法，确立了国家的根本制度和根本任务。" * 120
    limits = SegmentLimits(max_height=1500)
    image = Composer(BUILTIN).compose(Sheet(title="切分", column="测试", blocks=(Paragraph(text),)), limits)
    cuts, at = set(), 0
    for segment in image.segments:
        at += segment.height
        cuts.add(at)
    for placed in image.placed:
        for line in placed.layout.lines:
            top = placed.top + line.y
            assert not any(top < cut < top + placed.layout.line_height for cut in cuts)


def test_markdown_blocks_are_read_with_their_structure() -> None:
    body = "导语。\n\n- 一\n- 二\n\n> 引语\n\n| 项目 | 数量 |\n|---|---|\n| 联系点 | 12 |\n\n![现场](images/a%20b.png)\n"
    blocks = parse_blocks(body)
    assert blocks[0] == Paragraph("导语。")
    assert blocks[1] == ListBlock(("一", "二"), ordered=False)
    assert blocks[2] == Quote(("引语",))
    assert blocks[3] == Table(("项目", "数量"), (("联系点", "12"),))
    assert blocks[4] == Picture("images/a b.png", "现场")


@pytest.mark.parametrize("width", [480, 1080, 2160])
def test_no_text_leaves_the_margins_at_any_width(width: int) -> None:
    template = BUILTIN.__class__(BUILTIN.name, BUILTIN.settings.model_copy(update={"width": width}), None)
    body = (
        "## 一、标题很长很长很长很长很长很长很长很长很长很长很长\n\n"
        + "正文，" * 200
        + "\n\n| 甲 | 乙 | 丙 |\n|---|---|---|\n| "
        + "长" * 80
        + " | 2 | 3 |\n"
    )
    image = Composer(template).compose(
        Sheet(title="宽度" * 20, column="测试", blocks=tuple(parse_blocks(body)))
    )
    margin = template.settings.margin
    for placed in image.placed:
        for line in placed.layout.lines:
            assert placed.left + line.x >= margin
            assert placed.left + line.x + line.width <= width - margin + 0.5
