"""Inspection (定期清查) of a real built site, served over real HTTP on 127.0.0.1: each kind of
finding is seeded and found, and the untouched site has none."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from publisher.channels.wechat.adapter import WechatAdapter
from publisher.channels.wechat.sandbox import State, free_port
from publisher.checkup import checkup
from publisher.cli import app
from publisher.engine import scheduling
from publisher.engine.clock import FixedClock
from publisher.engine.worker import DeliveryWorker
from publisher.errors import ConfigError, PublisherError
from publisher.inspection import output, tasks
from publisher.inspection.findings import Report
from publisher.inspection.run import history, inspect
from publisher.inspection.settings import Uptime
from publisher.inspection.uptime import interval, probe
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session, write_session
from publisher.store.tables import Article, AuditEvent, InspectionFinding, InspectionRun, Supply
from tests.conftest import reopen
from tests.console_helpers import console_server, seed_staff, sign_in
from tests.inspection_support import ToLoopback, add_article, build, local, serving, write_demo
from tests.review_helpers import approve, seed_users
from tests.site_support import set_retracted
from tests.wechat_helpers import adapter, bundle

runner = CliRunner()
VALID_ID = "11010519491231002X"  # GB 11643's own example: its checksum holds


@pytest.fixture
def demo(room: Newsroom) -> Newsroom:
    write_demo(room.root, datetime.now(UTC))
    return room


def where(report: Report, rule: str) -> list[str]:
    return sorted(
        f"{s.finding.location}:{s.finding.line}" if s.finding.line else s.finding.location
        for s in report.findings
        if s.finding.rule == rule
    )


def test_the_untouched_demo_site_has_no_finding_on_disk_or_over_http(demo: Newsroom) -> None:
    build(demo)
    with serving(demo.root / "public") as live:
        report = inspect(demo, live_url=live, record=False)
    assert [s.finding for s in report.findings] == []
    assert report.score == 100 and report.passed
    assert report.checked["pages"] >= 10 and report.checked["live"] == 5


def test_every_seeded_finding_is_found(demo: Newsroom) -> None:
    add_article(demo, "leader-typo", "工作动态", "## 会议\n\n常委会主任陈力新出席会议并讲话。\n")
    add_article(
        demo, "personal-data", "工作动态", f"## 来信\n\n来信人身份证号{VALID_ID}，电话 138-1234-5678。\n"
    )
    add_article(demo, "not-an-id", "工作动态", "## 案号\n\n案件编号110105194912310021不是身份证号。\n")
    old = (datetime.now(UTC) - timedelta(days=30)).isoformat(timespec="seconds")
    add_article(demo, "back-dated", "工作动态", "## 旧闻\n\n正文。\n", date=old)
    add_article(demo, "to-retract", "工作动态", "## 撤稿\n\n正文。\n")
    (demo.root / "content" / "rdsd.md").unlink()  # a blank column
    build(demo)
    set_retracted(demo, "to-retract")  # retracted, and no build took it down
    public = demo.root / "public"
    page = public / "articles" / "news-piece.html"
    tampered = page.read_bytes().replace("正文第一段".encode(), "被篡改的正文".encode())
    page.unlink()  # a fresh inode: the other releases keep their own bytes
    page.write_bytes(tampered)
    (public / "articles" / "injected.html").write_text("<html lang='zh'><p>博彩</p></html>", encoding="utf-8")
    home = public / "index.html"
    hidden = home.read_text(encoding="utf-8").replace(
        "</main>", '<div style="display:none"><a href="http://casino.invalid/">x</a></div></main>'
    )
    home.unlink()
    home.write_text(hidden, encoding="utf-8")

    with serving(public) as live:
        report = inspect(demo, live_url=live, record=False)

    assert "articles/news-piece.html" in where(report, "site.tampered")
    assert f"{live}/articles/news-piece.html" in where(report, "site.tampered")
    assert where(report, "site.injected") == ["articles/injected.html"]
    assert any(w.startswith("index.html:") for w in where(report, "site.hidden-link"))
    assert "articles/to-retract.html" in where(report, "site.retracted-live")
    assert where(report, "freshness.blank-column") == ["columns/rdsd/"]
    assert where(report, "content.leader-name") == ["articles/leader-typo.html:3"]
    assert where(report, "content.personal-data") == [
        "articles/personal-data.html:3",
        "articles/personal-data.html:3",
    ]
    assert where(report, "content.backdated") == ["articles/back-dated.html"]
    evidence = " ".join(s.finding.message for s in report.findings)
    assert VALID_ID not in evidence and "110***********002X" in evidence  # masked in the report
    assert not report.passed and report.vetoes >= 6


def test_a_stale_column_and_homepage_by_their_class(demo: Newsroom) -> None:
    build(demo)
    later = datetime.now(UTC) + timedelta(days=15)
    report = inspect(demo, now=later, record=False)
    # 工作动态 is a news column (2 weeks); the others are "other" and have no deadline.
    assert where(report, "freshness.column") == ["columns/news/"]
    assert where(report, "freshness.homepage") == ["index.html"]
    assert inspect(demo, now=datetime.now(UTC) + timedelta(days=10), record=False).findings == []


def test_back_dating_is_judged_against_the_first_release_not_a_later_approval(demo: Newsroom) -> None:
    """A piece the engine released at the date it shows stays honest however late it was approved
    (an archive brought in, the demo's history); one first out weeks after its date is back-dated."""
    old = datetime.now(UTC) - timedelta(days=30)
    for slug in ("on-time", "late"):
        add_article(demo, slug, "工作动态", "## 旧闻\n\n正文。\n", date=local(old))
    build(demo)
    seed_users(demo)
    for slug in ("on-time", "late"):
        approve(demo, slug)  # both approved today
    scheduling.schedule(demo, "on-time", ["website"], old, "zhouwb", now=old - timedelta(minutes=1))
    assert DeliveryWorker(demo, clock=FixedClock(old)).run_once() == 1  # released at its date
    build(demo)  # the site shows every piece again
    report = inspect(demo, record=False)
    assert where(report, "content.backdated") == ["articles/late.html"]


def test_todays_lists_flag_what_was_published_before(demo: Newsroom) -> None:
    add_article(demo, "marked", "工作动态", "## 文件\n\n机密★ 的文件摘录。\n\n各级人大议员出席。\n")
    build(demo)  # a gate that lets it through: the inspection still reads it
    report = inspect(demo, record=False)
    assert where(report, "content.secrecy") == ["articles/marked.html:3"]
    assert where(report, "content.terminology") == ["articles/marked.html:5"]
    terms = demo.root / "review" / "terminology.toml"
    terms.write_text(
        terms.read_text(encoding="utf-8") + '\n[[term]]\nwrong = "文件摘录"\npreferred = "文件节选"\n'
    )
    again = inspect(demo, record=False)
    assert where(again, "content.terminology") == ["articles/marked.html:3", "articles/marked.html:5"]


def test_broken_links_are_found_with_page_and_line_politely_and_cached(
    demo: Newsroom, tmp_path: Path
) -> None:
    external = tmp_path / "gov"
    external.mkdir()
    (external / "ok.html").write_text("<p>ok</p>", encoding="utf-8")
    add_article(
        demo,
        "links",
        "工作动态",
        "## 链接\n\n[存在](https://www.gov.cn/ok.html)\n\n[失效](https://www.gov.cn/gone.html)\n\n"
        "[站内失效](/articles/nowhere.html)\n\n[外站](https://evil.example.net/x.html)\n",
    )
    build(demo)
    with serving(external) as gov:
        mounts = {"https://www.gov.cn": ToLoopback(gov), "https://evil.example.net": ToLoopback(gov)}
        report = inspect(demo, mounts=mounts, record=False)
    broken = [s.finding for s in report.findings if s.finding.rule == "links.broken"]
    assert sorted((f.location, f.evidence.split(" ")[0]) for f in broken) == [
        ("articles/links.html", "/articles/nowhere.html"),
        ("articles/links.html", "https://evil.example.net/x.html"),
        ("articles/links.html", "https://www.gov.cn/gone.html"),
    ]
    assert all(f.line for f in broken)
    assert [s.finding.evidence for s in report.findings if s.finding.rule == "site.hidden-link"] == [
        "https://evil.example.net/x.html"  # a domain review/inspection.toml does not list
    ]
    # A day's cache: with the external host gone, the same answers come from var/inspection.
    cached = inspect(demo, record=False)
    assert where(cached, "links.broken") == where(report, "links.broken")


def test_pages_carry_the_government_metadata_tags(demo: Newsroom) -> None:
    build(demo)
    page = (demo.root / "public" / "articles" / "news-piece.html").read_text(encoding="utf-8")
    for tag in (
        'name="SiteIDCode" content="3301000099"',
        'name="ColumnName" content="工作动态"',
        'name="ColumnType" content="动态要闻"',
        'name="ArticleTitle"',
        'name="PubDate"',
        'name="ContentSource" content="研究室"',
        'name="SiteDomain" content="www.jianglan-rd.example.gov.cn"',
    ):
        assert tag in page
    stripped = page.replace('<meta name="PubDate"', '<meta name="Other"').replace(' lang="zh-CN"', "")
    target = demo.root / "public" / "articles" / "news-piece.html"
    target.unlink()
    target.write_text(stripped, encoding="utf-8")
    report = inspect(demo, record=False)
    assert [s.finding.evidence for s in report.findings if s.finding.rule == "meta.missing"] == ["PubDate"]
    assert where(report, "a11y.issue") == ["articles/news-piece.html:2"]


def test_runs_are_audited_kept_for_the_trend_and_fixed_findings_close(demo: Newsroom) -> None:
    build(demo)
    injected = demo.root / "public" / "stray.html"
    injected.write_text("<html lang='zh'></html>", encoding="utf-8")
    first = inspect(demo)
    assert where(first, "site.injected") == ["stray.html"]
    injected.unlink()
    second = inspect(demo)
    assert second.findings == []
    with read_session(demo.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(col(AuditEvent.seq)))]
    found = len(first.findings)  # the stray page, and the metadata tags it lacks
    assert found == 2
    assert actions[-2 * found - 2 :] == [
        "inspection.run",
        *["inspection.finding"] * found,
        "inspection.run",
        *["inspection.fixed"] * found,
    ]
    runs = history(demo)
    assert [r["findings"] for r in runs] == [found, 0]
    html = output.to_html(second, runs, demo.settings.tz, "江澜人大")
    assert "<svg" in html and "得分 100 分" in html
    assert output.to_csv(first).splitlines()[1].startswith("veto,site.injected")


