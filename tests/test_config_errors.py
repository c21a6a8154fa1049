"""Configuration errors a staff member can act on: all at once, each with its line and a suggestion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from publisher.cli import app
from publisher.scaffold import Answers, init_newsroom

runner = CliRunner()

SETTINGS = """\
departments = ["办公室"]
committees = []

[newsroom]
name = "测试人大"
timezon = "Asia/Shanghai"

[engine]
poll_seconds = -1
batchh = 5

[[columns]]
key = "news"
name = "工作动态"

[[columns]]
key = "Local News"
name = "本地新闻"

[[review.stages]]
key = "first-review"
name = "初审"
role = "editer"

[[review.stages]]
key = "final-review"
name = "终审"
role = "leader"

[[users]]
username = "zhang"
name = "张编辑"
roles = ["proofreeder"]
"""

WECHAT = """\
kind = "wechat"
titel = "公众号"

[settings]
app_id = "wx-test"
app_secret_env = "PUBLISHER_WECHAT_SECRET"
quiet_hours = "23:00-06:30"
pushes_per_dya = 2
"""

CAMPAIGN = """\
name = "工作动态"
column = "news"
channels = ["website", "wechat", "site-fed"]
non_working_day = "shif"

[window]
strat = 2026-12-01
end = 2027-06-30

[cadence]
kind = "weekly"
weekdays = ["tue"]
times = ["25:00"]
"""


# Well formed, but naming a column and a channel that do not exist.
NAMES = """\
name = "名称"
column = "newz"
channels = ["websit"]

[window]
start = 2026-12-01
end = 2027-06-30

