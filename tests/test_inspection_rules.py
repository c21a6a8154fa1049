"""The inspection's pure rules on their own: hidden links, leaders' names and titles, personal data,
scoring."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from publisher.errors import ConfigError
from publisher.inspection.findings import Finding, score
from publisher.inspection.pages import read_page
from publisher.inspection.settings import InspectionSettings, load_inspection
from publisher.review.checks import Subject
from publisher.review.leaders import Leader, LeaderList, check_leaders
from publisher.review.personal import check_personal, id_number_valid

LEADERS = LeaderList(
    leader=[
        Leader(name="陈立新", titles=["主任", "常委会主任"], wrong=["陈力新"]),
        Leader(name="王建华", titles=["副主任"], wrong=["王健华"]),
    ]
)


def subject(body: str, **meta: object) -> Subject:
    return Subject({"title": "标题", **meta}, body)


def test_links_a_reader_cannot_see_are_hidden_and_visible_ones_are_not() -> None:
    html = b"""<html lang="zh"><body>
<p><a href="/ok.html">ok</a></p>
<div style="display: none"><a href="http://a.invalid/">a</a></div>
<p style="position:absolute; left:-9999px"><a href="http://b.invalid/">b</a></p>
<span style="font-size:0"><a href="http://c.invalid/">c</a></span>
<a hidden href="http://d.invalid/">d</a>
<marquee height="1"><a href="http://e.invalid/">e</a></marquee>
<p style="font-size:0.9em; opacity:0.95"><a href="/also-ok.html">fine</a></p>
</body></html>"""
    links = read_page(html).links
    hidden = {link.url: link.line for link in links if link.hidden}
    assert hidden == {
        "http://a.invalid/": 3,
        "http://b.invalid/": 4,
        "http://c.invalid/": 5,
        "http://d.invalid/": 6,
        "http://e.invalid/": 7,
    }
    assert {link.url for link in links if not link.hidden} == {"/ok.html", "/also-ok.html"}


def test_a_misspelt_name_and_another_leaders_title_are_found_however_written() -> None:
    found = check_leaders(
        subject("第一段。\n\n副主任陈立新和主任王建华出席。\n\n陈\u200b力新讲话。\n"), LEADERS
    )
    codes = sorted((f.code, f.line) for f in found)
    assert codes == [("name:陈立新", 5), ("title:王建华", 3), ("title:陈立新", 3)]
    assert check_leaders(subject("常委会主任陈立新、副主任王建华出席。"), LEADERS) == []
    assert [f.code for f in check_leaders(subject("正文。", summary="王健华主持"), LEADERS)] == [
        "name:王建华"
    ]


def test_identity_numbers_need_their_checksum_and_mobiles_their_shape() -> None:
    assert id_number_valid("11010519491231002X") and not id_number_valid("110105194912310021")
    found = check_personal(
        subject("身份证１１０１０５１９４９１２３１００２Ｘ。\n\n电话13912345678，座机 010-12345678。\n")
    )
    assert sorted((f.code, f.line) for f in found) == [("id-number", 1), ("mobile", 3)]
    assert all("11010519491231002X" not in f.message for f in found)


def test_scores_deduct_per_rule_up_to_its_cap_and_a_veto_fails_whatever_the_score() -> None:
    now = datetime.now(UTC)
    settings = InspectionSettings()
    broken = [Finding("links.broken", f"p{n}.html", "broken") for n in range(30)]
    report = score(broken, settings, now)
    assert report.score == 90 and report.passed  # 1 each, capped at 10
    vetoed = score([Finding("site.injected", "x.html", "injected")], settings, now)
    assert vetoed.score == 100 and vetoed.vetoes == 1 and not vetoed.passed


def test_a_fixed_inspection_time_must_carry_its_offset_and_a_wrong_one_names_its_line(
    tmp_path: Path,
) -> None:
    review = tmp_path / "review"
    review.mkdir()
    (review / "inspection.toml").write_text("pass_mark = 60\nas_of = 2026-12-04T09:05:00\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_inspection(review, tmp_path)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == ("review/inspection.toml", 2, "as_of")
    (review / "inspection.toml").write_text("as_of = 2026-12-04T09:05:00+08:00\n", encoding="utf-8")
    assert load_inspection(review, tmp_path).as_of == datetime(2026, 12, 4, 1, 5, tzinfo=UTC)
    assert load_inspection(tmp_path / "elsewhere", tmp_path).as_of is None  # a real newsroom: the clock
