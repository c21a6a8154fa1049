"""RSS 2.0, Atom 1.0 and JSON Feed 1.1, site-wide and per column, with full content.

GUIDs are the article's permanent URL (its slug never changes), so they are stable across
rebuilds; `updated` is set when a corrected revision replaced the one first published. Feed-level
times come from the items, never from the clock, so an unchanged feed rebuilds to the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from functools import cache
from html import escape
from pathlib import Path
from xml.etree import ElementTree as ET

from publisher.site.fragments import FragmentCache
from publisher.site.select import Item
from publisher.site.site import Output, article_url, column_url, template_hash, w3c, xml_bytes

ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
SUFFIX = {"rss": "rss.xml", "atom": "atom.xml", "json": "json"}
_SRCSET = re.compile(r'\s(?:srcset|sizes|loading|decoding)="[^"]*"')
_ROOTED = re.compile(r'(\s(?:src|href))="/(?!/)')


@dataclass(frozen=True, slots=True)
class FeedInfo:
    title: str
    description: str
    base_url: str
    author: str
    formats: tuple[str, ...]
    items: int
    per_column: bool
    columns: tuple[tuple[str, str], ...]  # key, name


def absolute(fragment: str, base_url: str) -> str:
    """Feed readers show content away from the site: every link and image needs the full URL."""
    return _ROOTED.sub(lambda m: f'{m.group(1)}="{base_url}/', _SRCSET.sub("", fragment))


def rss_text(text: str) -> str:
    """Plain text for an RSS element that readers take as HTML (title, description): escaped, so
    markup written in a title or a summary shows as written instead of becoming live HTML at the
    reader. Atom says each text's type (text here, html for content) and JSON Feed names its
    fields by type (`summary` is text, `content_html` HTML), so only RSS needs this."""
    return escape(text, quote=False)


def feed_path(scope: str, fmt: str) -> str:
    return f"feeds/{scope}.{SUFFIX[fmt]}"


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    url: str
    title: str
    summary: str
    published: datetime
    updated: datetime
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    fragment: str  # render key


def _rss(
    info: FeedInfo, title: str, home: str, self_url: str, entries: list[Entry], html: Callable[[str], str]
) -> bytes:
    ET.register_namespace("atom", ATOM_NS)
    ET.register_namespace("dc", "http://purl.org/dc/elements/1.1/")
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = rss_text(title)
    ET.SubElement(channel, "link").text = home
    ET.SubElement(channel, "description").text = rss_text(info.description or title)
    ET.SubElement(channel, "language").text = "zh-CN"
    ET.SubElement(channel, f"{{{ATOM_NS}}}link", href=self_url, rel="self", type="application/rss+xml")
    if entries:
        ET.SubElement(channel, "lastBuildDate").text = format_datetime(max(e.updated for e in entries))
    for e in entries:
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = rss_text(e.title)
        ET.SubElement(item, "link").text = e.url
        ET.SubElement(item, "guid", isPermaLink="true").text = e.id
        ET.SubElement(item, "pubDate").text = format_datetime(e.published)
        for name in e.authors:
            ET.SubElement(item, "{http://purl.org/dc/elements/1.1/}creator").text = name
        for category in e.categories:
            ET.SubElement(item, "category").text = category
        ET.SubElement(item, "description").text = html(e.fragment)
    ET.indent(rss)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + xml_bytes(rss) + b"\n"


def _atom(
    info: FeedInfo, title: str, home: str, self_url: str, entries: list[Entry], html: Callable[[str], str]
) -> bytes:
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": "zh-CN"})
    sub(feed, "id", self_url)
    sub(feed, "title", title)
    if info.description:
        sub(feed, "subtitle", info.description)
    sub(feed, "updated", w3c(max((e.updated for e in entries), default=datetime(2000, 1, 1).astimezone())))
    sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    sub(feed, "link", rel="alternate", type="text/html", href=home)
    sub(sub(feed, "author"), "name", info.author)
    for e in entries:
        entry = sub(feed, "entry")
        sub(entry, "id", e.id)
        sub(entry, "title", e.title)
        sub(entry, "link", rel="alternate", type="text/html", href=e.url)
        sub(entry, "published", w3c(e.published))
        sub(entry, "updated", w3c(e.updated))
        for name in e.authors:
            sub(sub(entry, "author"), "name", name)
        for category in e.categories:
            sub(entry, "category", term=category)
        if e.summary:
            sub(entry, "summary", e.summary)
        sub(entry, "content", html(e.fragment), type="html")
    ET.indent(feed)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + xml_bytes(feed) + b"\n"


def _json(
    info: FeedInfo, title: str, home: str, self_url: str, entries: list[Entry], html: Callable[[str], str]
) -> bytes:
    feed = {
        "version": JSON_FEED_VERSION,
        "title": title,
        "home_page_url": home,
        "feed_url": self_url,
        "description": info.description or title,
        "language": "zh-CN",
        "authors": [{"name": info.author}],
        "items": [
            {
                "id": e.id,
                "url": e.url,
                "title": e.title,
                "content_html": html(e.fragment),
                **({"summary": e.summary} if e.summary else {}),
                "date_published": w3c(e.published),
                "date_modified": w3c(e.updated),
                "authors": [{"name": name} for name in e.authors],
                "tags": list(e.categories),
            }
            for e in entries
        ],
    }
    return (json.dumps(feed, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


WRITERS = {"rss": _rss, "atom": _atom, "json": _json}


def feed_outputs(
    info: FeedInfo,
    items: list[Item],
    fragment_keys: dict[str, str],
    fragments: FragmentCache,
    updated: dict[str, datetime],
    column_names: dict[str, str],
) -> list[Output]:
    def entry(item: Item) -> Entry:
        url = info.base_url + article_url(item.slug)
        return Entry(
            id=url,
            url=url,
            title=item.title,
            summary=item.summary,
            published=item.date,
            updated=updated.get(item.slug) or item.date,
            authors=item.authors,
            categories=(column_names.get(item.column, item.column), *item.tags),
            fragment=fragment_keys[item.revision_id],
        )

    made: dict[str, str] = {}

    def html(key: str) -> str:
        # An item is in the site feed and its column's, in every format: made absolute once.
        text = made.get(key)
        if text is None:
            text = made[key] = absolute(fragments.get(key).html, info.base_url)
        return text

    scopes: list[tuple[str, str, str, list[Item]]] = [("all", info.title, "/", items)]
    if info.per_column:
        for key, name in info.columns:
            chosen = [i for i in items if i.column == key]
            scopes.append((key, f"{info.title} · {name}", column_url(key), chosen))
    # A feed is keyed by its inputs, as an article page is: revisions are immutable, so (slug,
    # revision id) stands for an item's entry, with when it was corrected and its fragment's key;
    # the rest comes from the feed's settings, the column names and the code that writes it.
    settings = "\0".join(
        (feeds_code_hash(), repr(info), json.dumps(column_names, ensure_ascii=False, sort_keys=True))
    )
    out = []
    for scope, title, home_path, chosen in scopes:
        shown = chosen[: info.items]
        listed = "\0".join(
            f"{i.slug}\x1f{i.revision_id}\x1f{fragment_keys[i.revision_id]}\x1f{_stamp(updated.get(i.slug))}"
            for i in shown
        )
        fragment_of = tuple(fragment_keys[i.revision_id] for i in shown)
        for fmt in info.formats:
            path = feed_path(scope, fmt)
            self_url = f"{info.base_url}/{path}"
            home = info.base_url + home_path
            writer = WRITERS[fmt]
            inputs = ("feed", settings, fmt, title, home, self_url, str(len(shown)), listed)
            key = hashlib.sha256("\0".join(inputs).encode("utf-8")).hexdigest()

            def produce(
                writer: Callable[..., bytes] = writer,
                title: str = title,
                home: str = home,
                self_url: str = self_url,
                shown: list[Item] = shown,
            ) -> bytes:
                return writer(info, title, home, self_url, [entry(i) for i in shown], html)

            out.append(Output(path, key, produce, fragment_of))
    return out


def _stamp(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "-"


@cache
def feeds_code_hash() -> str:
    """What a feed's bytes depend on besides its entries and settings: the templates' hash and
    this module, which turns the items into entries and writes them."""
    return hashlib.sha256(template_hash().encode() + Path(__file__).read_bytes()).hexdigest()
