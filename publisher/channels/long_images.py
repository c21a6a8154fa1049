"""Long images (长图) as the channels and staff use them: the article's address for the QR code,
the staff preview (`publisher image long`), and the render at approval time.

A long image is drawn from one stored revision (publisher/imaging). Channels pass the revision
the gate approved; the after-approval listener renders the approved revision for every channel
that shows long images, so the files are in the cache (by revision and template hash) before the
first delivery asks for them.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from sqlmodel import Session, col, select

from publisher.articles import assets_of, history
from publisher.channels.kinds import ImageLimits, WebsiteSettings
from publisher.content.model import channel_allowed, wants_long_image
from publisher.errors import NotFound
from publisher.imaging.service import Rendered, cover_sheet, long_image, og_card
from publisher.newsroom import Newsroom
from publisher.site.site import article_url
from publisher.store.engine import read_session
from publisher.store.tables import ReviewState, Revision

log = logging.getLogger("publisher.imaging")


def article_address(room: Newsroom, slug: str) -> str:
    """The article's page on the newsroom's (first enabled) website: what the QR code opens."""
    for channel in room.channels.channels.values():
        if channel.enabled and isinstance(channel.settings, WebsiteSettings):
            return channel.settings.base_url.rstrip("/") + article_url(slug)
    return ""


def slug_of(revision: Revision) -> str:
    return str(json.loads(revision.meta_json).get("slug", ""))


def render_for(
    room: Newsroom, session: Session, revision: Revision, limits: ImageLimits, template: str | None = None
) -> Rendered:
    """The long image of exactly this revision, within a channel's limits (cached)."""
    return long_image(
        room,
        session,
        revision,
        url=article_address(room, slug_of(revision)),
        limits=limits,
        template=template,
    )


def pick_revision(session: Session, slug: str, wanted: str | None) -> Revision:
    """The current revision, or the one named by its number or an id prefix (6+ hex digits)."""
    article, revisions = history(session, slug)
    if wanted is None:
        found = [r for r in revisions if r.id == article.current_revision_id]
    elif wanted.isdigit() and len(wanted) < 6:
        found = [r for r in revisions if r.number == int(wanted)]
    else:
        found = [r for r in revisions if len(wanted) >= 6 and r.id.startswith(wanted.lower())]
    if len(found) != 1:
        known = "、".join(f"{r.number} ({r.id[:12]})" for r in revisions)
        raise NotFound(
            f"{slug} 没有版本 {wanted!r} / no revision {wanted!r} of {slug}; 可用 / known: {known}"
        )
    return found[0]


def preview(
    room: Newsroom,
    slug: str,
    *,
    revision: str | None = None,
    template: str | None = None,
    out: Path | None = None,
    max_height: int | None = None,
) -> list[Path]:
    """`publisher image long`: the long image of a revision written where staff asked; several
    files (FILE-01.png, FILE-02.png, ...) when --max-height cuts it into segments."""
    target = out or room.var_dir / "preview" / "long-image" / f"{slug}.png"
    jpeg = target.suffix.lower() in (".jpg", ".jpeg")
    limits = ImageLimits(max_height=max_height, format="JPEG" if jpeg else "PNG")
    with read_session(room.engine) as session:
        chosen = pick_revision(session, slug, revision)
        rendered = render_for(room, session, chosen, limits, template)
    target.parent.mkdir(parents=True, exist_ok=True)
    if len(rendered.paths) == 1:
        shutil.copyfile(rendered.paths[0], target)
        return [target]
    written = []
    for number, path in enumerate(rendered.paths, start=1):
        part = target.with_name(f"{target.stem}-{number:02d}{target.suffix}")
        shutil.copyfile(path, part)
        written.append(part)
    return written


def cards(room: Newsroom, slug: str, *, revision: str | None = None, out: Path | None = None) -> list[Path]:
    """`publisher image cards`: the covers an article without one would get, as files to look at:
    WeChat's cover sheet (2.35:1 above, 1:1 below) and the website's Open Graph image."""
    folder = out or room.var_dir / "preview" / "cards"
    with read_session(room.engine) as session:
        chosen = pick_revision(session, slug, revision)
        has_cover = any(a.role == "cover" for a in assets_of(session, chosen.id))
    if has_cover:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    site = next(
        (c.title for c in room.channels.channels.values() if isinstance(c.settings, WebsiteSettings)),
        room.settings.newsroom.name,
    )
    wechat, og = folder / f"{slug}-wechat-cover.png", folder / f"{slug}-og.png"
    wechat.write_bytes(cover_sheet(room, chosen, room.settings.newsroom.name).card.data)
    og.write_bytes(og_card(room, chosen, site))
    return [wechat, og]


def for_review(room: Newsroom, slug: str, revision_id: str) -> list[Path]:
    """The images a reviewer of this revision should see beside its text: its long image, and the
    covers drawn for it when it has none."""
    shown: list[Path] = []
    with read_session(room.engine) as session:
        chosen = pick_revision(session, slug, revision_id)
        meta = json.loads(chosen.meta_json)
    if wants_long_image(meta):
        target = room.var_dir / "preview" / "long-image" / f"{slug}-{revision_id[:12]}.png"
        shown += preview(room, slug, revision=revision_id, out=target)
    return shown + cards(room, slug, revision=revision_id)


def after_approval(room: Newsroom, slug: str, actor: str) -> None:
    """Render the approved revision's long image for each channel that shows one, at approval."""
    with read_session(room.engine) as session:
        article, revisions = history(session, slug)
        approved = set(
            session.exec(
                select(ReviewState.revision_id).where(
                    ReviewState.article_id == article.id, col(ReviewState.status) == "approved"
                )
            )
        )
        latest = next((r for r in reversed(revisions) if r.id in approved), None)
        meta = json.loads(latest.meta_json) if latest is not None else {}
        if latest is None or not wants_long_image(meta):
            return
        for channel in room.channels.channels.values():
            limits = channel.settings.image_limits()
            if channel.enabled and limits is not None and channel_allowed(meta, channel.name):
                rendered = render_for(room, session, latest, limits)
                log.info("long image of %s for %s: %d file(s)", slug, channel.name, len(rendered.paths))
