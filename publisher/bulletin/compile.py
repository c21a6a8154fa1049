"""What an issue prints: each listed article's current revision, once the publication gate allows
it to leave the office on paper.

A printed issue is as external as any channel: the same gate decides (fully signed review, no
retraction, no secrecy marking, the embargo, the article's own `channels:` list), at the moment
the issue is built. Every refusal is reported against the issue file, with the line and the key
that lists the article, and nothing is built while one stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from publisher.articles import assets_of
from publisher.bulletin.definitions import Bulletin, Issue
from publisher.channels.kinds import KindSettings
from publisher.channels.registry import Channel
from publisher.engine.release import newsroom_gate
from publisher.errors import Problem
from publisher.imaging import blocks as b
from publisher.imaging.glyphs import Face, missing_glyphs
from publisher.newsroom import Newsroom
from publisher.store.tables import Article, Revision
from publisher.timeutil import local
from publisher.tomlproblems import did_you_mean


@dataclass(frozen=True, slots=True)
class Listed:
    """One article of the issue, as compiled."""

    section: str
    slug: str
    revision: Revision
    blocks: tuple[b.Block, ...]
    pictures: dict[str, bytes]
    byline: str


@dataclass(frozen=True, slots=True)
class Compiled:
    issue: Issue
    articles: tuple[Listed, ...]


def as_channel(bulletin: Bulletin) -> Channel:
    """The bulletin as the gate sees a destination: external, under the bulletin's own name."""
    return Channel(
        name=bulletin.key,
        kind="bulletin",
        title=bulletin.settings.title,
        description="",
        enabled=bulletin.settings.enabled,
        external=True,
        settings=KindSettings(),
        source=bulletin.source,
    )


def _byline(room: Newsroom, revision: Revision) -> str:
    day = local(revision.dated_at, room.settings.tz)
    return f"（{day.year}年{day.month}月{day.day}日）"


def _unprintable(title: str, blocks: tuple[b.Block, ...]) -> list[str]:
    """Characters of the article the face it is set in lacks: titles and headings in sans, the
    rest in serif (bulletin/body.py)."""
    sans = [title] + [block.text for block in blocks if isinstance(block, b.Heading)]
    serif: list[str] = []
    for block in blocks:
        match block:
            case b.Paragraph(text=text):
                serif.append(text)
            case b.ListBlock(items=items):
                serif.extend(items)
            case b.Quote(paragraphs=paragraphs):
                serif.extend(paragraphs)
            case b.Table(header=header, rows=rows):
                sans.extend(header)
                serif.extend(cell for row in rows for cell in row)
            case b.Picture(alt=alt):
                serif.append(alt)
    found = missing_glyphs("".join(sans), Face.SANS) + missing_glyphs("".join(serif), Face.SERIF)
    return list(dict.fromkeys(found))


def compile_issue(room: Newsroom, session: Session, issue: Issue, at: datetime) -> Compiled | list[Problem]:
    gate = newsroom_gate(room)
    channel = as_channel(issue.bulletin)
    slugs = [slug for section in issue.settings.sections for slug in section.articles]
    found = {a.slug: a for a in session.exec(select(Article).where(col(Article.slug).in_(slugs)))}
    problems: list[Problem] = []
    if not issue.bulletin.settings.enabled:
        problems.append(
            Problem(
                issue.bulletin.source,
                "公报已停用（enabled = false） / the bulletin is disabled",
                field="enabled",
            )
        )
    listed: list[Listed] = []
    seen: dict[str, int] = {}
    known: list[str] | None = None
    for s, section in enumerate(issue.settings.sections):
        for a, slug in enumerate(section.articles):
            where = ("sections", s, "articles", a)
            if slug in seen:
                problems.append(
                    issue.locate(
                        f"稿件 {slug} 已列在第 {seen[slug] + 1} 个栏目 / "
                        f"{slug} is already listed in section {seen[slug] + 1}",
                        where,
                    )
                )
                continue
            seen[slug] = s
            article = found.get(slug)
            if article is None or article.current_revision_id is None:
                if known is None:  # read once, and only when a slug names nothing
                    known = list(session.exec(select(Article.slug)).all())
                problems.append(
                    issue.locate(
                        f"没有 slug 为 {slug} 的稿件（先 publisher ingest） / no article {slug!r}"
                        f"{did_you_mean(slug, known)}",
                        where,
                    )
                )
                continue
            revision = session.get(Revision, article.current_revision_id)
            assert revision is not None
            decision = gate(session, revision, channel, at)
            if not decision.allowed:
                problems.append(
                    issue.locate(
                        f"稿件 {slug}（{revision.title}）不能付印 / may not go to print: "
                        + "；".join(decision.reasons),
                        where,
                    )
                )
                continue
            blocks = tuple(b.parse_blocks(revision.body))
            pictures = {
                asset.ref: room.blobs.get(asset.sha256)
                for asset in assets_of(session, revision.id)
                if asset.role == "inline" and room.blobs.has(asset.sha256)
            }
            missing = [p.ref for p in blocks if isinstance(p, b.Picture) and p.ref not in pictures]
            if missing:
                problems.append(
                    issue.locate(
                        f"稿件 {slug} 的图片不在库中：{', '.join(missing)}（重新 publisher ingest） / "
                        f"images of {slug} are not in the store: {', '.join(missing)}",
                        where,
                    )
                )
                continue
            blank = _unprintable(revision.title, blocks)
            if blank:
                shown = "、".join(f"{c}（U+{ord(c):04X}）" for c in blank)
                problems.append(
                    issue.locate(
                        f"稿件 {slug} 有字体中没有的字：{shown}，印出来会是空白；请改用规范字或另行造字 / "
                        f"characters the fonts cannot print (they would come out blank): {shown}",
                        where,
                    )
                )
                continue
            listed.append(Listed(section.title, slug, revision, blocks, pictures, _byline(room, revision)))
    if problems:
        return problems
    return Compiled(issue, tuple(listed))
