"""The inspection on the newsroom `publisher demo` really makes (not a factory one): clean when
untouched, whatever today's date is, and each rule still bites when the demo is tampered with.

Running the demo is the cost (review with argon2 sign-ins, the engine's releases), so it runs once
per database for this module, with a short campaign week; every test below reads that demo, and the
ones that tamper with files put them back.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from publisher.cli import app
from publisher.demo import DEMO_EDITOR, DEMO_LEADER, SUBMITTER, DemoStaff, run_demo
from publisher.engine.publish_now import publish_now
from publisher.ingest import ingest
from publisher.inspection.findings import Report
from publisher.inspection.run import inspect
from publisher.inspection.settings import load_inspection
from publisher.newsroom import Newsroom
from publisher.review import walk
from publisher.review.service import ReviewService
from tests.conftest import PG_URL
from tests.factory import REPO
from tests.pg_schemas import url_of

pytestmark = pytest.mark.slow  # making the demo takes over a minute on a loaded machine

# The demo's story ends as the Constitution Day campaign week does: the last slot (09:00) + 5 minutes.
STORY_END = datetime.fromisoformat("2026-12-04T09:05:00+08:00")
LIVE_PIECE = "standing-committee-29th-session-closes"  # a live news piece naming the chairman


@dataclass(frozen=True)
class Demo:
    root: Path  # the copy the demo made and worked in (var/demo)
    database_url: str
    output: str  # what `publisher demo` printed

    def room(self) -> Newsroom:
        return Newsroom(self.root)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("demo-newsroom")
    shutil.copy(REPO / "publisher.toml", root / "publisher.toml")
    for name in ("content", "channels", "schedules", "review", "bulletins"):
        shutil.copytree(REPO / name, root / name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBLISHER_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
        schema = None
        if request.param == "postgresql":
            schema = f"t_{uuid.uuid4().hex[:12]}"
            with create_engine(PG_URL, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            patch.setenv("PUBLISHER_DATABASE_URL", url_of(PG_URL, schema))
        out = io.StringIO()
        try:
            assert run_demo(Newsroom(root), Console(file=out, width=160), wall_seconds=5)
            copy = root / "var" / "demo"
            yield Demo(copy, Newsroom(copy).database_url, out.getvalue())
        finally:
            if schema is not None:
                admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()


def where(report: Report, rule: str) -> list[str]:
    return sorted(
        f"{s.finding.location}:{s.finding.line}" if s.finding.line else s.finding.location
        for s in report.findings
        if s.finding.rule == rule
    )


def described(report: Report) -> list[str]:
    return [f"{s.finding.rule} {s.finding.location} {s.finding.evidence}" for s in report.findings]


def test_the_demo_records_its_own_time_for_the_inspection(demo: Demo) -> None:
    room = demo.room()
    settings = load_inspection(room.root / "review", room.root)
    assert settings.as_of == STORY_END
    # The sandbox WeChat account closed with the demo; the copy says so instead of naming its port.
    assert not room.channels.channels["wechat"].enabled


def test_the_demo_reports_every_release_at_its_own_time_wechat_included(demo: Demo) -> None:
    # Each release is printed as the worker finishes it. The sandbox account publishes in 0.2 s;
    # asked only every 5 s (a real account's interval), each WeChat post finished days of story
    # time after its slot, after the website releases that followed it.
    released = re.findall(r"^ +(\d{4}-\d\d-\d\d \d\d:\d\d) \+0800 发出 (\S+) ", demo.output, re.M)
    assert len(released) >= 30 and "wechat" in {channel for _at, channel in released}
    assert [at for at, _channel in released] == sorted(at for at, _channel in released)


def test_a_freshly_made_demo_has_no_finding_whatever_todays_date_is(demo: Demo) -> None:
    room = demo.room()
    # No clock given: the inspection judges at the demo's own time, not at today's date.
    report = inspect(room, record=False)
    assert report.findings == [], described(report)
    assert (report.score, report.vetoes, report.passed) == (100, 0, True)
    assert report.as_of == STORY_END
    assert report.checked["pages"] >= 20 and report.checked["live"] >= 20
    # The same at the story's end given explicitly, and at its first campaign morning.
    assert inspect(room, now=STORY_END, record=False).findings == []
    assert inspect(room, now=STORY_END - timedelta(days=7), record=False).findings == []


def test_publisher_inspect_on_the_demo_prints_a_clean_chinese_summary_and_the_reports_place(
    demo: Demo,
) -> None:
    env = {"PUBLISHER_DATABASE_URL": demo.database_url, "COLUMNS": "160"}
    result = CliRunner().invoke(app, ["inspect", "--newsroom", str(demo.root)], env=env)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "得分 / score 100，单项否决 / vetoes 0，合格 / pass" in out
    assert "未发现问题 / nothing found" in out
    assert "检查范围 / checked: 页面 / pages" in out and "在线稿件 / live items" in out
    assert "评判时间 / judged as of 2026-12-04 09:05 +0800" in out
    latest = demo.root / "var" / "inspection" / "latest.html"
    assert f"HTML 报告（含历次得分） / report with the trend: {latest}" in out.replace("\n", "")
    page = latest.read_text(encoding="utf-8")
    assert "得分 100 分，单项否决 0 项：合格" in page and "评判时间 2026-12-04 09:05" in page
    assert "未发现问题" in page and "<table" not in page  # no empty table of findings
    assert "Traceback" not in result.output


def test_three_weeks_on_the_demos_homepage_and_news_column_are_stale(demo: Demo) -> None:
    report = inspect(demo.room(), now=STORY_END + timedelta(weeks=3), record=False)
    assert where(report, "freshness.homepage") == ["index.html"]
    # 工作动态 is the demo's one news column (2 weeks); the others have no deadline.
    assert where(report, "freshness.column") == ["columns/news/"]
    assert not report.passed and report.rules() == {"freshness.homepage", "freshness.column"}


def test_a_page_edited_on_disk_and_a_hidden_link_on_the_homepage_are_found(demo: Demo) -> None:
    public = demo.root / "public"
    page, home = public / "articles" / f"{LIVE_PIECE}.html", public / "index.html"
    originals = {page: page.read_bytes(), home: home.read_bytes()}
    edited = originals[page].replace("陈立新".encode(), "某某某".encode())
    assert edited != originals[page]
    hidden = originals[home].replace(
        b"</main>", b'<div style="display:none"><a href="http://casino.invalid/">x</a></div></main>'
    )
    try:
        for path, data in ((page, edited), (home, hidden)):
            path.unlink()  # a fresh inode: the release's other links keep their bytes
            path.write_bytes(data)
        report = inspect(demo.room(), record=False)
    finally:
        for path, data in originals.items():
            path.unlink()
            path.write_bytes(data)
    assert where(report, "site.tampered") == [f"articles/{LIVE_PIECE}.html", "index.html"]
    assert [w.split(":")[0] for w in where(report, "site.hidden-link")] == ["index.html"]
    # The hidden link's host answers nothing either (casino.invalid can never resolve).
    assert report.rules() == {"site.tampered", "site.hidden-link", "links.broken"} and not report.passed
    assert inspect(demo.room(), record=False).findings == []  # put back: clean again


def test_a_leaders_name_misspelt_in_a_live_article_is_found(demo: Demo) -> None:
    """The review chain does not check names against review/leaders.toml; the inspection does, on
    what is live. The author's slip goes through review and out to the website like any edit."""
    room = demo.room()
    source = room.root / "content" / "news" / f"{LIVE_PIECE}.md"
    source.write_text(source.read_text(encoding="utf-8").replace("陈立新", "陈力新", 1), encoding="utf-8")
    assert ingest(room, actor="demo").ok
    staff, service = DemoStaff(room), ReviewService(room)
    service.submit(LIVE_PIECE, staff.act_as(SUBMITTER))
    walk.sign_through(service, LIVE_PIECE, acknowledge=True, sign_in=staff.act_as)
    released = publish_now(room, LIVE_PIECE, ["website"], staff.act_as(DEMO_EDITOR))
    assert [o.outcome.value for o in released.channels] == ["done"], released
    report = inspect(Newsroom(room.root), record=False)
    found = where(report, "content.leader-name")
    assert found and all(w.startswith(f"articles/{LIVE_PIECE}.html") for w in found)
    assert "陈力新" in " ".join(s.finding.message for s in report.findings)
    # The partners still hold the earlier revision; the article, first published in the story, is
    # not back-dated by its release today.
    assert report.rules() == {"content.leader-name", "partner.outdated"} and not report.passed


def test_the_demo_prints_the_sessions_gazette_from_the_articles_it_approved(demo: Demo) -> None:
    assert "5. 印 · 公报" in demo.output and "2026年第6期" in demo.output
    pdf = demo.root / "var" / "bulletins" / "gazette" / "2026-06.pdf"
    record = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
    assert pdf.read_bytes().startswith(b"%PDF-") and record["built_by"] == DEMO_EDITOR
    assert record["signed_off"]["by"] == DEMO_LEADER and record["signed_off"]["sha256"] == record["sha256"]
    assert [a["slug"] for a in record["articles"]][:1] == ["standing-committee-29th-session-closes"]
    assert all(a["page"] >= 1 for a in record["articles"]) and len(record["articles"]) == 7
    # 《代表之声》 on B5, with the deputy whose profile the demo sent back and fixed.
    voice = json.loads((pdf.parent.parent / "deputies-voice" / "2026-04.json").read_text(encoding="utf-8"))
    assert "代表之声 2026年第4期" in demo.output
    assert [a["slug"] for a in voice["articles"]][-1] == "wang-zhenhua-engineer"
