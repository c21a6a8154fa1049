"""Fake publication gates and a newsroom with every case the website must handle."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import cast

from sqlmodel import Session, select

from publisher.channels.kinds import WebsiteSettings
from publisher.channels.registry import Channel
from publisher.newsroom import Newsroom
from publisher.review.gate import Gate, GateDecision, GateSubject
from publisher.store.engine import write_session
from publisher.store.tables import Article, Retraction
from tests.factory import base_meta, write_article, write_image

NOW = datetime.fromisoformat("2026-12-01T12:00:00+08:00")


def allow_all(session: Session, revision: GateSubject, channel: Channel, now: datetime) -> GateDecision:
    return GateDecision.allow()


def deny_slugs(*slugs: str) -> Gate:
    """A gate that has not approved these articles (by slug, read from the revision's meta)."""

    def gate(session: Session, revision: GateSubject, channel: Channel, now: datetime) -> GateDecision:
        if any(f'"slug":"{s}"' in revision.meta_json.replace(" ", "") for s in slugs):
            return GateDecision.deny("未经终审 / not approved")
        return GateDecision.allow()

    return gate


def honouring_retractions(base: Gate) -> Gate:
    """A fake gate that also refuses what the real one refuses once an article is retracted: the
    site takes a page down because the gate refuses it, never from a list of its own."""

    def gate(session: Session, revision: GateSubject, channel: Channel, now: datetime) -> GateDecision:
        if session.get(Retraction, revision.article_id) is not None:
            return GateDecision.deny("已撤稿 / the article was retracted")
        return base(session, revision, channel, now)

    return gate


def set_retracted(room: Newsroom, slug: str, retracted: bool = True) -> None:
    """Record (or withdraw) the article's `Retraction` row, as the retraction service would."""
    with write_session(room.engine) as session:
        article = session.exec(select(Article).where(Article.slug == slug)).one()
        assert article.id is not None
        row = session.get(Retraction, article.id)
        if retracted and row is None:
            session.add(
                Retraction(article_id=article.id, reason="测试", retracted_by="test", retracted_at=NOW)
            )
        elif not retracted and row is not None:
            session.delete(row)


def website(room: Newsroom) -> Channel:
    return room.channels.channels["website"]


def public(room: Newsroom) -> Path:
    return room.root / cast(WebsiteSettings, website(room).settings).output


def populate(root: Path) -> None:
    """Add to a factory newsroom: an unapproved article, an embargoed one, a three-part series,
    a second column, and enough articles in one column for two pages."""
    content = root / "content"
    write_image(content / "images" / "big.jpg", (1600, 900), (30, 80, 150))
    write_article(content, "draft.md", base_meta("unapproved-draft", title="尚未审核的稿件"))
    write_article(
        content,
        "embargoed.md",
        base_meta("embargoed-piece", title="禁发期内的稿件", embargo="2026-12-04T00:00:00+08:00"),
    )
    for part in (1, 2, 3):
        meta = base_meta(
            f"series-part-{part}",
            title=f"河湖保护监督第{part}篇",
            column="监督在线·实效追踪",
            date=f"2026-10-0{part}T09:00:00+08:00",
            series={"id": "rivers", "title": "河湖保护监督跟踪", "part": part, "stage": "inspection"},
        )
        if part == 2:
            meta["cover"] = "images/big.jpg"
        write_article(content, f"series-{part}.md", meta)
    for n in range(1, 23):
        write_article(
            content,
            f"news/news-{n}.md",
            base_meta(
                f"news-{n}",
                title=f"工作动态第{n}条",
                column="工作动态",
                date=f"2026-11-{n:02d}T08:00:00+08:00",
            ),
        )


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("href", "src"):
                self.links.append(value)
            if value and name == "srcset":
                self.links.extend(part.strip().split(" ")[0] for part in value.split(","))


def internal_links(html: str) -> Iterable[str]:
    parser = _Links()
    parser.feed(html)
    for link in parser.links:
        if link.startswith("/") and not link.startswith("//"):
            yield link.split("#", 1)[0].split("?", 1)[0]


def broken_links(site: Path) -> list[tuple[str, str]]:
    broken = []
    for page in sorted(site.rglob("*.html")):
        for link in internal_links(page.read_text(encoding="utf-8")):
            target = site / link.lstrip("/")
            if link.endswith("/"):
                target = target / "index.html"
            if not target.is_file():
                broken.append((page.relative_to(site).as_posix(), link))
    return broken


def all_text(site: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8")
        for p in sorted(site.rglob("*"))
        if p.is_file() and p.suffix in (".html", ".xml", ".json", ".txt")
    )


def snapshot(site: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every file: the same pair means the build did not write the file."""
    out = {}
    for p in site.rglob("*"):
        if p.is_file() and "media" not in p.relative_to(site).parts:
            st = p.stat()
            out[p.relative_to(site).as_posix()] = (st.st_ino, st.st_mtime_ns)
    return out


def sitemap_paths(site: Path) -> set[str]:
    text = (site / "sitemap.xml").read_text(encoding="utf-8")
    return {re.sub(r"^https?://[^/]+", "", loc) for loc in re.findall(r"<loc>([^<]+)</loc>", text)}
