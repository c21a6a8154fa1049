"""IPTC ninjs 1.3 packages of one article for one partner: usable versions and kill notices.

Rendering is pure: the package depends only on the revision, the partner's settings and the
version the partner holds (number, pubstatus, ednote, embargo), so a retry sends the same bytes.

A partner validates what we send against IPTC's published schema, whose top level admits no
property it does not name (additionalProperties false). So the standard is declared in
`$standard` (not JSON Schema's `$schema`), our own identifiers ride in `altids` (the one object
of 1.3 open to a provider's own keys), the slug is the `slugline` and `profile` names the
package's shape. tests/data/ninjs-schema_1.3.json holds the schema the tests check against.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlmodel import Session, col, select

from publisher.channels.kinds import PartnerSettings, WebsiteSettings
from publisher.channels.registry import Channel
from publisher.content.model import channel_refusal
from publisher.errors import PublisherError
from publisher.newsroom import Newsroom
from publisher.site import build, media
from publisher.site.feeds import absolute
from publisher.site.fragments import render_key
from publisher.site.media import Source
from publisher.site.site import MEDIA_URL, article_url
from publisher.store.tables import Revision, RevisionAsset

NINJS_SCHEMA = "http://www.iptc.org/std/ninjs/ninjs-schema_1.3.json"
STANDARD = {"name": "ninjs", "version": "1.3", "schema": NINJS_SCHEMA}
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
CORRECTION_NOTE = (
    "更正：本稿已更新，请以此版本为准，替换此前版本 / correction: this version replaces the earlier one"
)
KILL_NOTE = "撤稿：请立即撤下本稿，不得使用 / kill: remove this item and do not use it"


@dataclass(frozen=True, slots=True)
class Version:
    """What the partner holds (or is about to): ninjs version, status and notes."""

    number: int
    pubstatus: str  # usable | canceled
    versioncreated: datetime
    ednote: str | None = None
    embargoed: datetime | None = None


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(package: dict[str, Any]) -> bytes:
    """Canonical bytes: the same package always signs to the same value."""
    return json.dumps(package, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def partner_settings(channel: Channel) -> PartnerSettings:
    if channel.kind != "partner":
        raise PublisherError(f"{channel.name} 不是合作媒体渠道 / is a {channel.kind} channel, not a partner")
    return cast(PartnerSettings, channel.settings)


def load_sources(session: Session, revision_id: str) -> tuple[Source, ...]:
    rows = session.exec(
        select(RevisionAsset)
        .where(RevisionAsset.revision_id == revision_id)
        .order_by(col(RevisionAsset.position))
    ).all()
    return tuple(Source(a.ref, a.role, a.sha256, a.width, a.height, a.format) for a in rows)


# Revisions are immutable, so what is derived from one alone is shared by every partner of the
# process: its front matter parsed once, its body HTML rendered once per website (50 partners of
# one site used to parse and render the same revision 50 times). Bounded, cleared when full.
SHARED_KEPT = 4096
_META: dict[str, dict[str, Any]] = {}
_BODY_HTML: dict[tuple[str, str], str] = {}
# A release to fifty partners starts fifty lanes at once, all asking for the same body: the first
# renders it, the others wait for it instead of each rendering it again (rendering holds the GIL,
# so waiting costs no throughput).
_RENDERING = threading.Lock()


def revision_meta(revision: Revision) -> dict[str, Any]:
    """The revision's front matter, parsed once per process. Read it, never change it."""
    meta = _META.get(revision.id)
    if meta is None:
        meta = json.loads(revision.meta_json)
        if len(_META) >= SHARED_KEPT:
            _META.clear()
        _META[revision.id] = meta
    return meta