def test_a_broken_inspection_toml_names_the_line(demo: Newsroom) -> None:
    path = demo.root / "review" / "inspection.toml"
    path.write_text(
        'pass_mark = 60\n[freshness]\nhomepage_days = "两周"\nnews_dyas = 14\n[rules]\n'
        '"site.tamperd" = { severity = "veto" }\n"links.broken" = { severity = "fatal" }\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        inspect(demo, record=False)
    lines = {(p.line, p.reason.split(" ")[0]) for p in caught.value.problems}
    reasons = " ".join(p.reason for p in caught.value.problems)
    assert {line for line, _ in lines} == {3, 4, 6, 7}
    assert "news_days" in reasons and "site.tampered" in reasons  # did you mean
    assert all(p.file == "review/inspection.toml" for p in caught.value.problems)


def test_the_command_scores_writes_the_reports_and_fails_on_a_veto(demo: Newsroom, tmp_path: Path) -> None:
    build(demo)
    env = {"PUBLISHER_NEWSROOM": str(demo.root), "PUBLISHER_DATABASE_URL": demo.database_url}
    result = runner.invoke(
        app, ["inspect", "--html", str(tmp_path / "r.html"), "--csv", str(tmp_path / "r.csv")], env=env
    )
    assert result.exit_code == 0, result.output
    assert "100" in result.stdout and (tmp_path / "r.html").is_file() and (tmp_path / "r.csv").is_file()
    (demo.root / "public" / "evil.html").write_text("<html lang='zh'></html>", encoding="utf-8")
    result = runner.invoke(app, ["inspect", "--json"], env=env)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["passed"] is False and data["findings"][0]["rule"] == "site.injected"
    (demo.root / "review" / "inspection.toml").write_text("[links]\nper_host = 5\n", encoding="utf-8")
    result = runner.invoke(app, ["inspect"], env=env)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "inspection.toml" in result.output and "2" in result.output


def foreign_article(room: Newsroom, wechat: WechatAdapter) -> dict[str, object]:
    article = wechat._article(bundle(room, wechat, "legislation-piece")[0])
    article["title"] = "不是本系统发布的文章"
    return article


def test_the_wechat_account_against_what_the_system_posted(room: Newsroom, sb: tuple[State, str]) -> None:
    write_demo(room.root, datetime.now(UTC), wechat=sb[1])
    build(room)
    demo = reopen(room)
    wechat = adapter(demo, sb[1])
    kept, deleted, to_retract = (
        wechat.deliver(bundle(demo, wechat, slug))[0]
        for slug in ("news-piece", "rdsd-piece", "deputies-piece")
    )
    assert inspect(demo, record=False).findings == []
    wechat.client.freepublish.delete(deleted.article_id, 0)  # deleted outside the system
    set_retracted(demo, "deputies-piece")  # retracted, and the takedown never ran
    media = wechat.client.post("draft/add", data={"articles": [foreign_article(demo, wechat)]})["media_id"]
    wechat.client.freepublish.submit(media)  # a post the system never made
    time.sleep(0.5)  # the sandbox publishes after a moment, as WeChat does
    edited = sb[0].posts[str(kept.article_id)].articles[0]
    edited["content"] = str(edited["content"]).replace("正文第一段", "被改过的正文")  # edited on WeChat
    report = inspect(demo, record=False)
    assert where(report, "wechat.tampered") == [f"wechat:{kept.article_id}:1"]
    assert where(report, "wechat.missing") == [f"wechat:{deleted.article_id}:1"]
    assert where(report, "wechat.retracted-live") == [f"wechat:{to_retract.article_id}:1"]
    assert len(where(report, "wechat.foreign-post")) == 1
    assert kept.status == "published"
    stale = inspect(demo, now=datetime.now(UTC) + timedelta(days=15), record=False)
    assert where(stale, "wechat.stale") == ["wechat"]


def test_the_scheduled_inspection_runs_once_across_workers_and_is_audited(demo: Newsroom) -> None:
    build(demo)
    (demo.root / "public" / "stray.html").write_text("<html lang='zh'></html>", encoding="utf-8")
    workers = [DeliveryWorker(reopen(demo), worker_id=f"w{n}") for n in range(3)]
    slot = datetime(2026, 11, 30, 6, 30, tzinfo=demo.settings.tz)
    results: list[Report | None] = []
    threads = [threading.Thread(target=lambda w=w: results.append(w.inspect_due(slot))) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reports = [r for r in results if r is not None]
    assert len(reports) == 1 and where(reports[0], "site.injected") == ["stray.html"]
    with read_session(demo.engine) as session:
        runs = session.exec(select(InspectionRun)).all()
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "inspection.run")).all()
    assert [(r.id, r.passed) for r in runs] == [("scheduled-2026-11-30T06:30", False)]
    assert [e.actor for e in events] == ["engine"]
    latest = demo.var_dir / "inspection"
    assert "stray.html" in (latest / "latest.html").read_text(encoding="utf-8")
    assert json.loads((latest / "latest.json").read_text(encoding="utf-8"))["passed"] is False
    for w in workers:
        w.room.close()


