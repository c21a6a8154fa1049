"""One inspection run: every website's release and pages, everything live re-checked with today's
lists, freshness, the WeChat account; scored, kept for the trend, and audited (one event for the
run, one for each finding that is new, one for each finding of the last run that is gone)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlmodel import col, select

from publisher import audit
from publisher.auth.identity import SERVICE_ACCOUNT
from publisher.inspection.content import Lists, Live, delivered, recheck
from publisher.inspection.fetch import Fetcher, LinkCache
from publisher.inspection.findings import Finding, Report, score
from publisher.inspection.freshness import column_findings
from publisher.inspection.settings import InspectionSettings, load_inspection
from publisher.inspection.website import article_path, inspect_website
from publisher.inspection.wechat import inspect_wechat
from publisher.newsroom import Newsroom
from publisher.review.checks import load_secrecy, load_terms
from publisher.review.leaders import load_leaders
from publisher.store.engine import read_session, write_session
from publisher.store.tables import Article, Revision


def runs_dir(room: Newsroom) -> Path:
    return room.var_dir / "inspection" / "runs"


def load_settings(room: Newsroom) -> tuple[InspectionSettings, Lists]:
    review_dir = room.root / room.settings.paths.review
    settings = load_inspection(review_dir, room.root)
    lists = Lists(
        secrecy=load_secrecy(review_dir, room.root),
        terms=load_terms(review_dir, room.root),
        leaders=load_leaders(review_dir, room.root),
    )
    return settings, lists


def inspect(
    room: Newsroom,
    *,
    live_url: str | None = None,
    now: datetime | None = None,
    mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    actor: str = SERVICE_ACCOUNT,
    record: bool = True,
) -> Report:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    settings, lists = load_settings(room)
    fetcher = Fetcher(settings.links, mounts)
    cache = LinkCache(room.var_dir / "inspection" / "links.json", settings.links.cache_hours, now)
    findings: list[Finding] = []
    checked = {"pages": 0, "links": 0, "live": 0}
    sites = [c for c in room.channels.channels.values() if c.kind == "website" and c.enabled]
    followers = {c.name for c in room.channels.channels.values() if c.kind == "feed"}
    with read_session(room.engine) as session:
        live: list[Live] = []
        for channel in sites:
            result = inspect_website(
                room, channel, settings, session, live_url=live_url, fetcher=fetcher, cache=cache
            )
            findings += result.findings
            checked["pages"] += len(result.pages)
            checked["links"] += result.links
            shown = dict(result.shown)
            # A release from before manifests named their revisions: the article's current one.
            untold = [
                p.removeprefix("articles/").removesuffix(".html")
                for p in result.pages
                if p.startswith("articles/")
                and p.removeprefix("articles/").removesuffix(".html") not in shown
            ]
            if untold:
                for slug, rid in session.exec(
                    select(Article.slug, Article.current_revision_id).where(col(Article.slug).in_(untold))
                ):
                    if rid is not None:
                        shown[slug] = rid
            live += [Live(channel.name, slug, rid, article_path(slug)) for slug, rid in sorted(shown.items())]
            latest: dict[str, datetime] = {}
            if shown:
                for column, dated in session.exec(
                    select(Revision.column, Revision.dated_at).where(
                        col(Revision.id).in_(list(shown.values()))
                    )
                ):
                    if column not in latest or dated > latest[column]:
                        latest[column] = dated
            findings += column_findings(room.settings, settings, latest, channel.name, now)
        for channel in room.channels.channels.values():
            if channel.kind == "wechat" and channel.enabled:
                findings += inspect_wechat(room, channel, settings, session, now)
        site_names = {c.name for c in sites} | followers
        live += [item for item in delivered(session) if item.channel not in site_names]
        checked["live"] = len(live)
        findings += recheck(session, live, lists, settings)
    cache.save()
    report = score(findings, settings, now)
    report.checked = checked
    if record:
        _record(room, report, actor)
    return report


def _previous(room: Newsroom) -> dict[str, object] | None:
    folder = runs_dir(room)
    if not folder.is_dir():
        return None
    runs = sorted(folder.glob("*.json"))
    if not runs:
        return None
    data: dict[str, object] = json.loads(runs[-1].read_text(encoding="utf-8"))
    return data


def history(room: Newsroom) -> list[dict[str, object]]:
    """Every run kept, oldest first: (time, score, vetoes, findings) for the trend chart."""
    folder = runs_dir(room)
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = json.loads(path.read_text(encoding="utf-8"))
        out.append(
            {
                "started_at": data["started_at"],
                "score": data["score"],
                "vetoes": data["vetoes"],
                "findings": len(data["findings"]),
            }
        )
    return out


def _record(room: Newsroom, report: Report, actor: str) -> None:
    previous = _previous(room)
    before: dict[str, dict[str, object]] = {}
    if previous is not None:
        for item in previous.get("findings", []):  # type: ignore[attr-defined]
            before[str(item["key"])] = item
    now_keys = {s.finding.key for s in report.findings}
    run_id = report.started_at.strftime("%Y%m%dT%H%M%S%f")
    entries = [
        audit.Entry(
            actor,
            "inspection.run",
            "inspection",
            run_id,
            details={
                "score": report.score,
                "vetoes": report.vetoes,
                "passed": report.passed,
                "findings": len(report.findings),
                "checked": report.checked,
            },
        )
    ]
    for scored in report.findings:
        if scored.finding.key in before:
            continue
        entries.append(
            audit.Entry(
                actor,
                "inspection.finding",
                "inspection_finding",
                scored.finding.key,
                details={**scored.as_dict(), "run": run_id},
            )
        )
    for key, item in before.items():
        if key not in now_keys:
            # The next run closes what was fixed by itself.
            entries.append(
                audit.Entry(
                    actor,
                    "inspection.fixed",
                    "inspection_finding",
                    key,
                    details={"rule": item.get("rule"), "location": item.get("location"), "run": run_id},
                )
            )
    with write_session(room.engine) as session:
        audit.append_many(session, entries)
    folder = runs_dir(room)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{run_id}.json").write_text(
        json.dumps(report.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
    )