[cadence]
kind = "weekly"
weekdays = ["wed"]
times = ["10:00"]
"""


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    folder = tmp_path / "room"
    init_newsroom(folder, Answers(name="测试人大"))
    (folder / "publisher.toml").write_text(SETTINGS, encoding="utf-8")
    (folder / "channels" / "wechat.toml").write_text(WECHAT, encoding="utf-8")
    for campaign in (folder / "schedules" / "campaigns").glob("*.toml"):
        campaign.unlink()
    (folder / "schedules" / "campaigns" / "news.toml").write_text(CAMPAIGN, encoding="utf-8")
    (folder / "schedules" / "campaigns" / "names.toml").write_text(NAMES, encoding="utf-8")
    (folder / "review" / "terminology.toml").write_text(
        '[[term]]\nwrong = "一府两院"\npreferred = "一府一委两院"\n\n[[term]]\nwrong = "人大议员"\nprefered = "人大代表"\n',
        encoding="utf-8",
    )
    for article in (folder / "content").rglob("*.md"):
        article.unlink()  # they name columns this test's settings do not declare
    return folder


def _problems(folder: Path) -> tuple[int, list[dict[str, object]], str]:
    result = runner.invoke(app, ["check", "--json"], env={"PUBLISHER_NEWSROOM": str(folder)})
    data = json.loads(result.stdout)
    return result.exit_code, data["problems"], result.stdout


def _find(problems: list[dict[str, object]], file: str, field: str) -> dict[str, object]:
    hits = [p for p in problems if p["file"] == file and p["field"] == field]
    assert hits, f"no problem at {file} [{field}] in {[(p['file'], p['field']) for p in problems]}"
    return hits[0]


def test_one_check_reports_a_dozen_mistakes_in_four_files_each_with_its_line(broken: Path) -> None:
    code, problems, _out = _problems(broken)
    assert code == 2
    expected = [
        # (file, field, line, words the reason must hold)
        ("publisher.toml", "newsroom.timezon", 6, ["未知的键", "unknown key", "'timezone'"]),
        ("publisher.toml", "engine.poll_seconds", 9, ["应 > 0", "must be > 0"]),
        ("publisher.toml", "engine.batchh", 10, ["unknown key", "'batch'"]),
        ("publisher.toml", "columns.1.key", 17, ["小写 ASCII", "lower-case ASCII"]),
        ("publisher.toml", "review.stages.0.role", 23, ["应为以下之一", "expected one of", "'editor'"]),
        ("publisher.toml", "users.0.roles.0", 33, ["expected one of", "'proofreader'"]),
        ("channels/wechat.toml", "titel", 2, ["unknown key", "'title'"]),
        ("channels/wechat.toml", "title", None, ["缺少必填的键", "required key is missing"]),
        ("channels/wechat.toml", "settings.quiet_hours", 7, ["应为列表", "expected a list"]),
        ("channels/wechat.toml", "settings.pushes_per_dya", 8, ["unknown key", "'pushes_per_day'"]),
        ("schedules/campaigns/news.toml", "non_working_day", 4, ["expected one of", "'shift'"]),
        ("schedules/campaigns/news.toml", "window.strat", 7, ["unknown key", "'start'"]),
        ("schedules/campaigns/news.toml", "cadence.times.0", 13, ["25:00"]),
        ("review/terminology.toml", "term.1.prefered", 7, ["unknown key", "'preferred'"]),
        # Names that point into other files, checked against what publisher.toml still declares.
        ("schedules/campaigns/names.toml", "column", 2, ["unknown column", "did you mean 'news'"]),
        ("schedules/campaigns/names.toml", "channels.0", 3, ["unknown channel", "did you mean 'website'"]),
        # ... even in a file whose other keys are wrong.
        ("schedules/campaigns/news.toml", "channels.2", 3, ["unknown channel", "did you mean 'site-feed'"]),
    ]
    for file, field, line, words in expected:
        problem = _find(problems, file, field)
        assert problem["line"] == line, (field, problem)
        for word in words:
            assert word in str(problem["reason"]), (field, word, problem["reason"])
    assert len(problems) >= len(expected)


def test_names_that_refer_to_other_files_get_a_suggestion(tmp_path: Path) -> None:
    folder = tmp_path / "room"
    init_newsroom(folder, Answers(name="测试人大"))
    campaign = folder / "schedules" / "campaigns" / "news.toml"
    text = campaign.read_text(encoding="utf-8")
    text = text.replace('column = "news"', 'column = "newz"').replace('"site-feed", ', '"site-fed", ')
    campaign.write_text(text + '\n[[blackout]]\nkey_date = "宪法曰"\n', encoding="utf-8")
    code, problems, _out = _problems(folder)
    assert code == 1
    column = _find(problems, "schedules/campaigns/news.toml", "column")
    assert "'news'" in str(column["reason"]) and column["line"] == 4
    channel = _find(problems, "schedules/campaigns/news.toml", "channels.1")
    assert "did you mean 'site-feed'" in str(channel["reason"])
    key_date = _find(problems, "schedules/campaigns/news.toml", "blackout.0.key_date")
    assert "did you mean '宪法日'" in str(key_date["reason"])


def test_the_summary_counts_the_files_it_lists(tmp_path: Path) -> None:
    folder = tmp_path / "room"
    init_newsroom(folder, Answers(name="测试人大"))
    feed = folder / "channels" / "site-feed.toml"
    feed.write_text(feed.read_text(encoding="utf-8").replace("items = 30", "itmes = 30"), encoding="utf-8")
    result = runner.invoke(app, ["check"], env={"PUBLISHER_NEWSROOM": str(folder)})
    assert result.exit_code == 1
    assert "1 个文件有问题" in result.stdout and "0 个文件有问题" not in result.stdout
    _code, problems, _out = _problems(folder)
    assert [p["field"] for p in problems if p["severity"] == "error"] == ["settings.itmes"]


def test_commands_find_the_newsroom_from_a_subfolder(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "room"
    init_newsroom(folder, Answers(name="测试人大"))
    inside = folder / "content" / "news"
    result = runner.invoke(app, ["check", "-N", str(inside)], env={"PUBLISHER_DATABASE_URL": db_url})
    assert result.exit_code == 0, result.stdout + result.stderr
    result = runner.invoke(
        app, ["ingest"], env={"PUBLISHER_NEWSROOM": str(inside), "PUBLISHER_DATABASE_URL": db_url}
    )
    assert result.exit_code == 0 and "新增 4 篇" in result.stdout
    elsewhere = runner.invoke(app, ["check", "-N", str(tmp_path)])
    assert elsewhere.exit_code == 2 and "publisher init" in elsewhere.stderr


def test_front_matter_typos_get_a_suggestion(tmp_path: Path) -> None:
    folder = tmp_path / "room"
    init_newsroom(folder, Answers(name="测试人大"))
    article = folder / "content" / "news" / "welcome-news.md"
    text = article.read_text(encoding="utf-8")
    text = text.replace("summary:", "sumary:").replace("department: 办公室", "department: 办公")
    article.write_text(text.replace("kind: news", "kind: nwes"), encoding="utf-8")
    code, problems, _out = _problems(folder)
    assert code == 1
    reasons = {
        str(p["field"]): str(p["reason"]) for p in problems if p["file"] == "content/news/welcome-news.md"
    }
    assert "did you mean 'summary'" in reasons["sumary"]
    assert "did you mean '办公室'" in reasons["department"]
    assert "did you mean 'news'" in reasons["kind"]
