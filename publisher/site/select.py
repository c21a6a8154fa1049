"""Which articles a channel shows right now: current revisions the publication gate allows."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from publisher.channels.registry import Channel
from publisher.review.gate import Gate
from publisher.site.media import Source
from publisher.store.tables import Article, Revision, RevisionAsset


@dataclass(frozen=True, slots=True)
class Item:
    """One published article as every page and feed sees it (times in UTC)."""

    slug: str
    revision_id: str
    number: int
    title: str
    column: str
    kind: str
    department: str
    committee: str | None
    authors: tuple[str, ...]
    editor: str | None
    tags: tuple[str, ...]
    summary: str
    date: datetime
    created_at: datetime
    series: dict[str, Any] | None
    video: dict[str, Any] | None
    body: str
    sources: tuple[Source, ...]

    @property
    def cover(self) -> Source | None:
        return next((s for s in self.sources if s.role == "cover"), None)


@dataclass
class Selection:
    items: list[Item] = field(default_factory=list)  # newest first
    excluded: dict[str, tuple[str, ...]] = field(default_factory=dict)  # slug -> reasons


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def held_back(meta: dict[str, Any], channel: Channel, now: datetime) -> tuple[str, ...]:
    """Reasons the channel itself refuses a revision, whatever the gate says (belt and braces)."""
    reasons = []
    embargo = meta.get("embargo")
    if embargo and _utc(embargo) > now:
        reasons.append(f"embargoed until {embargo}")
    wanted = meta.get("channels")
    if wanted is not None and channel.name not in wanted:
        reasons.append(f"not for channel {channel.name}")
    return tuple(reasons)


def select_items(
    session: Session, channel: Channel, gate: Gate, now: datetime, retracted: frozenset[str] = frozenset()
) -> Selection:
    rows = session.exec(
        select(Article, Revision)
        .join(Revision, col(Revision.id) == col(Article.current_revision_id))
        .order_by(col(Revision.dated_at).desc(), col(Article.slug))
    ).all()
    assets: dict[str, list[Source]] = defaultdict(list)
    for asset in session.exec(
        select(RevisionAsset)
        .join(Article, col(Article.current_revision_id) == col(RevisionAsset.revision_id))
        .order_by(col(RevisionAsset.revision_id), col(RevisionAsset.position))
    ):
        assets[asset.revision_id].append(
            Source(asset.ref, asset.role, asset.sha256, asset.width, asset.height, asset.format)
        )
    chosen = Selection()
    for article, revision in rows:
        meta: dict[str, Any] = json.loads(revision.meta_json)
        reasons = held_back(meta, channel, now)
        if article.slug in retracted:
            reasons += ("retracted from this channel",)
        if not reasons:
            decision = gate(session, revision, channel, now)
            if not decision.allowed:
                reasons = decision.reasons or ("not allowed by the publication gate",)
        if reasons:
            chosen.excluded[article.slug] = reasons
            continue
        chosen.items.append(
            Item(
                slug=article.slug,
                revision_id=revision.id,
                number=revision.number,
                title=revision.title,
                column=revision.column,
                kind=revision.kind,
                department=revision.department,
                committee=revision.committee,
                authors=tuple(meta.get("authors", ())),
                editor=meta.get("editor"),
                tags=tuple(meta.get("tags", ())),
                summary=meta.get("summary", ""),
                date=revision.dated_at.astimezone(UTC),
                created_at=revision.created_at.astimezone(UTC),
                series=meta.get("series"),
                video=meta.get("video"),
                body=revision.body,
                sources=tuple(assets.get(revision.id, ())),
            )
        )
    return chosen
