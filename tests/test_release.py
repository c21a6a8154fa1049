"""What the website and feeds show while an article is corrected, scheduled or restricted to some
channels (issue 11, points 5, 6 and 8), and the state `publisher articles` reports for each."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import Session, select
from typer.testing import CliRunner

from publisher import articles, standing
from publisher.cli import app
from publisher.engine import retraction, scheduling
from publisher.engine.clock import FixedClock
from publisher.engine.release import released_gate
from publisher.engine.worker import DeliveryWorker
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.gate import publication_gate
from publisher.review.service import ReviewService
from publisher.site.build import build_site
from publisher.store.tables import Article, Delivery, Revision
from publisher.supply.ninjs import Packager
from tests.factory import base_meta, write_article
from tests.review_helpers import approve, seed_users
from tests.site_support import public, website

WEBSITE_TOML = (
    'kind = "website"\ntitle = "江澜人大网"\n[settings]\n'
    'base_url = "https://www.jianglan-rd.example.gov.cn"\noutput = "public"\nrelease = "{mode}"\n'
)


def open_room(newsroom_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, mode: str) -> Newsroom:
    (newsroom_dir / "channels" / "website.toml").write_text(WEBSITE_TOML.format(mode=mode), encoding="utf-8")
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(newsroom_dir)
    assert not room.channels.problems, room.channels.problems
    assert ingest(room).ok
    seed_users(room)
    return room


@pytest.fixture(params=["scheduled", "approved"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sroom(newsroom_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, mode: str) -> Iterator[Newsroom]:
    room = open_room(newsroom_dir, db_url, monkeypatch, mode)
    yield room
    room.close()


@pytest.fixture
def aroom(newsroom_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Newsroom]:
    """A website in its default `release = "approved"` (build-time) mode."""
    room = open_room(newsroom_dir, db_url, monkeypatch, "approved")
    yield room
    room.close()


def release_now(room: Newsroom, slug: str) -> None:
    """Approve and release on the website and its feed through the engine."""
    approve(room, slug)
    scheduling.schedule(room, slug, ["website", "site-feed"], datetime.now(UTC), "zhouwb")
    assert DeliveryWorker(room).run_once() == 2


def edit(room: Newsroom, slug: str, body: str) -> None:
    write_article(room.root / "content", f"{slug}.md", base_meta(slug, title=f"测试稿件第{slug[-1]}篇"), body)
    assert ingest(room).revised


def page(room: Newsroom, slug: str) -> str:
    path = public(room) / "articles" / f"{slug}.html"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def build(room: Newsroom, now: datetime | None = None) -> list[str]:
    return build_site(room, website(room), released_gate(room), now=now, workers=1).published


def atom(room: Newsroom) -> str:
    return (public(room) / "feeds" / "all.atom.xml").read_text(encoding="utf-8")


# -- point 5: corrections --------------------------------------------------------------------------
def test_a_correction_in_review_keeps_the_released_revision_live(sroom: Newsroom) -> None:
    release_now(sroom, "article-2")
    assert "正文第一段" in page(sroom, "article-2")
    edit(sroom, "article-2", "## 标题\n\n更正后的正文，改了一个字。\n")
    ReviewService(sroom).submit("article-2", "zhouwb")  # the correction is in review
    assert "article-2" in build(sroom)
    live = page(sroom, "article-2")
    assert "正文第一段" in live and "更正后的正文" not in live and "更正：" not in live
    assert "article-2" in atom(sroom)
    # A rebuild by the engine for another article keeps it too.
    release_now(sroom, "article-3")
    assert "正文第一段" in page(sroom, "article-2") and "article-3" in build(sroom)


def test_an_approved_correction_replaces_the_page_with_a_correction_note(sroom: Newsroom, mode: str) -> None:
    release_now(sroom, "article-2")
    first_atom = atom(sroom)
    edit(sroom, "article-2", "## 标题\n\n更正后的正文，改了一个字。\n")
    approve(sroom, "article-2")
    with Session(sroom.engine) as s:
        queued = s.exec(
            select(Delivery.channel).where(Delivery.status == "scheduled", Delivery.action == "publish")
        ).all()
    # The approval queued the corrected revision where the article went: the site and its feed.
    assert sorted(queued) == ["site-feed", "website"]
    # Until the engine releases it, the site keeps what it released.
    build(sroom)
    assert "正文第一段" in page(sroom, "article-2")
    assert DeliveryWorker(sroom).run_once() == 2
    corrected = page(sroom, "article-2")
    assert "更正后的正文" in corrected and "正文第一段" not in corrected
    note = corrected.index('class="correction-note"')
    assert corrected.index("<h1>") < note < corrected.index('class="article-body"')
    assert "更正：本文于 <time" in corrected and "日 " in corrected[note : note + 200]
    entry = atom(sroom).split("<entry>")[1]
    assert atom(sroom) != first_atom and entry.count("<updated>") == 1
    assert "<published>" in entry and entry.split("<updated>")[1][:19] != entry.split("<published>")[1][:19]
    with Session(sroom.engine) as s:
        views = articles.list_articles(s)
        state = standing.standings(s, [v.article.id for v in views if v.article.id is not None])
    [view] = [v for v in views if v.article.slug == "article-2"]
    assert state[view.article.id or 0].state is standing.ArticleState.LIVE
    assert state[view.article.id or 0].live_number == 2


# -- point 6: safe release default -----------------------------------------------------------------
def test_a_website_in_immediate_mode_never_shows_an_article_before_its_scheduled_release(
    aroom: Newsroom,
) -> None:
    approve(aroom, "article-2")
    approve(aroom, "article-3")
    due = datetime.now(UTC) + timedelta(days=2)
    scheduling.schedule(aroom, "article-2", ["website"], due, "zhouwb")
    report = build_site(aroom, website(aroom), released_gate(aroom), workers=1)
    assert "article-3" in report.published and "article-2" not in report.published
    assert any("scheduled for release" in r for r in report.excluded["article-2"])
    assert page(aroom, "article-2") == "" and "article-2" not in atom(aroom)
    # The engine releasing another article now rebuilds the site: still not before its time.
    scheduling.schedule(aroom, "article-3", ["website"], datetime.now(UTC), "zhouwb")
    assert DeliveryWorker(aroom).run_once() == 1
    assert page(aroom, "article-2") == "" and page(aroom, "article-3")
    # At its time the engine releases it.
    assert DeliveryWorker(aroom, clock=FixedClock(due + timedelta(seconds=1))).run_once() == 1
    assert "正文第一段" in page(aroom, "article-2")


# -- point 8: the channel restriction --------------------------------------------------------------
def test_the_channel_restriction_is_enforced_by_the_gate_and_scheduling(aroom: Newsroom) -> None:
    meta = base_meta("article-2", title="测试稿件第2篇", channels=["website", "site-feed"])
    write_article(aroom.root / "content", "article-2.md", meta)
    assert ingest(aroom).revised
    approve(aroom, "article-2")
    with pytest.raises(scheduling.ScheduleError, match="channels") as refused:
        scheduling.schedule(aroom, "article-2", ["website", "wechat"], datetime.now(UTC), "zhouwb")
    assert "wechat" in str(refused.value)
    channels = aroom.channels.channels
    with Session(aroom.engine) as s:
        article = s.exec(select(Article).where(Article.slug == "article-2")).one()
        revision = s.get(Revision, article.current_revision_id)
        assert revision is not None
        now = datetime.now(UTC)
        denied = publication_gate(s, revision, channels["wechat"], now)
        assert not denied.allowed and any("channels" in r for r in denied.reasons)
        assert publication_gate(s, revision, channels["website"], now).allowed
        batched = publication_gate.many(s, [revision])
        assert not batched(s, revision, channels["wechat"], now).allowed
        partner = Packager(aroom, channels["partner-provincial-daily"]).refusal(revision)
    assert partner is not None and "channels" in partner
    assert "article-2" in build(aroom)


# -- `publisher articles` ------------------------------------------------------------------------
def test_articles_lists_each_state_from_draft_to_retracted(aroom: Newsroom, db_url: str) -> None:
    for n in range(4, 9):
        write_article(aroom.root / "content", f"article-{n}.md", base_meta(f"article-{n}", title=f"稿件{n}"))
    assert ingest(aroom).ok
    service = ReviewService(aroom)
    service.submit("article-2", "zhouwb")  # in review at the first stage
    approve(aroom, "article-3")  # approved
    approve(aroom, "article-4")
    scheduling.schedule(aroom, "article-4", ["website"], datetime.now(UTC) + timedelta(days=1), "zhouwb")
    release_now(aroom, "article-5")  # live with revision 1
    release_now(aroom, "article-6")
    edit(aroom, "article-6", "## 标题\n\n更正稿。\n")
    service.submit("article-6", "zhouwb")  # correction pending: 1 live, 2 in review
    release_now(aroom, "article-7")
    retraction.retract(aroom, "article-7", "内容有误", "zhouwb")
    result = CliRunner().invoke(
        app,
        ["articles", "--json"],
        env={"PUBLISHER_NEWSROOM": str(aroom.root), "PUBLISHER_DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    listing = {a["slug"]: a for a in json.loads(result.stdout)}
    states = {slug: a["state"] for slug, a in listing.items()}
    assert states == {
        "article-1": "draft",
        "article-2": "in_review",
        "article-3": "approved",
        "article-4": "scheduled",
        "article-5": "live",
        "article-6": "correction_pending",
        "article-7": "retracted",
        "article-8": "draft",
    }
    assert (
        listing["article-2"]["review_stage"]
        and listing["article-2"]["review_stage"] in (listing["article-2"]["state_label"])
    )
    pending = listing["article-6"]
    assert pending["live_revision"] == 1 and pending["number"] == 2
    assert "live 1, 2 in review at" in pending["state_label"]
    assert listing["article-5"]["state_label"].endswith("live with revision 1")
    table = CliRunner().invoke(
        app, ["articles"], env={"PUBLISHER_NEWSROOM": str(aroom.root), "PUBLISHER_DATABASE_URL": db_url}
    )
    assert table.exit_code == 0 and "更正待发" in table.stdout


# -- the selection stays batched -------------------------------------------------------------------
def test_choosing_the_released_revision_costs_queries_that_do_not_grow_with_the_site(
    sroom: Newsroom,
) -> None:
    release_now(sroom, "article-2")
    edit(sroom, "article-2", "## 标题\n\n更正稿。\n")
    ReviewService(sroom).submit("article-2", "zhouwb")

    def selects_of_a_build(count: int) -> int:
        for n in range(count):
            write_article(sroom.root / "content", f"bulk/a-{n}.md", base_meta(f"bulk-{n}", title=f"批量{n}"))
        assert ingest(sroom).ok
        statements: list[str] = []

        def note(conn: object, cursor: object, statement: str, *rest: object) -> None:
            statements.append(statement)

        event.listen(sroom.engine, "before_cursor_execute", note)
        try:
            published = build(sroom)
        finally:
            event.remove(sroom.engine, "before_cursor_execute", note)
        assert "article-2" in published
        return sum(1 for q in statements if q.lstrip().upper().startswith("SELECT"))

    assert selects_of_a_build(20) == selects_of_a_build(60)
