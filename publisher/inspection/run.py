"""One inspection run: every website's release and pages, everything live re-checked with today's
lists, freshness, the WeChat account; scored, kept for the trend (`inspection_run`), its findings
kept as tasks (`tasks.py`) and audited: one event for the run and one for each change of a task."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from publisher import audit
from publisher.auth.identity import SERVICE_ACCOUNT
from publisher.channels.kinds import FeedSettings, WebsiteSettings, WechatSettings
from publisher.inspection import output
from publisher.inspection.configured import load_settings
from publisher.inspection.consultations import inspect_consultations
from publisher.inspection.content import Live, delivered, recheck
from publisher.inspection.fetch import Fetcher, LinkCache
from publisher.inspection.findings import Finding, Report, score
from publisher.inspection.freshness import column_findings
from publisher.inspection.partners import inspect_partners
from publisher.inspection.tasks import accepted_keys, record_run
from publisher.inspection.uptime import probe, uptime_findings
from publisher.inspection.website import article_path, inspect_website
from publisher.inspection.wechat import inspect_wechat
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session, write_session
from publisher.store.tables import Article, InspectionRun, Revision, UptimeProbe


def inspect(
    room: Newsroom,
    *,
    live_url: str | None = None,
    now: datetime | None = None,
    mounts: Mapping[str, httpx.BaseTransport] | None = None,
    actor: str = SERVICE_ACCOUNT,
    record: bool = True,
    run_id: str | None = None,
    worker: str = "cli",
) -> Report:
    """Inspect everything live and score it; with `record`, the run and its findings are kept as
    tasks and audited. A scheduled run has claimed `run_id` already (`claim_run`).

    The rules judge at `now` (injected), else at the newsroom's recorded moment (inspection.toml
    `as_of`: the demo's story time), else at the clock; the run itself is kept at its real time."""
    settings, lists = load_settings(room)
    started = (now or datetime.now(UTC)).astimezone(UTC)
    now = (now or settings.as_of or started).astimezone(UTC)
    fetcher = Fetcher(settings.links, mounts)
    # Links answer for the real world, so their day-long cache runs on the run's own clock.
    cache = LinkCache(room.var_dir / "inspection" / "links.json", settings.links.cache_hours, started)
    findings: list[Finding] = []
    checked = {"pages": 0, "links": 0, "live": 0}
    # Each channel is inspected by what its settings model says it is: a website's release, a
    # WeChat account's posts; feeds follow their site, and the others are read from deliveries.
    channels = [c for c in room.channels.channels.values() if c.enabled]
    sites = [c for c in channels if isinstance(c.settings, WebsiteSettings)]
    followers = {c.name for c in room.channels.channels.values() if isinstance(c.settings, FeedSettings)}
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
            findings += uptime_findings(session, channel.name, settings.uptime, now)
        for channel in channels:
            if isinstance(channel.settings, WechatSettings):
                findings += inspect_wechat(room, channel, settings, session, now)
        findings += inspect_partners(session)
        findings += inspect_consultations(session, settings, now, room.settings.tz)
        site_names = {c.name for c in sites} | followers
        live += [item for item in delivered(session) if item.channel not in site_names]
        checked["live"] = len(live)
        findings += recheck(session, live, lists, settings)
    cache.save()
    with read_session(room.engine) as session:
        accepted = accepted_keys(session)
    kept = [f for f in findings if f.key not in accepted]
    report = score(kept, settings, now)
    report.checked = {**checked, "accepted": len(findings) - len(kept)}
    if now != started:
        report.started_at, report.as_of = started, now
    if record:
        if run_id is None:
            run_id = started.strftime("manual-%Y%m%dT%H%M%S%f")
            claim_run(room, run_id, worker, started)
        _record(room, report, actor, run_id)
    return report


def history(room: Newsroom) -> list[dict[str, object]]:
    """Every finished run, oldest first: (time, score, vetoes, findings) for the trend chart."""
    with read_session(room.engine) as session:
        runs = session.exec(
            select(InspectionRun)
            .where(col(InspectionRun.finished_at).is_not(None))
            .order_by(col(InspectionRun.started_at))
        ).all()
    return [
        {"started_at": r.started_at.isoformat(), "score": r.score, "vetoes": r.vetoes, "findings": r.findings}
        for r in runs
    ]


def claim_run(room: Newsroom, run_id: str, worker: str, now: datetime) -> bool:
    """Insert the run's row; False when another worker already holds this id (a scheduled slot)."""
    try:
        with write_session(room.engine) as session:
            session.add(InspectionRun(id=run_id, worker=worker, started_at=now))
    except IntegrityError:
        return False
    return True


def _record(room: Newsroom, report: Report, actor: str, run_id: str) -> None:
    with write_session(room.engine) as session:
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
            ),
            *record_run(session, report, run_id, actor, report.started_at),
        ]
        run = session.get(InspectionRun, run_id)
        if run is not None:
            run.finished_at = datetime.now(UTC)
            run.score, run.vetoes, run.passed, run.findings = (
                report.score,
                report.vetoes,
                report.passed,
                len(report.findings),
            )
            session.add(run)
        audit.append_many(session, entries)


def slot_id(slot: datetime, tz: ZoneInfo) -> str:
    return "scheduled-" + slot.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def perform_scheduled(
    room: Newsroom, slot: datetime, worker: str, live_url: str | None = None
) -> Report | None:
    """The inspection due at `slot`, by the first worker that claims it; None for the others."""
    run_id = slot_id(slot, room.settings.tz)
    if not claim_run(room, run_id, worker, datetime.now(UTC)):
        return None
    report = inspect(room, live_url=live_url, run_id=run_id, worker=worker)
    keep_latest(room, report)
    return report


def keep_latest(room: Newsroom, report: Report) -> Path:
    """Where staff find the latest report without a terminal: var/inspection/latest.{html,json}
    (the scheduled runs and `publisher inspect` alike); returns the HTML file."""
    folder = room.var_dir / "inspection"
    folder.mkdir(parents=True, exist_ok=True)
    page = output.to_html(report, history(room), room.settings.tz, room.settings.newsroom.name)
    (folder / "latest.html").write_text(page, encoding="utf-8")
    (folder / "latest.json").write_text(output.to_json(report), encoding="utf-8")
    return folder / "latest.html"


def probe_sites(
    room: Newsroom,
    *,
    live_url: str | None = None,
    now: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> list[UptimeProbe]:
    """One reachability probe of each website (its live URL, else its base_url) for this slot; a
    slot another worker recorded is skipped."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    settings, _ = load_settings(room)
    done = []
    for channel in room.channels.channels.values():
        if not isinstance(channel.settings, WebsiteSettings) or not channel.enabled:
            continue
        url = live_url or channel.settings.base_url
        row = probe(room, channel.name, url, settings.uptime, now, transport)
        if row is not None:
            done.append(row)
    return done