def test_a_worker_arms_the_times_schedules_newsroom_toml_names(demo: Newsroom) -> None:
    worker = DeliveryWorker(demo, worker_id="armed")
    worker.start()
    try:
        assert worker._scheduler is not None
        assert worker._scheduler.get_job("inspection-0630") is not None
    finally:
        worker.shutdown()


def test_findings_are_tasks_accepted_with_a_reason_and_closed_when_fixed(demo: Newsroom) -> None:
    build(demo)
    stray = demo.root / "public" / "stray.html"
    stray.write_text("<html lang='zh'></html>", encoding="utf-8")
    first = inspect(demo)
    meta = next(s.finding.key for s in first.findings if s.finding.rule == "meta.missing")
    injected = next(s.finding.key for s in first.findings if s.finding.rule == "site.injected")
    now = datetime.now(UTC)
    with write_session(demo.engine) as session:
        with pytest.raises(PublisherError):
            tasks.accept(session, meta, "  ", "admin", now)
        tasks.accept(session, meta, "测试页，不对外", "admin", now)
        tasks.assign(session, injected, "zhouwb", "admin", now)
    second = inspect(demo)
    assert [s.finding.rule for s in second.findings] == ["site.injected"]
    assert second.checked["accepted"] == 1
    stray.unlink()
    inspect(demo)
    with read_session(demo.engine) as session:
        states = {row.key: (row.state, row.owner) for row in session.exec(select(InspectionFinding))}
    assert states == {meta: ("accepted", None), injected: ("fixed", "zhouwb")}