class Packager:
    """Builds one partner's packages; body HTML is cached per revision and website (immutable)."""

    def __init__(self, room: Newsroom, channel: Channel, flush_every: int = 1) -> None:
        self.room = room
        # New fragments written to the render cache after this many (each write is a commit);
        # a caller that renders many (the engine's performer) flushes in groups and at `flush`.
        self.flush_every = flush_every
        self.channel = channel
        self.settings = partner_settings(channel)
        site = room.channels.channels.get(self.settings.site)
        if site is None or site.kind != "website":
            raise PublisherError(
                f"{channel.source}: settings.site 须为网站渠道 / must name a website channel, not {self.settings.site!r}"
            )
        self.site = site
        self.base_url = cast(WebsiteSettings, site.settings).base_url.rstrip("/")
        self.fragments = build.fragment_cache(room, site)
        info = room.settings.newsroom
        self.holder = info.full_name or info.name
        self.city = info.city

    def uri(self, slug: str) -> str:
        # The article's permanent URL, as in the site's feeds: slugs never change.
        return self.base_url + article_url(slug)

    def refusal(self, revision: Revision) -> str | None:
        """Why this partner does not take the article, or None when it does."""
        s = self.settings
        meta = revision_meta(revision)
        excluded = channel_refusal(meta, self.channel.name)
        if excluded:
            return excluded
        if s.columns and revision.column not in s.columns:
            return (
                f"栏目 {revision.column} 不在供稿范围 / column {revision.column} is not taken by {s.outlet}"
            )
        if s.kinds and revision.kind not in s.kinds:
            return f"体裁 {revision.kind} 不在供稿范围 / kind {revision.kind} is not taken by {s.outlet}"
        if s.tags and not set(meta.get("tags", [])) & set(s.tags):
            return f"标签不在供稿范围 / none of the tags is taken by {s.outlet}"
        return None

    def body_html(self, revision: Revision, sources: tuple[Source, ...]) -> str:
        shared = (self.base_url, revision.id)
        html = _BODY_HTML.get(shared)
        if html is None:
            with _RENDERING:
                html = self._render_shared(shared, revision, sources)
        return html

    def _render_shared(self, shared: tuple[str, str], revision: Revision, sources: tuple[Source, ...]) -> str:
        html = _BODY_HTML.get(shared)
        if html is None:
            key = render_key(revision.id, MEDIA_URL)
            fragment, fresh = self.fragments.render_one(key, revision.body, sources)
            if fresh is not None:
                self.fragments.add(key, fresh)
                if len(self.fragments.fresh) >= self.flush_every:
                    self.fragments.flush()
            html = absolute(fragment.html, self.base_url)
            if len(_BODY_HTML) >= SHARED_KEPT:
                _BODY_HTML.clear()
            _BODY_HTML[shared] = html
        return html

    def flush(self) -> None:
        """Write the fragments rendered since the last flush to the render cache."""
        self.fragments.flush()

    def _picture(self, source: Source) -> dict[str, Any]:
        derivatives = media.plan(source)
        chosen = next((d for d in derivatives if d.width <= self.settings.image_width), derivatives[-1])
        mime = MIME.get(source.format, "application/octet-stream")
        if self.settings.images == "attached":
            media.ensure(source, self.room.blobs, self.fragments.media_cache)
            data = (self.fragments.media_cache / chosen.name).read_bytes()
            href = f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
        else:
            href = f"{self.base_url}{MEDIA_URL}{chosen.name}"
        return {
            "type": "picture",
            "uri": f"{self.base_url}{MEDIA_URL}{source.sha256}",
            "renditions": {
                f"w{chosen.width}": {
                    "href": href,
                    "width": chosen.width,
                    "height": chosen.height,
                    "mimetype": mime,
                }
            },
        }

    def profile(self, version: Version) -> str:
        """The package's shape, so a partner knows what to expect before reading it."""
        if version.pubstatus == "canceled":
            return "kill-notice"
        text = "text" if self.settings.full_text else "summary"
        return text if self.settings.images == "none" else f"{text}-photo"

    def package(self, revision: Revision, sources: tuple[Source, ...], version: Version) -> dict[str, Any]:
        meta = revision_meta(revision)
        slug = meta["slug"]
        package: dict[str, Any] = {
            "$standard": STANDARD,
            "uri": self.uri(slug),
            "type": "text",
            "profile": self.profile(version),
            "version": str(version.number),
            "firstcreated": meta["date"],
            "versioncreated": utc_text(version.versioncreated),
            "pubstatus": version.pubstatus,
            "language": "zh-CN",
            "copyrightholder": self.holder,
            "located": self.city,
            "urgency": 5,
            "slugline": slug,
            "altids": {
                "slug": slug,
                "revision": revision.id,
                "column": revision.column,
                "department": revision.department,
                "partner": self.channel.name,
            },
        }
        if version.ednote:
            package["ednote"] = version.ednote
        if version.embargoed is not None:
            package["embargoed"] = utc_text(version.embargoed)
        if version.pubstatus == "canceled":
            # A kill notice names the item and says why; it carries none of the text.
            package["headline"] = f"【撤稿】{revision.title}"
            return package
        package["headline"] = revision.title
        package["byline"] = "、".join(meta.get("authors", []))
        if meta.get("summary"):
            package["description_text"] = meta["summary"]
        package["subject"] = [
            {"name": self.room.column_name(revision.column), "code": f"column:{revision.column}"},
            *({"name": tag, "code": f"tag:{tag}"} for tag in meta.get("tags", [])),
        ]
        if self.settings.full_text:
            package["body_html"] = self.body_html(revision, sources)
        if self.settings.images != "none":
            pictures = {}
            cover = next((s for s in sources if s.role == "cover"), None)
            if cover is not None:
                pictures["featureimage"] = self._picture(cover)
            inline = [s for s in sources if s.role != "cover"] if self.settings.full_text else []
            for n, source in enumerate(inline, start=1):
                pictures[f"picture{n}"] = self._picture(source)
            if pictures:
                package["associations"] = pictures
        return package
