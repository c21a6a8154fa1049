"""`publisher build` and `publisher preview` as staff use them."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from publisher.cli import app
from publisher.engine import scheduling
from publisher.engine.worker import DeliveryWorker
from publisher.newsroom import Newsroom
from publisher.review.service import ReviewService
from publisher.site.preview import make_server
from tests.http_thread import serve_in_thread
from tests.review_helpers import seed_users, sign_through
from tests.site_support import populate

runner = CliRunner()


def test_build_with_the_publication_gate(newsroom_dir: Path, db_url: str) -> None:
    env = {"PUBLISHER_NEWSROOM": str(newsroom_dir), "PUBLISHER_DATABASE_URL": db_url}
    populate(newsroom_dir)
    assert runner.invoke(app, ["ingest"], env=env).exit_code == 0
    result = runner.invoke(app, ["build", "all", "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)[0]
    # Nothing has been through review in this newsroom: the real gate publishes nothing, and the
    # site still builds (empty columns, no broken links) rather than leaking drafts.
    assert report["published"] == [] and "unapproved-draft" in report["excluded"]
    assert (newsroom_dir / "public" / "index.html").is_file()
    result = runner.invoke(app, ["build", "feeds"], env=env)
    assert result.exit_code == 0, result.output


def test_only_what_passed_review_goes_live_and_only_when_released(
    newsroom_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"PUBLISHER_NEWSROOM": str(newsroom_dir), "PUBLISHER_DATABASE_URL": db_url}
    assert runner.invoke(app, ["ingest"], env=env).exit_code == 0
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(newsroom_dir)
    seed_users(room)
    service = ReviewService(room)
    for slug in ("article-1", "article-2"):
        service.submit(slug, "zhouwb")
        sign_through(room, service, slug)
    service.submit("article-3", "zhouwb")  # in review, not approved

    # The demo site publishes on schedule: approval alone does not put a piece up.
    result = runner.invoke(app, ["build", "all", "--json"], env=env)
    report = json.loads(result.stdout)[0]
    assert result.exit_code == 0 and report["published"] == []
    assert any("not released yet" in r for r in report["excluded"]["article-1"])

    # Its release falls due: the engine performs it through the website adapter.
    scheduling.schedule(room, "article-1", ["website"], datetime.now(UTC), "zhouwb")
    scheduling.schedule(room, "article-3", ["website"], datetime.now(UTC), "zhouwb")
    assert DeliveryWorker(room).run_once() == 1
    room.close()
    public = newsroom_dir / "public"
    assert list(public.rglob("article-1*")) and not list(public.rglob("article-2*"))
    assert not list(public.rglob("article-3*"))  # held: not approved

    result = runner.invoke(app, ["build", "all", "--json"], env=env)
    report = json.loads(result.stdout)[0]
    assert report["published"] == ["article-1"]
    assert {"article-2", "article-3"} <= set(report["excluded"])


def test_build_rejects_unknown_targets(newsroom_dir: Path) -> None:
    result = runner.invoke(app, ["build", "wechat"], env={"PUBLISHER_NEWSROOM": str(newsroom_dir)})
    assert result.exit_code == 2


def test_preview_before_any_build_is_a_clear_error(newsroom_dir: Path, tmp_path: Path) -> None:
    env = {
        "PUBLISHER_NEWSROOM": str(newsroom_dir),
        "PUBLISHER_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    result = runner.invoke(app, ["preview", "--port", "0"], env=env)
    assert result.exit_code == 1 and "publisher build" in result.stderr


def test_preview_serves_only_loopback_with_a_404_page(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>首页</p>", encoding="utf-8")
    (tmp_path / "404.html").write_text("<p>页面未找到</p>", encoding="utf-8")
    server = make_server(tmp_path, 0)
    assert server.server_address[0] == "127.0.0.1"
    serve_in_thread(server)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with urllib.request.urlopen(base + "/") as response:
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            assert "首页" in response.read().decode("utf-8")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(base + "/nope.html")
        assert missing.value.code == 404 and "页面未找到" in missing.value.read().decode("utf-8")
    finally:
        server.shutdown()
        server.server_close()
