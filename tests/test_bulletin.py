"""Printed bulletins: an issue compiled from approved articles, typeset into a print-ready PDF that
poppler (the reader printers' tools are built on) reads back, recorded in the audit log; every
article the gate would not let out stops the issue, named by the line that lists it."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from publisher.bulletin.build import (
    BulletinProblems,
    IssueState,
    build_issue,
    find_issue,
    open_issue,
    output_paths,
    set_issue,
)
from publisher.bulletin.definitions import PAGE_MM
from publisher.bulletin.pages import (
    BODY_LEADING,
    SCALE,
    ArticleCopy,
    Flow,
    Front,
    Geometry,
    Page,
    Run,
    SectionCopy,
)
from publisher.bulletin.pages import width_of as pages_width
from publisher.bulletin.signoff import SignOffRefused, sign_off, signed_off
from publisher.checkup import checkup
from publisher.cli import app
from publisher.engine.retraction import retract
from publisher.errors import PublisherError
from publisher.imaging import glyphs
from publisher.imaging.blocks import Block, Heading, Paragraph
from publisher.imaging.fonts import Face, font
from publisher.imaging.typeset import Layout, typeset
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review import walk
from publisher.review.service import ReviewService
from publisher.store.tables import Article, AuditEvent
from tests.bulletin_support import (
    BULLETIN,
    ISSUE,
    declare,
    issue_path,
    needs_poppler,
    pdftext,
    squeezed,
    write_articles,
)
from tests.factory import base_meta, write_article
from tests.review_helpers import (
    approve,
    approve_dodging_checks,
    cli_login,
    room_env,
    seed_users,
    sign_through,
)

runner = CliRunner()


@pytest.fixture
def printed(room: Newsroom) -> Newsroom:
    write_articles(room)
    seed_users(room)
    for slug in ("law", "report", "deputy"):
        approve(room, slug)
    declare(room)
    return room


def events(room: Newsroom, action: str) -> list[AuditEvent]:
    with Session(room.engine) as s:
        return list(
            s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.seq)))
        )


@needs_poppler
def test_an_issue_of_approved_articles_prints_with_its_contents_pages_fonts_and_record(
    printed: Newsroom,
) -> None:
    room = printed
    built = build_issue(room, issue_path(room), "zhouwb")
    assert not built.unchanged and built.pdf == output_paths(room, built.issue)[0]
    data = built.pdf.read_bytes()
    assert data.startswith(b"%PDF-") and hashlib.sha256(data).hexdigest() == built.sha256

    cover = squeezed(pdftext(built.pdf, 1))
    for text in (
        "江澜市人民代表大会常务委员会公报",
        "2026年第6期（总第86期）",
        "2026年12月4日",
        "目录",
        "准印证号：江澜内资准字（2026）第018号",
        "编印：江澜市人民代表大会常务委员会办公厅",
    ):
        assert text in cover, text
    # The long law runs over several pages; each article starts where the contents say.
    assert built.starts["law"] == 1 and built.starts["report"] > 2
    assert built.starts["deputy"] == built.starts["report"] + 1
    front = built.pages - max(built.starts.values())  # the last article is one page
    assert front == 1
    titles = {
        "law": "江澜市历史文化名城保护条例",
        "report": "关于河湖保护情况的报告",
        "deputy": "陈树林代表：把山里的杨梅送出大山",
    }
    for slug, folio in built.starts.items():
        page = squeezed(pdftext(built.pdf, front + folio))
        assert titles[slug] in page and f"—{folio}—" in page, (slug, page[:80])
        assert "江澜市人大常委会公报" in page and "2026年第6期（总第86期）" in page  # the running head
    # The contents give each title its page number, after the leader dots.
    for slug, folio in built.starts.items():
        after = cover[cover.index(titles[slug]) + len(titles[slug]) :]
        assert after.lstrip("·").startswith(str(folio)), (slug, after[:20])
    # Every line of the law is there, in order, across its pages.
    law = squeezed("".join(pdftext(built.pdf, front + p) for p in range(1, built.starts["report"])))
    assert "第30条" in law and law.index("第1条") < law.index("第2条") < law.index("第30条")
    assert "本条例自2027年1月1日起施行。" in law and "表决现场" in law and "38" in law

    # Printers need every font embedded; subset, with a Unicode map so the text can be searched.
    fonts = subprocess.run(["pdffonts", str(built.pdf)], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert {r[0].split("+")[1] for r in rows} == {"NotoSansSC", "NotoSerifSC"}
    assert all(r[-5:-2] == ["yes", "yes", "yes"] for r in rows), fonts
    images = subprocess.run(
        ["pdfimages", "-list", str(built.pdf)], check=True, capture_output=True, text=True
    )
    assert len(images.stdout.splitlines()) == 3  # two header lines, the one picture

    # Recorded: who built it, its hash, the very revisions printed, each with its page.
    [event] = events(room, "bulletin.build")
    details = json.loads(event.details_json)
    assert event.actor == "zhouwb" and event.object_id == "gazette/2026-06"
    assert details["sha256"] == built.sha256 and details["pages"] == built.pages
    with Session(room.engine) as s:
        current = {a.slug: a.current_revision_id for a in s.exec(select(Article)) if a.slug in titles}
    assert {a["slug"]: a["revision_id"] for a in details["articles"]} == current
    assert {a["slug"]: a["page"] for a in details["articles"]} == built.starts
    record = json.loads(built.record.read_text(encoding="utf-8"))
    assert record["sha256"] == built.sha256 and record["built_by"] == "zhouwb"

    # The same issue built again is the same file: nothing written, nothing recorded.
    again = build_issue(room, issue_path(room), "zhouwb")
    assert again.unchanged and again.sha256 == built.sha256 and built.pdf.read_bytes() == data
    assert len(events(room, "bulletin.build")) == 1
    # A build cut short before its record (the file written, the event not yet committed) is
    # finished by the next one, not taken for done.
    built.record.unlink()
    finished = build_issue(room, issue_path(room), "zhouwb")
    assert not finished.unchanged and finished.kept is None and built.pdf.read_bytes() == data
    assert len(events(room, "bulletin.build")) == 2 and built.record.is_file()


def test_what_the_gate_would_not_let_out_stops_the_issue_at_the_line_that_lists_it(room: Newsroom) -> None:
    declare(room)  # first: `gazette` is then a destination an article's front matter may name
    write_articles(room)
    content = room.content_dir
    write_article(content, "marked.md", base_meta("marked", title="会议材料"), "机密★1年\n\n正文。\n")
    write_article(
        content, "web-only.md", base_meta("web-only", title="只上网站", channels=["website"]), "正文。\n"
    )
    write_article(
        content,
        "printable.md",
        base_meta("printable", title="也可印", channels=["website", "gazette"]),
        "正文。\n",
    )
    assert ingest(room).ok
    seed_users(room)
    approve(room, "law")
    approve(room, "report")
    approve(room, "web-only")
    approve(room, "printable")
    approve_dodging_checks(room, "marked")
    service = ReviewService(room)
    service.submit("deputy", "zhouwb")
    sign_through(room, service, "deputy", stages=2)  # two of six stages signed
    retract(room, "report", "数据有误", "zhouwb")
    path = declare(
        room,
        ISSUE.replace('["deputy"]', '["deputy", "marked", "web-only", "printable", "deputi"]'),
    )

    with pytest.raises(BulletinProblems) as caught:
        build_issue(room, path, "zhouwb")
    problems = caught.value.problems
    assert {p.file for p in problems} == {"bulletins/gazette/2026-06.toml"}
    by_field = {p.field: p for p in problems}
    assert set(by_field) == {
        "sections.0.articles.1",  # report: retracted
        "sections.1.articles.0",  # deputy: review not finished
        "sections.1.articles.1",  # marked
        "sections.1.articles.2",  # web-only
        "sections.1.articles.4",  # a slug that names nothing
    }
    assert by_field["sections.0.articles.1"].line == 7 and by_field["sections.1.articles.0"].line == 11
    assert "retracted" in by_field["sections.0.articles.1"].reason
    assert "secrecy" in by_field["sections.1.articles.1"].reason
    assert "channels" in by_field["sections.1.articles.2"].reason
    assert "did you mean 'deputy'" in by_field["sections.1.articles.4"].reason
    assert "may not go to print" in by_field["sections.1.articles.0"].reason
    assert not (room.var_dir / "bulletins").exists()
    assert events(room, "bulletin.build") == []


def test_an_article_listed_in_two_sections_is_named_at_its_second_place(printed: Newsroom) -> None:
    room = printed
    path = declare(printed, ISSUE.replace('["deputy"]', '["deputy", "law"]'))
    with pytest.raises(BulletinProblems) as caught:
        build_issue(room, path, "zhouwb")
    [problem] = caught.value.problems
    assert (problem.field, problem.line) == ("sections.1.articles.1", 11)
    assert "already listed in section 1" in problem.reason


def test_a_character_the_fonts_cannot_print_stops_the_issue_instead_of_printing_blank(room: Newsroom) -> None:
    write_articles(room)
    # 𠮷 (U+20BB7, CJK extension B) is in no face the install ships: printed, it would be a gap.
    write_article(
        room.content_dir,
        "deputy.md",
        base_meta("deputy", title="吉𠮷代表的履职故事"),
        "正文。\n\n吉𠮷谈履职。\n",
    )
    assert ingest(room).ok
    seed_users(room)
    for slug in ("law", "report"):
        approve(room, slug)
    # Review warned of it first: every stage signs only once the warning is acknowledged by name.
    service = ReviewService(room)
    submitted = service.submit("deputy", "zhouwb")
    [warning] = [f for f in submitted.warnings if f.check == "glyphs"]
    assert (warning.code, warning.line) == ("glyph:𠮷", 3) and warning.severity == "warning"
    walk.sign_through(service, "deputy", acknowledge=True)
    with pytest.raises(BulletinProblems) as caught:
        build_issue(room, declare(room), "zhouwb")
    [problem] = caught.value.problems
    assert problem.field == "sections.1.articles.0" and problem.line == 11
    assert "𠮷（U+20BB7）" in problem.reason and "blank" in problem.reason


@needs_poppler
def test_a_changed_issue_replaces_the_built_one_only_when_asked_and_keeps_it(printed: Newsroom) -> None:
    room = printed
    first = build_issue(room, issue_path(room), "zhouwb")
    kept_bytes = first.pdf.read_bytes()
    source = room.content_dir / "report.md"
    source.write_text(
        source.read_text(encoding="utf-8") + "\n更正：第二段数据有误，已改正。\n", encoding="utf-8"
    )
    assert ingest(room).ok
    approve(room, "report")

    with pytest.raises(PublisherError, match="--replace"):
        build_issue(room, issue_path(room), "zhouwb")
    assert first.pdf.read_bytes() == kept_bytes  # untouched

    second = build_issue(room, issue_path(room), "zhouwb", replace=True)
    assert second.sha256 != first.sha256 and second.kept is not None
    assert second.kept.read_bytes() == kept_bytes and second.kept.name == f"2026-06.{first.sha256[:12]}.pdf"
    assert "更正：第二段数据有误，已改正。" in squeezed(pdftext(second.pdf))
    assert [json.loads(e.details_json)["sha256"] for e in events(room, "bulletin.build")] == [
        first.sha256,
        second.sha256,
    ]


def test_bad_bulletin_and_issue_files_are_named_with_line_and_key(newsroom_dir: Path) -> None:
    folder = newsroom_dir / "bulletins"
    (folder / "gazette").mkdir(parents=True)
    (folder / "gazette.toml").write_text(BULLETIN + 'page = "A3"\n', encoding="utf-8")
    (folder / "deputies.toml").write_text(BULLETIN.replace("title =", "titel =", 1), encoding="utf-8")
    (folder / "gazette" / "2026-06.toml").write_text(
        ISSUE.replace('[[sections]]\ntitle = "代表风采"', '[[sectons]]\ntitle = "代表风采"'), encoding="utf-8"
    )
    (folder / "gazette" / "2026-07.toml").write_text(
        'number = "第7期"\ndate = 2026-13-01\n', encoding="utf-8"
    )
    (folder / "gazette" / "summer.toml").write_text(ISSUE, encoding="utf-8")
    found = {
        (p.file, p.field, p.line): p.reason for p in checkup(newsroom_dir).problems if "bulletins" in p.file
    }
    assert ("bulletins/gazette.toml", "page", 5) in found and "A4" in found[
        ("bulletins/gazette.toml", "page", 5)
    ]
    assert any(
        f == "bulletins/deputies.toml" and "did you mean 'title'" in r for (f, _, _), r in found.items()
    )
    assert ("bulletins/gazette/2026-06.toml", "sectons", 9) in found  # the header of the misspelt table
    assert any(f == "bulletins/gazette/2026-07.toml" and ln == 2 for (f, _, ln) in found)  # the date
    assert any(f == "bulletins/gazette/summer.toml" and "2026-06.toml" in r for (f, _, _), r in found.items())


def test_the_command_builds_as_the_signed_in_editor_and_refuses_anyone_else(printed: Newsroom) -> None:
    room = printed
    env = {**room_env(room), "COLUMNS": "200"}
    result = runner.invoke(app, ["bulletin", "build", str(issue_path(room))], env=env)
    assert result.exit_code != 0 and "login" in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (room.var_dir / "bulletins").exists()

    cli_login(room, "wangxm")  # an author
    result = runner.invoke(app, ["bulletin", "build", str(issue_path(room))], env=env)
    assert result.exit_code != 0 and "编印公报" in result.output + result.stderr
    assert not (room.var_dir / "bulletins").exists()

    result = runner.invoke(app, ["bulletin", "check", "bulletins/gazette/2026-06.toml"], env=env)
    assert result.exit_code == 0, result.output
    assert "可以付印" in result.output and "江澜市历史文化名城保护条例" in result.output

    cli_login(room, "zhouwb")
    result = runner.invoke(app, ["bulletin", "build", "bulletins/gazette/2026-06.toml", "--json"], env=env)
    assert result.exit_code == 0, result.output
    built = json.loads(result.stdout)
    assert Path(built["pdf"]).is_file() and built["starts"]["law"] == 1
    result = runner.invoke(app, ["bulletin", "list", "--json"], env=env)
    [row] = json.loads(result.stdout)["issues"]
    assert row["sha256"] == built["sha256"] and row["articles"] == 3

    result = runner.invoke(app, ["bulletin", "build", "bulletins/gazette/2099-01.toml"], env=env)
    assert result.exit_code == 2 and "2099-01.toml" in result.output + result.stderr


def _paragraph_lines(n: int) -> str:
    """A paragraph that sets into n full lines and a last one of two characters."""
    per_line = round(Geometry.of(PAGE_MM["A4"]).measure * SCALE) // round(10.5 * SCALE)
    return "审" * (per_line * n + 2)


@pytest.mark.parametrize("page", ["A4", "B5"])
def test_no_text_crosses_a_margin_and_no_paragraph_leaves_one_line_alone(page: str) -> None:
    geometry = Geometry.of(PAGE_MM[page])
    paragraphs = [
        Paragraph(
            f"第{n}段　"
            + "常委会组成人员围绕条例草案的立法目的和主要制度进行了审议，提出Python3.12等意见。" * (n % 7 + 1)
        )
        for n in range(60)
    ]
    blocks: tuple[Block, ...] = (
        Heading(2, "第一章　总则"),
        *paragraphs,
        Heading(2, "第二章　附则"),
        Paragraph("本条例自公布之日起施行。"),
    )
    article = ArticleCopy("law", "江澜市历史文化名城保护条例", "（2026年11月27日）", blocks, {})
    front = Front(
        "江澜市人民代表大会常务委员会公报",
        "公报",
        "2026年第6期",
        "2026年12月4日",
        ("编印：办公厅",),
        "#C00000",
    )
    laid = set_issue([SectionCopy("法规", (article,))], geometry, front)
    assert len(laid.body) > 3
    for page_ in laid.pages:
        for run in page_.items:
            if isinstance(run, Run):
                right = run.x + pages_width(run.text, run.face, run.size)
                assert geometry.left - 0.01 <= run.x and right <= geometry.width - geometry.right + 0.5, run
    # Body text stays between the running head and the foot of the page.
    for page_ in laid.body:
        body = [
            r for r in page_.items if isinstance(r, Run) and r.size == 10.5 and not r.text.startswith("—")
        ]
        assert body and all(geometry.top < r.y <= geometry.foot for r in body)


def test_a_paragraph_leaves_no_orphan_at_the_foot_and_no_widow_at_the_head() -> None:
    geometry = Geometry.of(PAGE_MM["A4"])
    leading = BODY_LEADING
    five = _layout_of(_paragraph_lines(4))  # 5 lines
    assert len(five.lines) == 5

    flow = Flow(geometry, lambda page: None)
    flow.new_page()
    flow.y = geometry.foot - 1.5 * leading  # room for one line: the paragraph starts overleaf
    flow.lines(five, geometry.left, Face.SERIF, 10.5, leading)
    assert [_lines(p) for p in flow.pages] == [0, 5]

    flow = Flow(geometry, lambda page: None)
    flow.new_page()
    flow.y = geometry.foot - 4.5 * leading  # room for four: three here, two overleaf, never 4 + 1
    flow.lines(five, geometry.left, Face.SERIF, 10.5, leading)
    assert [_lines(p) for p in flow.pages] == [3, 2]


def _lines(page: Page) -> int:
    """Lines on a page: a justified line is one run per character, all on one baseline."""
    return len({item.y for item in page.items if isinstance(item, Run)})


def _layout_of(text: str) -> Layout:
    geometry = Geometry.of(PAGE_MM["A4"])
    return typeset(
        text,
        font(Face.SERIF, round(10.5 * SCALE)),
        round(geometry.measure * SCALE),
        round(BODY_LEADING * SCALE),
    )


def test_a_leader_signs_off_exactly_the_built_file_and_a_new_edition_starts_unsigned(
    printed: Newsroom,
) -> None:
    room = printed
    env = {**room_env(room), "COLUMNS": "200"}

    def state() -> IssueState:
        found = find_issue(room, "gazette", "2026-06")
        assert found is not None
        return found

    with pytest.raises(SignOffRefused, match="not built"):
        sign_off(room, state(), "wangjh")
    built = build_issue(room, issue_path(room), "zhouwb")
    good = built.pdf.read_bytes()
    built.pdf.write_bytes(good + b"%tampered\n")  # changed on disk after its build
    with pytest.raises(SignOffRefused, match="differs from its build record"):
        sign_off(room, state(), "wangjh")
    built.pdf.write_bytes(good)
    assert signed_off(state()) is None

    cli_login(room, "zhouwb", "wangjh")
    refused = runner.invoke(
        app, ["bulletin", "sign-off", "bulletins/gazette/2026-06.toml", "--as", "zhouwb"], env=env
    )
    assert refused.exit_code != 0 and "签发公报付印" in refused.output + refused.stderr
    signed = runner.invoke(
        app, ["bulletin", "sign-off", "bulletins/gazette/2026-06.toml", "--as", "wangjh"], env=env
    )
    assert signed.exit_code == 0, signed.output
    signature = signed_off(state())
    assert signature is not None and signature["by"] == "wangjh" and signature["sha256"] == built.sha256
    [event] = events(room, "bulletin.sign_off")
    assert event.actor == "wangjh" and json.loads(event.details_json)["sha256"] == built.sha256
    again, new = sign_off(room, state(), "liucm")
    assert not new and again["by"] == "wangjh" and len(events(room, "bulletin.sign_off")) == 1
    listed = runner.invoke(app, ["bulletin", "list", "--json"], env=env)
    assert json.loads(listed.stdout)["issues"][0]["signed_off_by"] == "wangjh"

    # A correction approved since: the new edition is another file, and unsigned.
    source = room.content_dir / "report.md"
    source.write_text(source.read_text(encoding="utf-8") + "\n更正。\n", encoding="utf-8")
    assert ingest(room).ok
    approve(room, "report")
    build_issue(room, issue_path(room), "zhouwb", replace=True)
    assert signed_off(state()) is None


def test_an_issue_file_is_found_from_the_current_folder_or_the_newsrooms(
    printed: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = printed
    monkeypatch.chdir(room.root / "bulletins" / "gazette")  # a command run beside the issue files
    assert open_issue(room, Path("2026-06.toml")).key == "2026-06"
    monkeypatch.chdir(room.root.parent)  # elsewhere: the path is the newsroom's
    assert open_issue(room, Path("bulletins/gazette/2026-06.toml")).key == "2026-06"
    with pytest.raises(BulletinProblems) as caught:
        open_issue(room, Path("2026-06.toml"))
    assert "no such file" in str(caught.value)


def test_long_contents_run_on_to_further_pages_without_moving_the_folios() -> None:
    geometry = Geometry.of(PAGE_MM["16K"])
    articles = tuple(
        ArticleCopy(f"a{n}", f"关于第{n}项议题的审议意见和办理情况报告", "", (Paragraph("正文。"),), {})
        for n in range(1, 61)
    )
    sections = [SectionCopy("报告", articles[:30]), SectionCopy("决定", articles[30:])]
    front = Front(
        "江澜市人民代表大会常务委员会公报",
        "公报",
        "2026年第6期",
        "2026年12月4日",
        ("编印：办公厅",),
        "#C00000",
    )
    laid = set_issue(sections, geometry, front)
    assert len(laid.front) >= 2 and "目录（续）" in "".join(
        r.text for r in laid.front[1].items if isinstance(r, Run)
    )
    assert [laid.starts[a.slug] for a in articles] == list(range(1, 61))  # one page each, from 1
    contents = [r for page in laid.front for r in page.items if isinstance(r, Run)]
    folios = {r.text for r in contents if r.text.isdigit()}
    assert folios == {str(n) for n in range(1, 61)}
    # The contents stop above the colophon on the cover.
    colophon = next(r for r in laid.front[0].items if isinstance(r, Run) and r.text.startswith("编印"))
    assert all(r.y < colophon.y for r in laid.front[0].items if isinstance(r, Run) and r.text.isdigit())


def test_plain_chinese_text_is_answered_without_reading_a_font_and_invisible_characters_never_miss() -> None:
    # The ranges taken as covered without a cmap lookup are covered by both faces, every code point.
    for face in Face:
        covered = glyphs._covered(face)
        for low, high in glyphs.COMMON_RANGES:
            assert all(code in covered for code in range(low, high + 1)), (face, hex(low))
    assert glyphs.missing_glyphs("内部\u200b传阅\u2005 2026\u3000年\ufeff", Face.SERIF) == []
    assert glyphs.missing_glyphs("䶮𠮷𠮷", Face.SANS) == ["𠮷"]
