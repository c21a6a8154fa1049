"""The website's long images and share cards as release files: each drawn (publisher/imaging)
from the revision the page shows, keyed by that revision and its template's hash, so a build
redraws only what a new revision or a changed template touched.

The drawing code (Pillow, fonts, QR) is imported by the first build that has an image to draw: a
site without long images or share cards never loads it."""

from __future__ import annotations

import functools

from publisher.channels.kinds import ImageLimits
from publisher.newsroom import Newsroom
from publisher.site.select import Item
from publisher.site.site import Output, SiteInfo, article_url, file_of, key_of, long_image_url, og_image_url
from publisher.store.engine import read_session
from publisher.store.tables import Revision


def image_outputs(
    room: Newsroom, info: SiteInfo, limits: ImageLimits | None, items: list[Item]
) -> list[Output]:
    out: list[Output] = []
    # (column, template name) -> the template's hash: the templates folder is looked at once per
    # build, not once per article (a site with share cards asks for nearly every article).
    hashes: dict[tuple[str, str | None], str] = {}

    def template_hash(column: str, name: str | None) -> str:
        known = hashes.get((column, name))
        if known is None:
            from publisher.imaging.service import column_template

            known = hashes[(column, name)] = column_template(room, column, name).sha256
        return known

    for item in items:
        if item.long_image and limits is not None:
            from publisher.imaging.service import RENDER_VERSION

            name = item.long_image if isinstance(item.long_image, str) else None
            url = info.base_url + article_url(item.slug)
            out.append(
                Output(
                    file_of(long_image_url(item.slug, item.revision_id)),
                    key_of(
                        "long-image",
                        RENDER_VERSION,
                        item.revision_id,
                        template_hash(item.column, name),
                        url,
                        str(limits),
                    ),
                    functools.partial(_long_image, room, item.revision_id, url, limits, name),
                )
            )
        if info.cards and item.cover is None:
            from publisher.imaging.service import RENDER_VERSION

            out.append(
                Output(
                    file_of(og_image_url(item.slug, item.title, item.column)),
                    key_of(
                        "og-image",
                        RENDER_VERSION,
                        item.title,
                        item.column,
                        template_hash(item.column, None),
                        info.title,
                    ),
                    functools.partial(_og_image, room, item.revision_id, info.title),
                )
            )
    return out


def _long_image(room: Newsroom, revision_id: str, url: str, limits: ImageLimits, name: str | None) -> bytes:
    from publisher.imaging.service import long_image

    with read_session(room.engine) as session:
        revision = session.get(Revision, revision_id)
        assert revision is not None, revision_id  # selected from the store a moment ago; revisions stay
        return b"".join(long_image(room, session, revision, url=url, limits=limits, template=name).read())


def _og_image(room: Newsroom, revision_id: str, site: str) -> bytes:
    from publisher.imaging.service import og_card

    with read_session(room.engine) as session:
        revision = session.get(Revision, revision_id)
        assert revision is not None, revision_id
        return og_card(room, revision, site)
