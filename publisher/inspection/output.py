"""The report in the forms people read it: JSON, CSV, and an HTML file with a trend chart across
runs (inline SVG, no script, so it opens anywhere and can be mailed)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from html import escape
from zoneinfo import ZoneInfo

from publisher.inspection.findings import Report

SEVERITY_LABELS = {"veto": "单项否决", "high": "严重", "medium": "一般", "low": "轻微"}
CSV_FIELDS = (
    "severity",
    "rule",
    "channel",
    "location",
    "line",
    "message",
    "evidence",
    "deduct",
    "due",
    "key",
)


# What `Report.checked` counts, as staff read it.
CHECKED_LABELS = {
    "pages": "页面 / pages",
    "links": "链接 / links",
    "live": "在线稿件 / live items",
    "accepted": "已接受不计 / accepted, not counted",
}


def checked_summary(report: Report) -> str:
    return "，".join(f"{CHECKED_LABELS.get(k, k)} {v}" for k, v in report.checked.items())


def to_json(report: Report) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2)


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for scored in report.findings:
        writer.writerow(scored.as_dict())
    return out.getvalue()


def _trend(runs: Sequence[dict[str, object]]) -> str:
    if len(runs) < 2:  # one dot is no trend: say when there will be one
        return "<p>这是第一次检查；再检查一次后，这里显示历次得分的走势。</p>"
    width, height, pad = 600, 160, 24
    step = (width - 2 * pad) / max(1, len(runs) - 1)
    points = []
    for n, run in enumerate(runs):
        x = pad + n * step
        y = pad + (height - 2 * pad) * (1 - float(str(run["score"])) / 100)
        points.append((x, y, run))
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(str(r["started_at"]))}：{r["score"]} 分</title></circle>'
        for x, y, r in points
    )
    return (
        f'<svg role="img" aria-label="历次得分趋势" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        f'<line x1="{pad}" y1="{pad + (height - 2 * pad) * 0.4:.1f}" x2="{width - pad}" '
        f'y2="{pad + (height - 2 * pad) * 0.4:.1f}" stroke="#c00" stroke-dasharray="4"/>'
        f'<polyline fill="none" stroke="#b31b1b" stroke-width="2" points="{line}"/>{dots}</svg>'
    )


def to_html(report: Report, runs: Sequence[dict[str, object]], tz: ZoneInfo, title: str) -> str:
    when = report.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    verdict = "合格" if report.passed else "不合格"
    as_of = (
        f"；评判时间 {report.as_of.astimezone(tz):%Y-%m-%d %H:%M}"
        "（review/inspection.toml 的 as_of：固定时间的演示或培训新闻室）"
        if report.as_of
        else ""
    )
    rows = "".join(
        "<tr>"
        f"<td>{SEVERITY_LABELS[s.severity.value]}</td><td>{escape(s.finding.rule)}</td>"
        f"<td>{escape(s.finding.channel)}</td><td>{escape(s.finding.location)}"
        f"{'' if s.finding.line is None else f'（第 {s.finding.line} 行）'}</td>"
        f"<td>{escape(s.finding.message)}</td><td>{escape(s.finding.evidence)}</td>"
        f"<td>{s.deduct:g}</td><td>{s.due.astimezone(tz):%Y-%m-%d}</td>"
        "</tr>"
        for s in report.findings
    )
    table = _table(rows)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>{escape(title)} 检查报告 {when}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}}.fail{{color:#b31b1b}}</style>
</head>
<body>
<h1>{escape(title)} 定期清查报告</h1>
<p>检查时间：{when}（{escape(str(tz))}）{as_of}</p>
<p class="{"pass" if report.passed else "fail"}"><strong>得分 {report.score:g} 分，单项否决 {report.vetoes} 项：{verdict}</strong></p>
<p>检查范围：{escape(checked_summary(report))}</p>
<h2>历次得分</h2>
{_trend(runs)}
<h2>问题清单（{len(report.findings)} 项）</h2>
{table if report.findings else "<p>未发现问题。</p>"}
</body>
</html>
"""


def _table(rows: str) -> str:
    return f"""<table>
<thead><tr><th scope="col">等级</th><th scope="col">规则</th><th scope="col">渠道</th><th scope="col">位置</th><th scope="col">问题</th><th scope="col">证据</th><th scope="col">扣分</th><th scope="col">整改期限</th></tr></thead>
<tbody>{rows}</tbody>
</table>"""
