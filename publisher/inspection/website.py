"""The deployed website held to its build: every file of the live release against the manifest the
build wrote (publisher/site/deploy.py), on disk and, given the live URL, over HTTP; hidden links;
retracted pieces still reachable; broken links with page and line; the government metadata tags
and basic accessibility of every page.

Read-only: the release folder, its manifest and the database are read, nothing is written (the
`Releases` helper's adoption of a plain folder is not used for that reason).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import cast
from urllib.parse import unquote, urljoin, urlsplit

from sqlmodel import Session, col, select

from publisher.channels.kinds import WebsiteSettings
from publisher.channels.registry import Channel
from publisher.inspection.fetch import Fetched, Fetcher, LinkCache
from publisher.inspection.findings import Finding
from publisher.inspection.pages import ARTICLE_META, SITE_META, PageFacts, read_page
from publisher.inspection.settings import InspectionSettings
from publisher.newsroom import Newsroom
from publisher.site.deploy import MEDIA, Manifest
from publisher.store.retractions import in_force_ids
from publisher.store.tables import Article

_SKIP_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "#")


@dataclass(frozen=True, slots=True)
class LiveSite:
    """One website channel as deployed: the release `public/` points to and its manifest."""

    channel: Channel
    base_url: str
    public: Path
    release: Path | None
    manifest: Manifest

    @classmethod
    def of(cls, room: Newsroom, channel: Channel) -> LiveSite:
        settings = cast(WebsiteSettings, channel.settings)
        public = room.root / settings.output
        release = public.resolve() if public.is_symlink() or public.is_dir() else None
        manifest = Manifest()
        if release is not None and release.is_dir():
            recorded = release.with_name(release.name + ".json")
            if recorded.is_file():
                manifest = Manifest.from_json(recorded.read_text(encoding="utf-8"))
        else:
            release = None
        return cls(channel, settings.base_url.rstrip("/"), public, release, manifest)

    def files(self) -> Iterator[str]:
        """Every file served from the release, POSIX paths, the shared media pool left out."""
        if self.release is None:
            return
        for folder, dirs, names in os.walk(self.release):
            rel = os.path.relpath(folder, self.release)
            if rel == ".":
                dirs[:] = [d for d in dirs if d != MEDIA]
            for name in names:
                if rel == "." and name == MEDIA:
                    continue
                yield name if rel == "." else f"{PurePosixPath(rel) / name}"

    def url(self, path: str, live: str | None = None) -> str:
        return f"{(live or self.base_url).rstrip('/')}/{'' if path == 'index.html' else path.removesuffix('index.html')}"


@dataclass
class SiteResult:
    findings: list[Finding] = field(default_factory=list)
    pages: dict[str, bytes] = field(default_factory=dict)  # path -> bytes as served (disk or HTTP)
    links: int = 0
    shown: dict[str, str] = field(default_factory=dict)  # slug -> revision id the site shows


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def article_path(slug: str) -> str:
    return f"articles/{slug}.html"


def _retracted_slugs(session: Session) -> set[str]:
    return set(session.exec(select(Article.slug).where(col(Article.id).in_(in_force_ids()))))


def inspect_website(
    room: Newsroom,
    channel: Channel,
    settings: InspectionSettings,
    session: Session,
    *,
    live_url: str | None = None,
    fetcher: Fetcher,
    cache: LinkCache | None,
) -> SiteResult:
    site = LiveSite.of(room, channel)
    result = SiteResult()
    name = channel.name
    if site.release is None:
        result.findings.append(
            Finding(
                "site.missing", str(site.public), "网站尚未部署 / the website is not deployed", channel=name
            )
        )
        return result
    manifest = site.manifest
    retracted = _retracted_slugs(session)
    # The live site is fetched while the release on disk is read and parsed.
    pool = ThreadPoolExecutor(1)
    fetching = (
        pool.submit(
            fetcher.get_all,
            [
                *(site.url(p, live_url) for p in manifest.files),
                *(site.url(article_path(s), live_url) for s in retracted),
            ],
        )
        if live_url
        else None
    )
    on_disk = set(site.files())
    for path in sorted(on_disk):
        data = (site.release / path).read_bytes()
        entry = manifest.files.get(path)
        if entry is None:
            result.findings.append(
                Finding(
                    "site.injected",
                    path,
                    "发布目录中有任何构建都未生成的文件 / a file no build made is in the live release",
                    f"sha256 {_sha(data)[:16]}",
                    channel=name,
                )
            )
        elif _sha(data) != entry[0]:
            result.findings.append(
                Finding(
                    "site.tampered",
                    path,
                    "文件内容与构建清单不符（可能被篡改） / the file differs from the build's manifest (tampered)",
                    f"清单 / manifest {entry[0][:16]} ≠ 实际 / found {_sha(data)[:16]}",
                    channel=name,
                )
            )
        if path.endswith(".html"):
            result.pages[path] = data
    for path in sorted(manifest.files.keys() - on_disk):
        result.findings.append(
            Finding(
                "site.missing",
                path,
                "构建清单中的文件不在发布目录 / a file of the build is missing",
                channel=name,
            )
        )

    for slug in sorted(retracted):
        if article_path(slug) in on_disk:
            result.findings.append(
                Finding(
                    "site.retracted-live",
                    article_path(slug),
                    "已撤稿的稿件仍在网站上 / a retracted article is still on the website",
                    slug,
                    channel=name,
                )
            )
    result.shown = {slug: rid for slug, rid in manifest.shown.items() if article_path(slug) in on_disk}

    _inspect_pages(site, settings, live_url, fetcher, cache, on_disk, result, dict(result.pages))
    if fetching is not None and live_url:
        served = _inspect_live(site, live_url, retracted, fetching.result(), result)
        # A page served with other bytes than the build's is read as served, links and all.
        _inspect_pages(site, settings, live_url, fetcher, cache, on_disk, result, served, live_url)
    pool.shutdown()
    return result


def _inspect_live(
    site: LiveSite, live_url: str, retracted: set[str], fetched: Mapping[str, Fetched], result: SiteResult
) -> dict[str, bytes]:
    """The site as the public gets it: each file the build made, byte for byte, and retracted pages;
    the pages served with other bytes than the build's."""
    name = site.channel.name
    wanted = {site.url(p, live_url): p for p in site.manifest.files}
    gone = {site.url(article_path(s), live_url): article_path(s) for s in retracted}
    served: dict[str, bytes] = {}
    for url, path in sorted(wanted.items()):
        got = fetched[url]
        expected = site.manifest.files[path][0]
        if got.status is None or got.status >= 400:
            result.findings.append(
                Finding(
                    "site.missing",
                    url,
                    "线上无法取得构建生成的文件 / the live site does not serve a file of the build",
                    got.error or f"HTTP {got.status}",
                    channel=name,
                )
            )
        elif got.sha256 != expected:
            result.findings.append(
                Finding(
                    "site.tampered",
                    url,
                    "线上文件与构建清单不符（可能被篡改） / the live file differs from the build's manifest (tampered)",
                    f"清单 / manifest {expected[:16]} ≠ 线上 / served {got.sha256[:16]}",
                    channel=name,
                )
            )
            if path.endswith(".html"):
                served[path] = got.body
    for url, path in sorted(gone.items()):
        got = fetched[url]
        if got.status is not None and got.status < 400 and path not in site.manifest.files:
            result.findings.append(
                Finding(
                    "site.retracted-live",
                    url,
                    "已撤稿的稿件在线上仍可访问 / a retracted article is still served",
                    f"HTTP {got.status}",
                    channel=name,
                )
            )
    return served


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _allowed(host: str, own: set[str], listed: list[str]) -> bool:
    return host in own or any(host == d or host.endswith("." + d) for d in listed)


