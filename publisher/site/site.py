"""The website's pages as Outputs: each with a key (everything its bytes depend on) and a producer.

A page's key is the hash of the very context its template is rendered with (plus the template
set's hash), so an unchanged key means unchanged bytes and the page is neither rendered nor written.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import jinja2

from publisher.site.fragments import FragmentCache
from publisher.site.media import plan
from publisher.site.render import RENDER_VERSION, Fragment, markdown_converter, picture
from publisher.site.select import Item

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SITE_VERSION = "1"
MEDIA_URL = "/media/"

KIND_LABELS = {
    "news": "新闻",
    "meeting_report": "会议报道",
    "interpretation": "法规解读",
    "feature": "人物风采",
    "notice": "通知公告",
    "video": "视频",
    "long_image": "长图",
}
# The column category (publisher.toml `category`) as the ColumnType meta tag names it.
COLUMN_TYPES = {"news": "动态要闻", "notice": "通知公告", "other": "其他"}
STAGE_LABELS = {
    "inspection": "执法检查",
    "inquiry": "专题询问",
    "evaluation": "工作评议",
    "rectification": "整改跟踪",
    "other": "跟踪报道",
}


class Output(NamedTuple):
    """A named tuple: a build makes one for every file of the site (a frozen dataclass is made
    six times as slowly)."""

    path: str  # inside the release, POSIX
    key: str
    produce: Callable[[], bytes]
    fragments: tuple[str, ...] = ()  # render keys the producer reads
    # Makes (template, context, render key): a page any worker process can render from plain data.
    # Called only for a page whose key changed, so an unchanged page never builds its context.
    job: Callable[[], tuple[str, dict[str, Any], str]] | None = None
    # The sha256 of the bytes, when the plan made them already (the search index, static files):
    # not hashed a second time when written.
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class SiteInfo:
    title: str
    org: str
    description: str
    base_url: str
    page_size: int
    tz: ZoneInfo
    columns: tuple[tuple[str, str, str], ...]  # key, name, description
    feeds: bool  # whether a feed channel publishes beside this site
    cards: bool = False  # an article without a cover gets a generated Open Graph image
    id_code: str = ""  # 网站标识码 (meta SiteIDCode)
    column_types: tuple[tuple[str, str], ...] = ()  # column key -> its inspection category


@cache
def template_hash() -> str:
    """Changes whenever a template, a static file or the renderer's output could change."""
    digest = hashlib.sha256(f"{SITE_VERSION}\0{RENDER_VERSION}".encode())
    for folder in (TEMPLATES, STATIC):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(HERE).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        # The templates ship with the package and their hash is taken once per process: no stat
        # of every template file on every page.
        auto_reload=False,
    )


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Templates compiled by one process, loaded by the next: a fresh `publisher build` reads
    them instead of compiling every template again (Jinja checks each against its source). One
    that cannot be written makes the next process slower, never a build fail."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def keep_compiled_templates(folder: Path) -> None:
    """From now on this process reads compiled templates from `folder` and leaves them there."""
    folder.mkdir(parents=True, exist_ok=True)
    environment().bytecode_cache = _CompiledTemplates(str(folder))


def warm_up() -> None:
    """Load every template and make the Markdown converter in this process, before it forks
    render workers that would each do so for themselves."""
    env = environment()
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)
    markdown_converter()


def xml_bytes(root: ET.Element) -> bytes:
    # Without a declaration of its own: callers write one that names UTF-8.
    data: bytes = ET.tostring(root, encoding="unicode").encode("utf-8")
    return data


@cache
def code_hash() -> str:
    """The modules that turn an article's inputs into its page context (see `Website.article`)."""
    digest = hashlib.sha256(template_hash().encode())
    for name in ("site.py", "select.py", "media.py"):
        digest.update(name.encode())
        digest.update((HERE / name).read_bytes())
    return digest.hexdigest()