def test_publisher_check_names_the_line_of_a_broken_leaders_or_inspection_file(demo: Newsroom) -> None:
    review = demo.root / "review"
    (review / "leaders.toml").write_text(
        '[[leader]]\nname = "陈立新"\n\n[[leader]]\nname = "陈"\n', encoding="utf-8"
    )
    (review / "inspection.toml").write_text("[uptime]\nfailure_ratio = 5\n", encoding="utf-8")
    problems = checkup(demo.root).problems
    found = {(p.file, p.line) for p in problems}
    assert ("review/leaders.toml", 5) in found and ("review/inspection.toml", 2) in found


def test_uptime_applies_the_weeks_failure_ratio_to_recorded_probes(demo: Newsroom, tmp_path: Path) -> None:
    build(demo)
    settings = Uptime()
    start = datetime.now(UTC) - timedelta(days=1)
    with serving(demo.root / "public") as live:
        for n in range(19):
            assert probe(demo, "website", live + "/", settings, start + interval(settings) * n) is not None
        # Another worker's probe of the same slot is not recorded twice.
        assert probe(demo, "website", live + "/", settings, start) is None
    assert inspect(demo, record=False).findings == []
    closed = f"http://127.0.0.1:{free_port()}/"
    failed = probe(demo, "website", closed, settings, start + interval(settings) * 19)
    assert failed is not None and not failed.ok and failed.error
    report = inspect(demo, record=False)  # 1 of 20 failed: 5 %
    assert where(report, "site.unreachable") == ["website"]
    env = {"PUBLISHER_NEWSROOM": str(demo.root), "PUBLISHER_DATABASE_URL": demo.database_url}
    result = runner.invoke(app, ["inspect", "--probe", "--live", closed], env=env)
    assert result.exit_code == 1 and "down" in result.stdout


