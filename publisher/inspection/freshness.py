"""Freshness (更新): the homepage, each column by its class in publisher.toml (动态/要闻 "news",
通知公告/政策文件 "notice", "other"), blank columns, with the checklist's veto counts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from publisher.config import NewsroomSettings
from publisher.inspection.findings import Finding
from publisher.inspection.settings import InspectionSettings


def column_findings(
    room_settings: NewsroomSettings,
    settings: InspectionSettings,
    latest: Mapping[str, datetime],  # column key -> the newest date the site shows in it
    channel: str,
    now: datetime,
) -> list[Finding]:
    fresh = settings.freshness
    findings: list[Finding] = []
    newest = max(latest.values(), default=None)
    if newest is None or now - newest > timedelta(days=fresh.homepage_days):
        findings.append(
            Finding(
                "freshness.homepage",
                "index.html",
                f"首页超过 {fresh.homepage_days} 天未更新 / the homepage has not been updated in "
                f"{fresh.homepage_days} days",
                f"最近 / newest: {newest.isoformat() if newest else '无 / none'}",
                channel=channel,
            )
        )
    limits = {"news": fresh.news_days, "notice": fresh.notice_days}
    stale: list[str] = []
    blank: list[str] = []
    for column in room_settings.columns:
        where = f"columns/{column.key}/"
        last = latest.get(column.key)
        if last is None:
            blank.append(column.key)
            findings.append(
                Finding(
                    "freshness.blank-column",
                    where,
                    f"空白栏目「{column.name}」 / a blank column",
                    column.key,
                    channel=channel,
                )
            )
            continue
        days = limits.get(column.category)
        if days is not None and now - last > timedelta(days=days):
            stale.append(column.key)
            findings.append(
                Finding(
                    "freshness.column",
                    where,
                    f"栏目「{column.name}」超过 {days} 天未更新 / the column has not been updated in {days} days",
                    f"{column.key}: {last.isoformat()}",
                    channel=channel,
                )
            )
    if len(stale) >= fresh.stale_columns_veto or len(stale) + len(blank) >= fresh.unupdated_columns_veto:
        findings.append(
            Finding(
                "freshness.columns",
                "columns/",
                f"{len(stale)} 个栏目未按要求更新 / {len(stale)} columns are not updated as required",
                ", ".join(stale + blank),
                channel=channel,
            )
        )
    if len(blank) >= fresh.blank_columns_veto:
        findings.append(
            Finding(
                "freshness.blank-columns",
                "columns/",
                f"空白栏目 {len(blank)} 个 / {len(blank)} blank columns",
                ", ".join(blank),
                channel=channel,
            )
        )
    return findings
