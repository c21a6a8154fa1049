"""publisher image long: the current or a given revision as a long image, its templates, the cache
by revision and template hash, and clear errors instead of tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from publisher.channels.kinds import ImageLimits
from publisher.checkup import checkup
from publisher.cli import app
from publisher.imaging.service import long_image
from publisher.imaging.template import load_template
from publisher.newsroom import Newsroom
from publisher.scaffold import Answers, init_newsroom
from publisher.store.engine import read_session
from tests.factory import base_meta, write_article, write_image
from tests.wechat_helpers import revisions

runner = CliRunner()
BODY = "导语：江澜市人大常委会召开座谈会。\n\n## 一、主要内容\n\n![座谈会现场](images/meeting.png)\n\n" + (
    "常委会组成人员围绕条例草案的立法目的、适用范围和主要制度进行了审议。" * 30
)


@pytest.fixture
def env(newsroom_dir: Path, db_url: str) -> dict[str, str]:
    write_image(newsroom_dir / "content" / "images" / "meeting.png", (300, 160), (40, 110, 70))
    write_article(newsroom_dir / "content", "draw-me.md", base_meta("draw-me", title="座谈会长图"), BODY)
    return {"PUBLISHER_NEWSROOM": str(newsroom_dir), "PUBLISHER_DATABASE_URL": db_url, "COLUMNS": "200"}


def test_image_long_writes_the_current_revision_and_cuts_segments_on_request(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert runner.invoke(app, ["ingest"], env=env).exit_code == 0
    result = runner.invoke(app, ["image", "long", "draw-me", "--out", str(tmp_path / "one.png")], env=env)
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "one.png") as image:
        assert image.format == "PNG" and image.width == 1080 and image.height > 2000
        whole = image.height
    result = runner.invoke(
        app, ["image", "long", "draw-me", "--max-height", "1200", "--out", str(tmp_path / "cut.jpg")], env=env
    )
    assert result.exit_code == 0, result.output
    parts = sorted(tmp_path.glob("cut-*.jpg"))
    assert len(parts) >= 2
    heights = []
    for part in parts:
        with Image.open(part) as image:
            assert image.format == "JPEG" and image.height <= 1200
            heights.append(image.height)
    assert sum(heights) == whole  # the same image, cut between blocks and lines


def test_a_given_revision_is_drawn_not_the_current_one(env: dict[str, str], tmp_path: Path) -> None:
    assert runner.invoke(app, ["ingest"], env=env).exit_code == 0
    root = Path(env["PUBLISHER_NEWSROOM"])
    write_article(root / "content", "draw-me.md", base_meta("draw-me", title="座谈会长图"), "只剩一句。")
    assert runner.invoke(app, ["ingest"], env=env).exit_code == 0
    for number, out in (("1", "first.png"), ("2", "second.png")):
        result = runner.invoke(
            app, ["image", "long", "draw-me", "--revision", number, "--out", str(tmp_path / out)], env=env
        )
        assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "first.png") as first, Image.open(tmp_path / "second.png") as second:
        assert first.height > second.height + 1000


def test_errors_name_the_article_the_revision_and_the_template(env: dict[str, str]) -> None:
    assert runner.invoke(app, ["ingest"], env=env).exit_code == 0
    for args, said in (
        (["image", "long", "no-such"], "no-such"),
        (["image", "long", "draw-me", "--revision", "7"], "no revision '7'"),
        (["image", "long", "draw-me", "--template", "fancy"], "no template 'fancy'"),
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert said in " ".join(result.stderr.split())


def test_a_broken_template_is_reported_with_file_line_and_field(newsroom_dir: Path) -> None:
    folder = newsroom_dir / "channels" / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "blue.toml").write_text('width = 1080\n[colours]\nbanner = "navy"\n', encoding="utf-8")
    problems = [p for p in checkup(newsroom_dir).problems if p.file.endswith("blue.toml")]
    assert [(p.line, p.field) for p in problems] == [(3, "colours.banner")]
    assert "#RRGGBB" in problems[0].reason


def test_renders_are_cached_by_revision_and_template_hash(room: Newsroom) -> None:
    write_image(room.content_dir / "images" / "meeting.png", (300, 160), (40, 110, 70))
    write_article(room.content_dir, "draw-me.md", base_meta("draw-me"), BODY)
    (revision,) = revisions(room, "draw-me")
    with read_session(room.engine) as session:
        first = long_image(room, session, revision, url="https://x.example/a", limits=ImageLimits())
        again = long_image(room, session, revision, url="https://x.example/a", limits=ImageLimits())
        folder = room.root / "channels" / "templates"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "default.toml").write_text('[colours]\nbanner = "#0b3c6e"\n', encoding="utf-8")
        changed = long_image(room, session, revision, url="https://x.example/a", limits=ImageLimits())
    assert not first.cached and again.cached and again.paths == first.paths
    assert not changed.cached and changed.paths != first.paths
    assert str(first.paths[0]).startswith(str(room.var_dir / "cache" / "images" / revision.id))


def test_a_new_newsroom_comes_with_a_long_image_template(tmp_path: Path) -> None:
    init_newsroom(tmp_path / "new", Answers(name="示例人大", city="示例市", domain="www.example.gov.cn"))
    template = load_template(tmp_path / "new" / "channels" / "templates" / "default.toml", tmp_path / "new")
    assert template.settings.source == "示例市人民代表大会常务委员会办公厅"
    assert "{editor}" in " ".join(template.settings.footer)


def test_cards_draws_the_covers_of_an_article_without_one_and_review_show_lists_its_images(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert runner.invoke(app, ["ingest"], env=env).exit_code == 0
    result = runner.invoke(app, ["image", "cards", "draw-me", "--out", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    with (
        Image.open(tmp_path / "draw-me-og.png") as og,
        Image.open(tmp_path / "draw-me-wechat-cover.png") as wx,
    ):
        assert og.size == (1200, 630) and wx.size == (900, 383 * 2)
    covered = runner.invoke(app, ["image", "cards", "article-1", "--out", str(tmp_path / "c")], env=env)
    assert covered.exit_code == 0 and "has a cover of its own" in covered.output

    root = Path(env["PUBLISHER_NEWSROOM"])
    meta = base_meta("draw-me", title="座谈会长图", kind="long_image")
    write_article(root / "content", "draw-me.md", meta, BODY)
    assert runner.invoke(app, ["ingest"], env=env).exit_code == 0
    shown = runner.invoke(app, ["review", "show", "draw-me", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    images = [Path(p) for p in json.loads(shown.stdout)["images"]]
    assert [p.name.split("-")[-1] for p in images] == [images[0].name.split("-")[-1], "cover.png", "og.png"]
    assert all(p.is_file() for p in images) and images[0].suffix == ".png"