def key_of(*parts: Any) -> str:
    text = json.dumps([template_hash(), *parts], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _consultation_key(consultation: Any) -> str:
    # Most articles have no consultation: an incremental build asks for every article's key, and
    # json.dumps of None (its text, "null", kept so stored keys stay valid) cost more than the rest.
    if consultation is None:
        return "null"
    return json.dumps(consultation, ensure_ascii=False, sort_keys=True)


def render_page(template: str, context: dict[str, Any], fragment: Fragment | None) -> bytes:
    extra = {"body": fragment.html, "toc": fragment.toc} if fragment is not None else {}
    return environment().get_template(template).render(**context, **extra).encode("utf-8")


def article_url(slug: str) -> str:
    return f"/articles/{slug}.html"


def long_image_url(slug: str, revision_id: str) -> str:
    """An article's long image: named by revision, so a corrected revision is a new file."""
    return f"/images/long/{slug}-{revision_id[:12]}.png"


def og_image_url(slug: str, title: str, column: str) -> str:
    """A share card shows the title and the column only: named by them, so a correction of the
    text keeps the card (and its address) as it was."""
    drawn = hashlib.sha256(f"{title}\0{column}".encode()).hexdigest()[:12]
    return f"/images/og/{slug}-{drawn}.png"


def column_url(key: str, page: int = 1) -> str:
    return f"/columns/{key}/" if page == 1 else f"/columns/{key}/page-{page}.html"


def series_url(series_id: str) -> str:
    return f"/series/{series_id}.html"


def file_of(url: str) -> str:
    path = url.lstrip("/")
    return path + "index.html" if path.endswith("/") or not path else path


def show_date(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def w3c(moment: datetime, tz: ZoneInfo | None = None) -> str:
    return moment.astimezone(tz or UTC).isoformat(timespec="seconds")


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def sitemap_bytes(base: str, entries: list[tuple[str, str | None]]) -> bytes:
    """sitemap.xml, written out directly: byte for byte what ElementTree makes of the same tree
    (indented by two spaces, text escaped as ElementTree escapes it), at a tenth of the cost."""
    if not entries:
        root = ET.Element("urlset", xmlns=SITEMAP_NS)
        ET.indent(root)
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + xml_bytes(root) + b"\n"
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{SITEMAP_NS}">']
    for path, modified in entries:
        lines.append("  <url>")
        lines.append(f"    <loc>{xml_text(base + '/' + path.removesuffix('index.html'))}</loc>")
        if modified:
            lines.append(f"    <lastmod>{xml_text(modified)}</lastmod>")
        lines.append("  </url>")
    lines.append("</urlset>\n")
    return "\n".join(lines).encode("utf-8")


def xml_text(text: str) -> str:
    """Character data escaped as ElementTree escapes it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Website:
    """Plans every page of one website channel from the selected items."""

    def __init__(
        self,
        info: SiteInfo,
        items: list[Item],
        fragments: FragmentCache,
        updated: dict[str, datetime],
        consultations: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.info = info
        self.consultations = consultations or {}  # slug -> its consultation's page context
        self.items = items
        self.fragments = fragments
        self.updated = updated  # slug -> when a corrected revision replaced the published one
        self.columns = {key: name for key, name, _ in info.columns}
        self.by_column: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            self.by_column[item.column].append(item)
        self.by_series: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            if item.series:
                self.by_series[item.series["id"]].append(item)
        for parts in self.by_series.values():
            parts.sort(key=lambda i: (int(i.series["part"]) if i.series else 0, i.slug))

        self._entries: dict[str, dict[str, Any]] = {}
        self._site: dict[str, Any] | None = None
        self._site_key: str | None = None
        self._info_key: str | None = None
        self._prefix: str | None = None
        self.position = {item.slug: n for parts in self.by_column.values() for n, item in enumerate(parts)}
        self.part_position = {
            item.slug: n for parts in self.by_series.values() for n, item in enumerate(parts)
        }

    # -- shared context --------------------------------------------------------------------------
    def site_context(self) -> dict[str, Any]:
        if self._site is None:
            self._site = self._site_context()
        return self._site

    def _site_context(self) -> dict[str, Any]:
        info = self.info
        latest = max((i.date for i in self.items), default=None)
        return {
            "title": info.title,
            "org": info.org,
            "description": info.description,
            "base_url": info.base_url,
            "lang": "zh-CN",
            "year": latest.astimezone(info.tz).year if latest else None,
            "columns": [{"key": k, "name": n, "url": column_url(k)} for k, n, _ in info.columns],
            # The government page metadata (SiteName, SiteDomain, SiteIDCode, ColumnName, ColumnType).
            "domain": urlsplit(info.base_url).netloc,
            "id_code": info.id_code,
            "column_names": {k: n for k, n, _ in info.columns},
            "column_types": {k: COLUMN_TYPES[t] for k, t in info.column_types},
            "feeds": {"rss": "/feeds/all.rss.xml", "atom": "/feeds/all.atom.xml", "json": "/feeds/all.json"}
            if info.feeds
            else None,
        }

    def entry(self, item: Item) -> dict[str, Any]:
        """An item as lists show it; one dict per item and build, shared by every page (read-only)."""
        entry = self._entries.get(item.slug)
        if entry is None:
            entry = self._entries[item.slug] = self._entry(item)
        return entry

    def _entry(self, item: Item) -> dict[str, Any]:
        return {
            "title": item.title,
            "url": article_url(item.slug),
            "date": show_date(item.date, self.info.tz),
            "datetime": w3c(item.date, self.info.tz),
            "summary": item.summary,
            "column": self.columns.get(item.column, item.column),
            "column_url": column_url(item.column),
        }

    def cover(self, item: Item) -> dict[str, Any] | None:
        source = item.cover
        if source is None:
            return None
        pic = picture(plan(source), MEDIA_URL)
        return {"src": pic.src, "srcset": pic.srcset, "width": pic.width, "height": pic.height}

    def site_key(self) -> str:
        if self._site_key is None:
            self._site_key = key_of("site", self.site_context())
        return self._site_key

    def info_key(self) -> str:
        """What of the site's settings an article page shows besides the site context."""
        if self._info_key is None:
            info = self.info
            self._info_key = key_of(
                "info", code_hash(), str(info.tz), info.base_url, info.columns, MEDIA_URL, info.cards
            )
        return self._info_key

    def _with_page(self, url: str, context: dict[str, Any]) -> dict[str, Any]:
        context["page"] = {
            "home": False,
            "column": None,
            "description": None,
            "og_image": None,
            **context.get("page", {}),
        }
        context["page"]["url"] = url
        context["page"]["canonical"] = self.info.base_url + url
        return context

    def _page(
        self, template: str, url: str, context: dict[str, Any], fragments: tuple[str, ...] = ()
    ) -> Output:
        context = self._with_page(url, context)
        # The shared site context enters the key by its own hash: hashed once, not once per page.
        key = key_of(template, self.site_key(), context, fragments)
        context = {"site": self.site_context(), **context}

        def produce() -> bytes:
            return render_page(template, context, self.fragments.get(fragments[0]) if fragments else None)

        return Output(file_of(url), key, produce, fragments)

    # -- pages -----------------------------------------------------------------------------------
    def outputs(self, fragment_keys: dict[str, str]) -> list[Output]:
        out = [self.home()]
        for key, name, description in self.info.columns:
            out.extend(self.column_pages(key, name, description))
        articles = [self.article(item, fragment_keys[item.revision_id]) for item in self.items]
        lastmod = {o.path: self._lastmod(item) for o, item in zip(articles, self.items, strict=True)}
        out.extend(articles)
        for series_id in sorted(self.by_series):
            out.append(self.series_page(series_id))
        out.append(self._page("search.html", "/search.html", {"page": {"title": "站内搜索"}}))
        out.append(self._page("404.html", "/404.html", {"page": {"title": "页面未找到"}}))
        out.append(self.search_index())
        pages = [
            o.path for o in out if o.path.endswith(".html") and o.path not in ("404.html", "search.html")
        ]
        out.append(self.sitemap(pages, lastmod))
        out.append(self.robots())
        out.extend(self.static())
        return out

    def home(self) -> Output:
        lead = next((i for i in self.items if i.cover is not None), None)
        return self._page(
            "home.html",
            "/",
            {
                "page": {"title": "首页", "home": True},
                "lead": None if lead is None else {**self.entry(lead), "cover": self.cover(lead)},
                "latest": [
                    self.entry(i) for i in itertools.islice((i for i in self.items if i is not lead), 8)
                ],
                "columns": [
                    {
                        "name": name,
                        "url": column_url(key),
                        "entries": [self.entry(i) for i in self.by_column.get(key, [])[:6]],
                    }
                    for key, name, _ in self.info.columns
                ],
                "series": [
                    {
                        "title": parts[0].series["title"] if parts[0].series else "",
                        "url": series_url(sid),
                        "count": len(parts),
                    }
                    for sid, parts in sorted(self.by_series.items())
                ],
            },
        )

    def column_pages(self, key: str, name: str, description: str) -> list[Output]:
        items = self.by_column.get(key, [])
        size = self.info.page_size
        pages = max(1, math.ceil(len(items) / size))
        out = []
        for n in range(1, pages + 1):
            chunk = items[(n - 1) * size : n * size]
            # Keyed like an article page, by its inputs: the column, the page's place among the
            # column's pages and the (slug, revision id) of every item it lists.
            inputs = [
                "column.html",
                self.site_key(),
                self.info_key(),
                json.dumps([key, name, description, n, pages, len(items)], ensure_ascii=False),
                *(f"{i.slug}\x1f{i.revision_id}" for i in chunk),
            ]
            url = column_url(key, n)

            def produce(n: int = n, chunk: list[Item] = chunk, url: str = url) -> bytes:
                # Made only for a page being rendered: every page links to every other one.
                pagination = {
                    "page": n,
                    "pages": pages,
                    "prev": column_url(key, n - 1) if n > 1 else None,
                    "next": column_url(key, n + 1) if n < pages else None,
                    "links": [
                        {"n": m, "url": column_url(key, m), "current": m == n} for m in range(1, pages + 1)
                    ],
                }
                context = self._with_page(
                    url,
                    {
                        "page": {"title": name if n == 1 else f"{name}（第{n}页）", "column": key},
                        "column": {"key": key, "name": name, "description": description, "count": len(items)},
                        "entries": [self.entry(i) for i in chunk],
                        "pagination": pagination,
                    },
                )
                return render_page("column.html", {"site": self.site_context(), **context}, None)

            digest = hashlib.sha256("\0".join(inputs).encode("utf-8")).hexdigest()
            out.append(Output(file_of(url), digest, produce))
        return out

    def article(self, item: Item, fragment_key: str) -> Output:
        """An article page. Its key is taken from the inputs its context is made of, not from the
        context: revisions are immutable, so (slug, revision id) stands for an item, and the page
        shows the item, its neighbours in the column, its series' parts, when it was corrected and
        the site's settings (`site_key`, `info_key`, the latter with the code that makes the
        context). Only a page whose key changed builds its context."""
        column = self.by_column[item.column]
        at = self.position[item.slug]
        # Lists run newest first: the previous article is the older one.
        older = column[at + 1] if at + 1 < len(column) else None
        newer = column[at - 1] if at > 0 else None
        updated = self.updated.get(item.slug)
        parts = tuple(self.by_series[item.series["id"]]) if item.series else ()
        consultation = self.consultations.get(item.slug)
        prefix = self._article_prefix()
        # What the key is made of, as objects: the same items (one object per revision, `select`)
        # around the same article give the last build's key without joining and hashing again.
        seen = (fragment_key, item, older, newer, updated, parts, consultation)
        known = _article_keys.get((prefix, item.slug))
        if known is not None and known[0] == seen:
            key, path = known[1], known[2]
        else:
            key = _article_key(prefix, fragment_key, item, older, newer, updated, parts, consultation)
            path = file_of(article_url(item.slug))
            if len(_article_keys) >= REMEMBER:
                _article_keys.clear()
            _article_keys[(prefix, item.slug)] = (seen, key, path)
        url = article_url(item.slug)
        fragments = (fragment_key,)

        def job() -> tuple[str, dict[str, Any], str]:
            return (
                "article.html",
                {"site": self.site_context(), **self._with_page(url, self._article(item))},
                fragment_key,
            )

        def produce() -> bytes:
            template, context, _ = job()
            return render_page(template, context, self.fragments.get(fragment_key))

        return Output(path, key, produce, fragments, job)

    def _article_prefix(self) -> str:
        if self._prefix is None:
            self._prefix = "\0".join(("article.html", self.site_key(), self.info_key()))
        return self._prefix

    def _article(self, item: Item) -> dict[str, Any]:
        column = self.by_column[item.column]
        at = self.position[item.slug]
        older = column[at + 1] if at + 1 < len(column) else None
        newer = column[at - 1] if at > 0 else None
        series = None
        if item.series:
            parts = self.by_series[item.series["id"]]
            pos = self.part_position[item.slug]
            series = {
                "title": item.series["title"],
                "url": series_url(item.series["id"]),
                "part": item.series["part"],
                "parts": [
                    {
                        "part": p.series["part"] if p.series else 0,
                        "title": p.title,
                        "url": article_url(p.slug),
                        "stage": STAGE_LABELS.get((p.series or {}).get("stage") or "", ""),
                        "current": p is item,
                    }
                    for p in parts
                ],
                "prev": self.entry(parts[pos - 1]) if pos > 0 else None,
                "next": self.entry(parts[pos + 1]) if pos + 1 < len(parts) else None,
            }
        updated = self.updated.get(item.slug)
        cover = self.cover(item)
        share = (
            cover["src"]
            if cover
            else (og_image_url(item.slug, item.title, item.column) if self.info.cards else None)
        )
        context = {
            "page": {
                "title": item.title,
                "column": item.column,
                "description": item.summary,
                "og_image": self.info.base_url + share if share else None,
            },
            "article": {
                **self.entry(item),
                "kind": KIND_LABELS.get(item.kind, item.kind),
                "pubdate": f"{item.date.astimezone(self.info.tz):%Y-%m-%d %H:%M}",
                "department": item.department,
                "committee": item.committee,
                "authors": list(item.authors),
                "editor": item.editor,
                "tags": list(item.tags),
                "cover": cover,
                "video": item.video,
                # The long image leads an article of kind long_image; one attached follows the text.
                "long_image": {
                    "src": long_image_url(item.slug, item.revision_id),
                    "first": item.kind == "long_image",
                }
                if item.long_image
                else None,
                "updated": show_date(updated, self.info.tz) if updated else None,
                "updated_datetime": w3c(updated, self.info.tz) if updated else None,
            },
            "older": self.entry(older) if older else None,
            "newer": self.entry(newer) if newer else None,
            "series": series,
            "consultation": self.consultations.get(item.slug),
        }
        return context

    def series_page(self, series_id: str) -> Output:
        parts = self.by_series[series_id]
        first = parts[0].series or {}
        return self._page(
            "series.html",
            series_url(series_id),
            {
                "page": {"title": first.get("title", series_id)},
                "series": {"title": first.get("title", series_id), "count": len(parts)},
                "parts": [
                    {
                        **self.entry(p),
                        "part": (p.series or {}).get("part"),
                        "stage": STAGE_LABELS.get((p.series or {}).get("stage") or "", ""),
                    }
                    for p in parts
                ],
            },
        )

    def search_index(self) -> Output:
        tz = self.info.tz
        # The JSON array is its records' texts joined by commas (what json.dumps makes of the list
        # with these separators); a record is remembered with the (immutable) revision it shows.
        zone = str(tz)
        columns = self.columns
        records = []
        for i in self.items:
            column = columns.get(i.column, i.column)
            known = (i.revision_id, i.slug, zone, column)
            record = _search_records.get(known)
            if record is None:
                record = _search_records[known] = search_record(i, tz, column).encode("utf-8")
            records.append(record)
        if len(_search_records) > REMEMBER:
            _search_records.clear()
        data = b"[" + b",".join(records) + b"]"
        # Its bytes are at hand: their hash is the key and the file's digest (hashed once).
        digest = hashlib.sha256(data).hexdigest()
        return Output("search-index.json", digest, lambda: data, digest=digest)

    def sitemap(self, pages: list[str], lastmod: dict[str, str]) -> Output:
        """`lastmod`: an article page's path -> the date the sitemap gives it."""
        entries = [(path, lastmod.get(path)) for path in sorted(pages)]
        base = self.info.base_url
        # Keyed by the very lines it is made of (a path and its date cannot hold a newline).
        listed = "\n".join(f"{path}\x1f{modified or ''}" for path, modified in entries)
        key = hashlib.sha256(
            "\0".join(("sitemap", template_hash(), base, str(len(entries)), listed)).encode("utf-8")
        ).hexdigest()
        return Output("sitemap.xml", key, lambda: sitemap_bytes(base, entries))

    def _lastmod(self, item: Item) -> str:
        updated = self.updated.get(item.slug)
        known = (item.revision_id, updated)
        text = _lastmods.get(known)
        if text is None:
            if len(_lastmods) > REMEMBER:
                _lastmods.clear()
            text = _lastmods[known] = w3c(updated or item.date)
        return text

    def robots(self) -> Output:
        text = f"User-agent: *\nAllow: /\n\nSitemap: {self.info.base_url}/sitemap.xml\n".encode()
        return Output("robots.txt", key_of("robots", text.decode()), lambda: text)

    def static(self) -> list[Output]:
        return list(static_outputs())


@cache
def static_outputs() -> tuple[Output, ...]:
    """The static files ship with the package and enter `template_hash`, read once per process
    like the templates: not read and hashed again by every build."""
    out = []
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            out.append(
                Output(
                    "static/" + path.relative_to(STATIC).as_posix(),
                    digest := hashlib.sha256(data).hexdigest(),
                    lambda data=data: data,  # type: ignore[misc]
                    digest=digest,
                )
            )
    return tuple(out)


# The search index's record of each (immutable) revision, as JSON text: a rebuild after one edit
# encodes one record, not a thousand. Bounded like the other per-revision memories of a build.
REMEMBER = 1 << 15
_search_records: dict[tuple[str, str, str, str], bytes] = {}
# (the article prefix, slug) -> (what its key was made of, the key, its path): see `Website.article`.
_article_keys: dict[tuple[str, str], tuple[tuple[Any, ...], str, str]] = {}
_lastmods: dict[tuple[str, datetime | None], str] = {}  # the sitemap's date of a revision shown


def search_record(item: Item, tz: ZoneInfo, column: str) -> str:
    record = {
        "t": item.title,
        "u": article_url(item.slug),
        "d": item.date.astimezone(tz).date().isoformat(),
        "c": column,
        "s": item.summary,
        "g": list(item.tags),
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _article_key(
    prefix: str,
    fragment_key: str,
    item: Item,
    older: Item | None,
    newer: Item | None,
    updated: datetime | None,
    parts: tuple[Item, ...],
    consultation: dict[str, Any] | None,
) -> str:
    """An article page's key: its inputs joined by NULs, the part every article shares (`prefix`)
    written once per build."""
    inputs = [
        prefix,
        fragment_key,
        item.slug,
        item.revision_id,
        updated.isoformat() if updated else "-",
        older.slug if older else "-",
        older.revision_id if older else "-",
        newer.slug if newer else "-",
        newer.revision_id if newer else "-",
        str(len(parts)),
    ]
    inputs.extend(f"{p.slug}\x1f{p.revision_id}" for p in parts)
    inputs.append(_consultation_key(consultation))
    return hashlib.sha256("\0".join(inputs).encode("utf-8")).hexdigest()