def test_partner_holdings_must_be_approved_current_and_unretracted(demo: Newsroom) -> None:
    build(demo)
    seed_users(demo)
    for slug in ("news-piece", "rdsd-piece"):
        approve(demo, slug)
    with read_session(demo.engine) as session:
        articles = {a.slug: a for a in session.exec(select(Article))}
    held = {
        slug: articles[slug].current_revision_id for slug in ("news-piece", "rdsd-piece", "deputies-piece")
    }
    path = demo.root / "content" / "news.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("第二段。", "第二段（更正）。"), encoding="utf-8"
    )
    build(demo)
    approve(demo, "news-piece")  # a correction approved, never sent to the partner
    set_retracted(demo, "rdsd-piece")
    now = datetime.now(UTC)
    with write_session(demo.engine) as session:
        for slug, revision in held.items():
            assert revision is not None
            session.add(
                Supply(
                    partner="partner-provincial-daily",
                    article_id=articles[slug].id or 0,
                    revision_id=revision,
                    first_revision_id=revision,
                    pubstatus="usable",
                    first_supplied_at=now,
                    updated_at=now,
                )
            )
    report = inspect(demo, record=False)
    assert where(report, "partner.outdated") == ["partner-provincial-daily:news-piece"]
    assert where(report, "partner.retracted-live") == ["partner-provincial-daily:rdsd-piece"]
    assert where(report, "partner.unapproved") == ["partner-provincial-daily:deputies-piece"]


def test_the_console_lists_the_findings_and_an_editor_accepts_and_assigns(demo: Newsroom) -> None:
    build(demo)
    (demo.root / "public" / "stray.html").write_text("<html lang='zh'></html>", encoding="utf-8")
    report = inspect(demo)
    injected = next(s.finding.key for s in report.findings if s.finding.rule == "site.injected")
    seed_staff(demo)
    with console_server(demo) as base:
        author, author_csrf = sign_in(base, "wangxm")
        listing = author.get("/inspection")
        assert listing.status_code == 200 and "stray.html" in listing.text and "单项否决" in listing.text
        refused = author.post(
            f"/inspection/{injected}/accept", data={"reason": "x", "csrf_token": author_csrf}
        )
        assert refused.status_code == 403
        editor, csrf = sign_in(base, "zhouwb")
        blank = editor.post(f"/inspection/{injected}/accept", data={"reason": " ", "csrf_token": csrf})
        assert blank.status_code >= 400 and "理由" in blank.text
        editor.post(f"/inspection/{injected}/assign", data={"owner": "liangyu", "csrf_token": csrf})
        done = editor.post(f"/inspection/{injected}/accept", data={"reason": "测试页面", "csrf_token": csrf})
        assert done.status_code == 200 and "已接受：测试页面" in done.text and "liangyu" in done.text
    with read_session(demo.engine) as session:
        row = session.get(InspectionFinding, injected)
        assert row is not None and (row.state, row.owner, row.reason) == ("accepted", "liangyu", "测试页面")
