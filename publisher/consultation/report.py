"""The feedback report (采纳情况说明): drafted as an ordinary Markdown article in `content/`, which
then goes through ingest, the review chain and the channels like any other article.

The draft takes its column, department, committee and series from the draft regulation's article
(the revision that opened the consultation), its byline from the acting person, and its figures
from the handled comments: counts, each clause's dispositions with their reasons, and a few
representative comments that staff marked as shown in public excerpts, masked and without names.

It is refused while the consultation is open or valid comments are undisposed; `force` drafts it
anyway and writes what is missing into the draft, so no reviewer can miss it.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlmodel import Session, col, select

from publisher import audit
from publisher.auth.identity import Identity
from publisher.auth.permissions import Act, require
from publisher.consultation.clauses import Clause, clause_label, clauses
from publisher.consultation.overdue import counts
from publisher.consultation.queries import Window, get_consultation, group_sizes, window
from publisher.consultation.states import CommenterType, Disposition, Moderation
from publisher.errors import PublisherError
from publisher.newsroom import Newsroom
from publisher.review.personal import masked_text
from publisher.store.engine import read_session, write_session
from publisher.store.tables import Article, Consultation, ConsultationComment, Revision
from publisher.timeutil import local

REPRESENTATIVE_PER_CLAUSE = 2
_TYPES = {t.value: t.label for t in CommenterType}
EXCERPT_MAX = 200


class ReportRefused(PublisherError):
    """The report cannot be drafted yet; the message lists what is missing."""


@dataclass
class Missing:
    still_open: str | None = None  # the closing time, while open
    undisposed: list[str] = field(default_factory=list)  # receipts

    def __bool__(self) -> bool:
        return self.still_open is not None or bool(self.undisposed)

    def lines(self) -> list[str]:
        out: list[str] = []
        if self.still_open:
            out.append(f"征求意见尚未截止（{self.still_open} 截止） / the consultation is still open")
        if self.undisposed:
            shown = "、".join(self.undisposed[:20]) + ("…" if len(self.undisposed) > 20 else "")
            out.append(
                f"{len(self.undisposed)} 条有效意见尚未办理 / {len(self.undisposed)} valid comments "
                f"have no disposition: {shown}"
            )
        return out


@dataclass(frozen=True, slots=True)
class Drafted:
    slug: str
    path: Path
    missing: Missing


def missing(session: Session, consultation: Consultation, now: datetime, tz: ZoneInfo) -> Missing:
    result = Missing()
    if window(consultation, now) is not Window.CLOSED:
        result.still_open = local(consultation.closes_at, tz).strftime("%Y-%m-%d %H:%M")
    result.undisposed = [
        c.receipt
        for c in session.exec(
            select(ConsultationComment)
            .where(
                ConsultationComment.slug == consultation.slug, col(ConsultationComment.disposition).is_(None)
            )
            .order_by(col(ConsultationComment.received_at))
        )
        if counts(c)
    ]
    return result


def _draft_revision(session: Session, consultation: Consultation) -> tuple[Revision, Article]:
    revision = session.get(Revision, consultation.revision_id)
    article = session.get(Article, revision.article_id) if revision is not None else None
    if revision is None or article is None:
        raise ReportRefused(
            f"找不到征求意见草案的稿件版本 {consultation.revision_id[:12]} / the draft's revision is not "
            "stored: ingest the draft article first"
        )
    return revision, article


def _front_matter(
    consultation: Consultation, revision: Revision, slug: str, actor: Identity, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    meta = json.loads(revision.meta_json)
    front: dict[str, Any] = {
        "title": f"{consultation.title}征求意见采纳情况说明"[:200],
        "slug": slug,
        "date": local(now, tz).isoformat(timespec="seconds"),
        "column": revision.column,
        "kind": "news",
        "authors": [actor.display_name],
        "department": revision.department,
    }
    if revision.committee:
        front["committee"] = revision.committee
    front["tags"] = ["征求意见", "意见反馈"]
    front["summary"] = f"{consultation.title}公开征求意见已结束，现将意见建议的采纳情况说明如下。"[:300]
    series = meta.get("series")
    if isinstance(series, dict) and series.get("id"):
        front["series"] = {
            "id": series["id"],
            "title": series.get("title") or consultation.title,
            "part": int(series.get("part") or 1) + 1,
            **({"stage": series["stage"]} if series.get("stage") else {}),
        }
    return front


def _excerpt(text: str) -> str:
    one_line = " ".join(masked_text(text).split())
    return one_line if len(one_line) <= EXCERPT_MAX else one_line[:EXCERPT_MAX] + "……"


def _body(session: Session, consultation: Consultation, gaps: Missing, tz: ZoneInfo) -> str:
    known = clauses(consultation)
    valid = [
        c
        for c in session.exec(
            select(ConsultationComment)
            .where(ConsultationComment.slug == consultation.slug)
            .order_by(col(ConsultationComment.received_at), col(ConsultationComment.id))
        )
        if counts(c)
    ]
    sizes = group_sizes(session, consultation.slug)
    groups = len({c.group_id for c in valid if c.group_id is not None}) + sum(
        1 for c in valid if c.group_id is None
    )
    by_type = Counter(c.commenter_type for c in valid)
    opens, closes = local(consultation.opens_at, tz), local(consultation.closes_at, tz)
    lines: list[str] = []
    if gaps:
        lines += ["> **待补全（审核前须处理）**：", *[f"> - {line}" for line in gaps.lines()], ""]
    lines += [
        f"{opens:%Y年%m月%d日}至{closes:%Y年%m月%d日}，市人大常委会就{consultation.title}公开征求社会各界意见，"
        f"共收到有效意见建议{len(valid)}条（内容相同或相近的意见合并为{groups}组）。"
        "现将意见建议的采纳情况说明如下。",
        "",
        "## 意见来源",
        "",
        "| 意见人类型 | 条数 |",
        "| --- | ---: |",
        *[f"| {t.label} | {by_type[t.value]} |" for t in CommenterType if by_type[t.value]],
        f"| 合计 | {len(valid)} |",
        "",
        "## 逐条采纳情况",
        "",
    ]
    per_clause: dict[str | None, list[ConsultationComment]] = defaultdict(list)
    for c in valid:
        per_clause[c.clause].append(c)
    order: list[str | None] = [k.key for k in known] + [None]
    for key in [k for k in order if k in per_clause] + [k for k in per_clause if k not in order]:
        items = per_clause[key]
        lines += [f"### {_heading(known, key)}", ""]
        tally = Counter(c.disposition for c in items)
        parts = [f"{d.label}{tally[d.value]}条" for d in Disposition if tally[d.value]]
        if tally[None]:
            parts.append(f"尚未办理{tally[None]}条")
        lines += [f"收到意见{len(items)}条：{'，'.join(parts)}。", ""]
        reasons: dict[tuple[str, str], int] = Counter(
            (c.disposition, " ".join((c.reason or "").split())) for c in items if c.disposition and c.reason
        )
        for (disposition, reason), n in reasons.items():
            lines.append(f"- {Disposition(disposition).label}（{n}条）：{masked_text(reason)}")
        if reasons:
            lines.append("")
        shown = sorted(
            (c for c in items if c.moderation == Moderation.SHOWN.value),
            key=lambda c: -(sizes.get(c.group_id, 1) if c.group_id is not None else 1),
        )
        picked: list[ConsultationComment] = []
        seen_groups: set[int] = set()
        for c in shown:
            if c.group_id is not None and c.group_id in seen_groups:
                continue
            picked.append(c)
            if c.group_id is not None:
                seen_groups.add(c.group_id)
            if len(picked) == REPRESENTATIVE_PER_CLAUSE:
                break
        for c in picked:
            who = _TYPES.get(c.commenter_type, "意见人")
            label = Disposition(c.disposition).label if c.disposition else "尚未办理"
            lines += [f"> {who}：{_excerpt(c.body)}（{label}）", ""]
    lines += [
        "## 下一步工作",
        "",
        "法制工作委员会将会同有关专门委员会，对意见建议作进一步研究，在草案修改中认真吸收。感谢社会各界的关心和支持。",
        "",
    ]
    return "\n".join(lines)


def _heading(known: list[Clause], key: str | None) -> str:
    label = clause_label(known, key)
    heading = next((k.heading for k in known if k.key == key), "")
    return f"{label}（{heading}）" if heading else label


def draft_report(
    room: Newsroom,
    actor: Identity,
    slug: str,
    now: datetime,
    *,
    force: bool = False,
) -> Drafted:
    """Write content/<draft's folder>/<slug>-feedback.md and remember it as the feedback article.
    An existing file is never overwritten (staff may have edited it): it is refused by name."""
    require(actor, Act.CONSULT)
    tz = room.settings.tz
    with read_session(room.engine) as session:
        consultation = get_consultation(session, slug)
        gaps = missing(session, consultation, now, tz)
        if gaps and not force:
            raise ReportRefused(
                "尚不能起草采纳情况说明 / the feedback report cannot be drafted yet:\n"
                + "\n".join(f"- {line}" for line in gaps.lines())
                + "\n加 --force 仍然起草（缺项写入稿件） / add --force to draft it anyway, with what is missing"
            )
        revision, article = _draft_revision(session, consultation)
        report_slug = consultation.feedback_slug or f"{slug}-feedback"
        front = _front_matter(consultation, revision, report_slug, actor, now, tz)
        body = _body(session, consultation, gaps, tz)
    folder = (room.root / article.source).parent
    if not folder.is_relative_to(room.content_dir):
        folder = room.content_dir
    path = folder / f"{report_slug}.md"
    if path.exists():
        raise ReportRefused(
            f"{path.relative_to(room.root)} 已存在，未覆盖 / already exists and was not overwritten: "
            "编辑该文件，或删除后重新起草 / edit it, or delete it and draft again"
        )
    text = "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n\n" + body
    folder.mkdir(parents=True, exist_ok=True)
    staged = path.with_suffix(".md.tmp")
    staged.write_text(text, encoding="utf-8")
    staged.replace(path)
    with write_session(room.engine) as session:
        stored = get_consultation(session, slug)
        stored.feedback_slug, stored.updated_at = report_slug, now
        session.add(stored)
        audit.append(
            session,
            actor=actor.username,
            action="consultation.report_drafted",
            object_type="consultation",
            object_id=slug,
            details={
                "feedback_slug": report_slug,
                "file": str(path.relative_to(room.root)),
                "forced": bool(gaps),
                "undisposed": len(gaps.undisposed),
            },
        )
    return Drafted(report_slug, path, gaps)
