"""Long images and covers of one stored revision, cached under var/cache/images.

Everything is read from the revision given (its body, front matter and its own images by hash),
never from the files on disk or the article's current revision: a channel passes the revision the
gate approved, so what is published is derived from exactly that revision. A render is
deterministic, and its cache key is the revision id with the template's hash (and the URL and
limits it was made for), so a changed template or a new revision renders anew and nothing else does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from publisher.articles import assets_of
from publisher.imaging.blocks import parse_blocks
from publisher.imaging.compose import Composer, ImageFormat, SegmentLimits, Sheet
from publisher.imaging.covers import Card, CoverSheet, og_image, wechat_cover
from publisher.imaging.template import Template, choose
from publisher.newsroom import Newsroom
from publisher.store.tables import Revision
from publisher.timeutil import local

# Bump when a render of the same revision and template would come out different.
RENDER_VERSION = "1"
CACHE = Path("cache") / "images"
_EXTENSION: dict[ImageFormat, str] = {"PNG": "png", "JPEG": "jpg"}


def template_for(room: Newsroom, revision: Revision, name: str | None = None) -> Template:
    """The template named, or the one the front matter names (`long_image: NAME`), or the column's."""
    meta = json.loads(revision.meta_json)
    attached = meta.get("long_image")
    if name is None and isinstance(attached, str):
        name = attached
    return column_template(room, revision.column, name)


def column_template(room: Newsroom, column: str, name: str | None = None) -> Template:
    return choose(room.root, (column, room.column_name(column)), name)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A long image as files in the cache, in reading order."""

    paths: tuple[Path, ...]
    template: str
    template_sha256: str
    cached: bool  # found in the cache, not rendered now

    def read(self) -> list[bytes]:
        return [path.read_bytes() for path in self.paths]


def sheet_of(room: Newsroom, session: Session, revision: Revision, template: Template, url: str) -> Sheet:
    meta: dict[str, Any] = json.loads(revision.meta_json)
    pictures = {
        asset.ref: room.blobs.get(asset.sha256)
        for asset in assets_of(session, revision.id)
        if asset.role == "inline" and room.blobs.has(asset.sha256)
    }
    day = local(revision.dated_at, room.settings.tz)
    authors = "、".join(str(a) for a in meta.get("authors") or [])
    newsroom = room.settings.newsroom
    return Sheet(
        title=revision.title,
        column=room.column_name(revision.column),
        blocks=tuple(parse_blocks(revision.body)),
        summary=str(meta.get("summary") or ""),
        byline="　".join(part for part in (f"{day.year}年{day.month}月{day.day}日", authors) if part),
        url=url,
        footer={
            "source": template.settings.source or newsroom.full_name or newsroom.name,
            "editor": str(meta.get("editor") or ""),
            "authors": authors,
            "date": f"{day.year}年{day.month}月{day.day}日",
            "url": url,
        },
        pictures=pictures,
    )


def _key(revision: Revision, template: Template, url: str, limits: SegmentLimits) -> str:
    payload = json.dumps(
        [RENDER_VERSION, template.sha256, url, limits.max_height, limits.max_bytes, limits.format]
    ).encode()
    return hashlib.sha256(payload).hexdigest()[:20]


def long_image(
    room: Newsroom,
    session: Session,
    revision: Revision,
    *,
    url: str,
    limits: SegmentLimits = SegmentLimits(),
    template: str | None = None,
) -> Rendered:
    chosen = template_for(room, revision, template)
    folder = room.var_dir / CACHE / revision.id / _key(revision, chosen, url, limits)
    manifest = folder / "manifest.json"
    if manifest.is_file():
        names = json.loads(manifest.read_text(encoding="utf-8"))["segments"]
        paths = tuple(folder / name for name in names)
        if all(path.is_file() for path in paths):
            return Rendered(paths, chosen.name, chosen.sha256, cached=True)
    image = Composer(chosen).compose(sheet_of(room, session, revision, chosen, url), limits)
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for number, segment in enumerate(image.segments, start=1):
        name = f"long-{number:02d}.{_EXTENSION[segment.format]}"
        _write(folder / name, segment.data)
        names.append(name)
    # The manifest last: a render cut short leaves no manifest, and is done again.
    _write(manifest, json.dumps({"segments": names, "template": chosen.name}).encode())
    return Rendered(tuple(folder / n for n in names), chosen.name, chosen.sha256, cached=False)


def _covers_folder(room: Newsroom, revision: Revision, template: Template, site: str) -> Path:
    key = hashlib.sha256(json.dumps([RENDER_VERSION, template.sha256, site]).encode()).hexdigest()[:20]
    return room.var_dir / CACHE / revision.id / f"covers-{key}"


def og_card(room: Newsroom, revision: Revision, site: str) -> bytes:
    """The Open Graph image (1200x630) of a revision: title and column branding."""
    template = column_template(room, revision.column)
    path = _covers_folder(room, revision, template, site) / "og.png"
    if not path.is_file():
        card: Card = og_image(revision.title, room.column_name(revision.column), site, template)
        _write(path, card.data)
    return path.read_bytes()


def cover_sheet(room: Newsroom, revision: Revision, site: str) -> CoverSheet:
    """WeChat's two covers of a revision in one image, with their crops."""
    template = column_template(room, revision.column)
    folder = _covers_folder(room, revision, template, site)
    path, facts = folder / "wechat-cover.png", folder / "wechat-cover.json"
    if path.is_file() and facts.is_file():
        known = json.loads(facts.read_text(encoding="utf-8"))
        return CoverSheet(Card(path.read_bytes(), known["width"], known["height"]), known["crops"])
    sheet = wechat_cover(revision.title, room.column_name(revision.column), site, template)
    _write(path, sheet.card.data)
    _write(
        facts,
        json.dumps({"crops": sheet.crops, "width": sheet.card.width, "height": sheet.card.height}).encode(),
    )
    return sheet


def _write(path: Path, data: bytes) -> None:
    """Write aside, then rename: a reader (another worker) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{hashlib.sha256(data).hexdigest()[:8]}.part")
    partial.write_bytes(data)
    partial.replace(path)