def _release_path(url: str) -> str:
    """The release path an internal URL names."""
    path = unquote(urlsplit(url).path).lstrip("/")
    return path + "index.html" if path.endswith("/") or not path else path


def _inspect_pages(
    site: LiveSite,
    settings: InspectionSettings,
    live_url: str | None,
    fetcher: Fetcher,
    cache: LinkCache | None,
    on_disk: set[str],
    result: SiteResult,
    pages: Mapping[str, bytes],
    served_from: str | None = None,
) -> None:
    """Each page's links, hidden links, metadata and accessibility; `served_from`: the pages are
    the live site's bytes, and findings name their URL."""
    name = site.channel.name
    own = {_host(site.base_url)} | ({_host(live_url)} if live_url else set())
    listed = [d.lower() for d in settings.site.allowed_domains]
    external: dict[str, list[tuple[str, int | None]]] = {}
    assert site.release is not None
    for path, data in sorted(pages.items()):
        facts: PageFacts = read_page(data)
        where = site.url(path, served_from) if served_from else path
        for link in facts.links:
            url = link.url
            if url.startswith(_SKIP_SCHEMES) or not url:
                continue
            result.links += 1
            absolute = urljoin(site.base_url + "/" + path, url)
            host = _host(absolute)
            if link.hidden:
                result.findings.append(
                    Finding(
                        "site.hidden-link",
                        where,
                        "页面中有读者看不见的链接（暗链） / a link readers cannot see (hidden link)",
                        f"{link.hidden} → {url}",
                        link.line,
                        name,
                    )
                )
            elif host and not _allowed(host, own, listed) and urlsplit(absolute).scheme in ("http", "https"):
                result.findings.append(
                    Finding(
                        "site.hidden-link",
                        where,
                        "链接指向未登记的域名 / a link to a domain the newsroom does not list",
                        url,
                        link.line,
                        name,
                    )
                )
            if host in own:
                local = _release_path(absolute)
                if local not in on_disk and not (site.release / local).is_file():
                    result.findings.append(
                        Finding(
                            "links.broken",
                            where,
                            "站内链接指向不存在的页面 / an internal link to a page that does not exist",
                            url,
                            link.line,
                            name,
                        )
                    )
            elif urlsplit(absolute).scheme in ("http", "https") and settings.links.check_external:
                external.setdefault(absolute.split("#")[0], []).append((where, link.line))
        _inspect_meta(path, where, facts, name, result)
    checked = fetcher.check(external, cache)
    for url, places in sorted(external.items()):
        answer = checked[url]
        if answer.broken:
            for page, line in places:
                result.findings.append(
                    Finding(
                        "links.broken",
                        page,
                        "外部链接无法访问 / an external link is broken",
                        f"{url} ({answer.said()})",
                        line,
                        name,
                    )
                )


def _inspect_meta(path: str, where: str, facts: PageFacts, channel: str, result: SiteResult) -> None:
    if path in ("404.html", "search.html"):
        return
    wanted = SITE_META + (ARTICLE_META if path.startswith("articles/") else ())
    missing = [tag for tag in wanted if not facts.meta.get(tag)]
    if missing:
        result.findings.append(
            Finding(
                "meta.missing",
                where,
                "页面缺少政府网站元数据标签 / the page lacks government metadata tags",
                ", ".join(missing),
                channel=channel,
            )
        )
    for line, issue in facts.accessibility:
        result.findings.append(Finding("a11y.issue", where, issue, "", line, channel))
