"""Per-partner pull feeds: ninjs, Atom 1.0, RSS 2.0 and JSON Feed 1.1, read from what the partner
holds (the `supply` rows). A retracted item stays in the feed as a tombstone (Atom: RFC 6721
`deleted-entry`; elsewhere pubstatus canceled), so a partner that polls learns it must remove it.

The validator (ETag) is computed from the rows alone, so an unchanged feed answers 304 without
rendering anything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree as ET

from sqlmodel import Session, col, select

from publisher.channels.registry import Channel
from publisher.site.feeds import rss_text
from publisher.site.site import xml_bytes
from publisher.store.tables import Article, Revision, Supply
from publisher.supply.ninjs import Packager, Version, load_sources, utc_text

FEED_VERSION = 2  # bump when the feed's shape changes: every ETag changes with it
ATOM_NS = "http://www.w3.org/2005/Atom"
TOMBSTONE_NS = "http://purl.org/atompub/tombstones/1.0"
SUPPLY_NS = "urn:publisher:supply"
MEDIA_TYPES = {
    "ninjs": "application/json; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class FeedState:
    rows: list[tuple[Supply, str]]  # newest change first, with the slug
    etag: str
    last_modified: datetime | None


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def feed_state(session: Session, channel: Channel, fmt: str, limit: int) -> FeedState:
    rows = [
        (row, slug)
        for row, slug in session.exec(
            select(Supply, Article.slug)
            .join(Article, col(Article.id) == col(Supply.article_id))
            .where(Supply.partner == channel.name)
            .order_by(col(Supply.updated_at).desc(), col(Supply.id).desc())
            .limit(limit)
        ).all()
    ]
    fingerprint = json.dumps(
        [
            FEED_VERSION,
            fmt,
            channel.name,
            channel.settings.model_dump(mode="json"),
            [
                (slug, r.revision_id, r.version, r.pubstatus, r.ednote, _aware(r.updated_at).isoformat())
                for r, slug in rows
            ],
        ],
        ensure_ascii=False,
        sort_keys=True,
    )
    etag = '"' + hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:32] + '"'
    last = max((_aware(r.updated_at) for r, _ in rows), default=None)
    return FeedState(rows, etag, last.replace(microsecond=0) if last else None)


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _packages(session: Session, packager: Packager, state: FeedState) -> list[dict[str, Any]]:
    wanted = [r.revision_id for r, _ in state.rows]
    revisions = {r.id: r for r in session.exec(select(Revision).where(col(Revision.id).in_(wanted)))}
    out = []
    for row, _slug in state.rows:
        revision = revisions[row.revision_id]
        usable = row.pubstatus == "usable"
        version = Version(row.version, row.pubstatus, _aware(row.updated_at), row.ednote, row.embargoed)
        sources = load_sources(session, revision.id) if usable else ()
        out.append(packager.package(revision, sources, version))
    return out


def render(session: Session, packager: Packager, state: FeedState, fmt: str, self_url: str) -> bytes:
    packages = _packages(session, packager, state)
    s = packager.settings
    title = f"{packager.holder} · 供{s.outlet}稿件"
    updated = utc_text(state.last_modified) if state.last_modified else "2000-01-01T00:00:00Z"
    if fmt == "ninjs":
        return _json(
            {"partner": packager.channel.name, "outlet": s.outlet, "updated": updated, "items": packages}
        )
    if fmt == "json":
        return _json(_json_feed(title, packager, self_url, packages))
    if fmt == "atom":
        return _atom(title, packager, self_url, updated, packages)
    return _rss(title, packager, self_url, packages)


def _json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def _marks(p: dict[str, Any]) -> dict[str, Any]:
    return {k: p[k] for k in ("pubstatus", "version", "ednote", "embargoed", "versioncreated") if k in p}


def _json_feed(
    title: str, packager: Packager, self_url: str, packages: list[dict[str, Any]]
) -> dict[str, Any]:
    items = []
    for p in packages:
        item: dict[str, Any] = {
            "id": p["uri"],
            "url": p["uri"],
            "title": p["headline"],
            "date_published": p["firstcreated"],
            "date_modified": p["versioncreated"],
            "_ninjs": _marks(p),  # JSON Feed allows extensions whose names start with "_"
        }
        if p["pubstatus"] == "canceled":
            item["content_text"] = p.get("ednote", "")
        else:
            if "body_html" in p:
                item["content_html"] = p["body_html"]
            else:
                item["content_text"] = p.get("description_text", p["headline"])
            if "description_text" in p:
                item["summary"] = p["description_text"]
            item["authors"] = [{"name": n} for n in p.get("byline", "").split("、") if n]
            item["tags"] = [s["name"] for s in p.get("subject", [])]
        items.append(item)
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": packager.base_url + "/",
        "feed_url": self_url,
        "language": "zh-CN",
        "authors": [{"name": packager.holder}],
        "items": items,
    }


def _atom(
    title: str, packager: Packager, self_url: str, updated: str, packages: list[dict[str, Any]]
) -> bytes:
    ET.register_namespace("", ATOM_NS)
    ET.register_namespace("at", TOMBSTONE_NS)
    ET.register_namespace("supply", SUPPLY_NS)

    def sub(
        parent: ET.Element, tag: str, text: str | None = None, ns: str = ATOM_NS, **attrs: str
    ) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": "zh-CN"})
    sub(feed, "id", self_url)
    sub(feed, "title", title)
    sub(feed, "updated", updated)
    sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    sub(sub(feed, "author"), "name", packager.holder)
    for p in packages:
        if p["pubstatus"] == "canceled":
            gone = sub(feed, "deleted-entry", ns=TOMBSTONE_NS, ref=p["uri"], when=p["versioncreated"])
            sub(gone, "comment", p.get("ednote", ""), ns=TOMBSTONE_NS)
            continue
        entry = sub(feed, "entry")
        sub(entry, "id", p["uri"])
        sub(entry, "title", p["headline"])
        sub(entry, "link", rel="alternate", type="text/html", href=p["uri"])
        sub(entry, "published", p["firstcreated"])
        sub(entry, "updated", p["versioncreated"])
        for name in (n for n in p.get("byline", "").split("、") if n):
            sub(sub(entry, "author"), "name", name)
        for subject in p.get("subject", []):
            sub(entry, "category", term=subject["name"])
        if "description_text" in p:
            sub(entry, "summary", p["description_text"])
        if "body_html" in p:
            sub(entry, "content", p["body_html"], type="html")
        for key, value in _marks(p).items():
            sub(entry, key, str(value), ns=SUPPLY_NS)
    ET.indent(feed)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + xml_bytes(feed) + b"\n"


def _rss(title: str, packager: Packager, self_url: str, packages: list[dict[str, Any]]) -> bytes:
    ET.register_namespace("atom", ATOM_NS)
    ET.register_namespace("supply", SUPPLY_NS)
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = rss_text(title)
    ET.SubElement(channel, "link").text = packager.base_url + "/"
    ET.SubElement(channel, "description").text = rss_text(title)
    ET.SubElement(channel, "language").text = "zh-CN"
    ET.SubElement(channel, f"{{{ATOM_NS}}}link", href=self_url, rel="self", type="application/rss+xml")
    for p in packages:
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = rss_text(p["headline"])
        ET.SubElement(item, "link").text = p["uri"]
        ET.SubElement(item, "guid", isPermaLink="true").text = p["uri"]
        moment = datetime.fromisoformat(p["versioncreated"].replace("Z", "+00:00"))
        ET.SubElement(item, "pubDate").text = format_datetime(moment)
        if p["pubstatus"] == "canceled":
            ET.SubElement(item, "description").text = rss_text(p.get("ednote", ""))
        else:
            for subject in p.get("subject", []):
                ET.SubElement(item, "category").text = subject["name"]
            # RSS has one description, read as HTML: the body as it is, a plain summary escaped.
            description = p.get("body_html") or rss_text(p.get("description_text", ""))
            ET.SubElement(item, "description").text = description
        for key, value in _marks(p).items():
            ET.SubElement(item, f"{{{SUPPLY_NS}}}{key}").text = str(value)
    ET.indent(rss)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + xml_bytes(rss) + b"\n"
