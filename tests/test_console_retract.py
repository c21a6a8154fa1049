"""撤稿 and 更正 over real HTTP: what will be taken down where before the confirm, the reason
required, the per-channel report; where a pending correction goes by each channel's policy, and
its submission to review with a required note."""

from __future__ import annotations

import pytest
from sqlmodel import select

from publisher.engine.publish_now import publish_now
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import Retraction, ReviewState
from tests.console_helpers import console_server, seed_staff, sign_in
from tests.factory import base_meta, write_article
from tests.review_helpers import approve


@pytest.fixture
def published(room: Newsroom) -> Newsroom:
    assert ingest(room).ok
    seed_staff(room)
    approve(room, "article-1")
    report = publish_now(room, "article-1", ["website"], "zhouwb")
    assert report.channels[0].outcome == "done"
    return room


def retractions(room: Newsroom) -> list[Retraction]:
    with read_session(room.engine) as session:
        return list(session.exec(select(Retraction)))


def test_the_retract_form_shows_where_it_will_be_taken_down_and_needs_a_reason(published: Newsroom) -> None:
    with console_server(published) as base:
        client, csrf = sign_in(base, "qianwd")  # a department head may retract
        form = client.get("/articles/article-1/retract")
        assert form.status_code == 200 and "将从以下渠道撤下" in form.text and "<li>website</li>" in form.text
        refused = client.post("/articles/article-1/retract", data={"csrf_token": csrf, "reason": "  "})
        assert refused.status_code == 400 and "请填写撤稿理由" in refused.text
        assert retractions(published) == []
        done = client.post("/articles/article-1/retract", data={"csrf_token": csrf, "reason": "数据有误<b>"})
        assert done.status_code == 200 and "各渠道撤下情况" in done.text
        assert "数据有误&lt;b&gt;" in done.text and "website" in done.text
        assert "已撤下" in done.text or "待引擎执行" in done.text
        again = client.get("/articles/article-1/retract")
        assert "本稿已撤稿" in again.text and "确认撤稿" not in again.text
    (kept,) = retractions(published)
    assert (kept.reason, kept.retracted_by) == ("数据有误<b>", "qianwd")


def test_a_role_without_retract_or_a_forged_form_takes_nothing_down(published: Newsroom) -> None:
    with console_server(published) as base:
        author, csrf = sign_in(base, "wangxm")
        assert author.get("/articles/article-1/retract").status_code == 403
        assert (
            author.post("/articles/article-1/retract", data={"csrf_token": csrf, "reason": "x"}).status_code
            == 403
        )
        editor, _ = sign_in(base, "zhouwb")
        assert editor.post("/articles/article-1/retract", data={"reason": "x"}).status_code == 403
        assert editor.get("/articles/no-such/retract").status_code == 404
    assert retractions(published) == []


def test_the_correction_page_shows_each_channels_policy_and_submits_with_a_note(published: Newsroom) -> None:
    write_article(
        published.content_dir,
        "article-1.md",
        base_meta("article-1", title="测试稿件第1篇（更正）", cover="images/cover.png"),
        "导语。\n\n![现场](images/inline.png)\n\n正文，数字已更正。\n",
    )
    assert ingest(published).ok
    with console_server(published) as base:
        client, csrf = sign_in(base, "zhouwb")
        page = client.get("/articles/article-1/correction")
        assert page.status_code == 200
        assert "website" in page.text and "第 1 版" in page.text and "替换为更正后的版本" in page.text
        assert "/articles/article-1/diff?left=1&amp;right=2" in page.text
        refused = client.post("/articles/article-1/correction", data={"csrf_token": csrf, "note": ""})
        assert refused.status_code == 400 and "请填写更正说明" in refused.text
        done = client.post("/articles/article-1/correction", data={"csrf_token": csrf, "note": "更正数字"})
        assert done.status_code == 200 and "更正已提交审核" in done.text and "正在审核中" in done.text
    with read_session(published.engine) as session:
        states = [s.status for s in session.exec(select(ReviewState))]
    assert sorted(states) == ["approved", "in_review"]
