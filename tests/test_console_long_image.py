"""The review page shows the long image (长图) of exactly the revision under review."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from tests.console_helpers import console_server, seed_staff, sign_in
from tests.factory import base_meta, write_article

BODY = "## 十个要点\n\n一、宪法是国家的根本法。\n\n二、宪法具有最高的法律地位、法律权威、法律效力。\n"


def test_the_review_page_shows_the_long_image_of_the_revision(room: Newsroom) -> None:
    write_article(
        room.content_dir,
        "ten-points.md",
        base_meta("ten-points", title="宪法十个要点", kind="long_image"),
        BODY,
    )
    assert ingest(room).ok
    seed_staff(room)
    with console_server(room) as base:
        client, _csrf = sign_in(base, "zhouwb")
        page = client.get("/review/ten-points")
        assert 'class="long-image"' in page.text
        src = page.text.split('class="long-image" src="', 1)[1].split('"', 1)[0]
        picture = client.get(src)
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(picture.content)) as drawn:
            assert drawn.width == 1080 and drawn.height > 600
        # An ordinary article has none, and the image is for signed-in staff only.
        assert 'class="long-image"' not in client.get("/review/article-2").text
        revision = src.rsplit("/", 1)[1].removesuffix(".png")
        assert client.get(f"/review/article-2/long-image/{revision}.png").status_code == 404
        anonymous = httpx.get(base + src, follow_redirects=False)
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
