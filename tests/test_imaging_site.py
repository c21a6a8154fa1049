"""The website shows a long-image article as its image with the full text in the page, and an
article without a cover gets a generated Open Graph image (og:image) unless the channel turns it off."""

from __future__ import annotations

import dataclasses
import re

from PIL import Image

from publisher.channels.kinds import WebsiteSettings
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.site.build import build_site
from tests.factory import base_meta, write_article
from tests.site_support import NOW, allow_all, public, website

BODY = "宪法是国家的根本法。\n\n## 一、宪法是什么\n\n宪法确立了国家的根本制度和根本任务。\n"


def page(room: Newsroom, slug: str) -> str:
    return (public(room) / "articles" / f"{slug}.html").read_text(encoding="utf-8")


def og_image(html: str) -> str | None:
    found = re.search(r'<meta property="og:image" content="([^"]+)"', html)
    return found.group(1) if found else None


def test_a_long_image_article_shows_its_image_and_its_full_text(room: Newsroom) -> None:
    meta = base_meta("ten-points", title="长图｜宪法十问", kind="long_image")
    write_article(room.content_dir, "ten-points.md", meta, BODY)
    attached = base_meta("with-image", title="附长图的稿件", long_image=True)
    write_article(room.content_dir, "with-image.md", attached, BODY)
    assert ingest(room).ok
    build_site(room, website(room), allow_all, now=NOW)

    html = page(room, "ten-points")
    src = re.search(
        r'<figure class="long-image"><img src="(/images/long/ten-points-[0-9a-f]{12}\.png)"', html
    )
    assert src is not None and "文字内容见下文" in html
    assert html.index('class="long-image"') < html.index("宪法确立了国家的根本制度")  # image, then text
    with Image.open(public(room) / src.group(1).lstrip("/")) as image:
        assert image.format == "PNG" and image.width == 1080 and image.height > 1000
    attached_html = page(room, "with-image")
    assert attached_html.index("宪法确立了国家的根本制度") < attached_html.index('class="long-image"')
    plain = page(room, "article-2")
    assert 'class="long-image"' not in plain


def test_an_article_without_a_cover_gets_an_open_graph_image_and_one_with_a_cover_shares_it(
    room: Newsroom,
) -> None:
    assert ingest(room).ok
    build_site(room, website(room), allow_all, now=NOW)
    settings = website(room).settings
    assert isinstance(settings, WebsiteSettings)
    base = settings.base_url.rstrip("/")
    generated = og_image(page(room, "article-2"))
    assert generated is not None and re.fullmatch(
        rf"{re.escape(base)}/images/og/article-2-[0-9a-f]{{12}}\.png", generated
    )
    with Image.open(public(room) / generated.removeprefix(base).lstrip("/")) as card:
        assert card.size == (1200, 630)
    covered = og_image(page(room, "article-1"))
    assert covered is not None and "/media/" in covered


def test_a_website_can_turn_generated_share_images_off(room: Newsroom) -> None:
    assert ingest(room).ok
    channel = website(room)
    quiet = dataclasses.replace(channel, settings=channel.settings.model_copy(update={"og_image": False}))
    build_site(room, quiet, allow_all, now=NOW)
    assert og_image(page(room, "article-2")) is None
    assert not (public(room) / "images" / "og").exists()
