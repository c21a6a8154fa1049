"""供稿: the monthly supply report (supply/report.py, as `publisher report supply` prints it) with a
server-rendered SVG chart of adoption per partner and column, and its CSV."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from publisher.auth.permissions import Act
from publisher.auth.sessions import LiveSession
from publisher.console.web import page, permitted, room_of, staff
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.supply.report import ALL, ReportRow, SupplyReport, supply_report
from publisher.timeutil import local, utc_now

router = APIRouter()

BAR_HEIGHT = 18
LABEL_WIDTH = 260
CHART_WIDTH = 420  # the longest bar (the most supplied row)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    y: int
    supplied_width: int
    adopted_width: int
    text: str


def chart(report: SupplyReport) -> tuple[list[Bar], int]:
    """One bar per partner and column: supplied as the light bar, adopted as the dark one over it."""
    rows = [r for r in report.rows if r.column != ALL]
    most = max((r.supplied for r in rows), default=0) or 1
    bars = []
    for i, r in enumerate(rows):
        rate = "—" if r.rate is None else f"{r.rate:.0%}"
        bars.append(
            Bar(
                f"{r.outlet} · {r.column}",
                i * (BAR_HEIGHT + 6),
                round(CHART_WIDTH * r.supplied / most),
                round(CHART_WIDTH * r.adopted / most),
                f"{r.adopted}/{r.supplied} 采用 {rate}",
            )
        )
    return bars, max(1, len(bars)) * (BAR_HEIGHT + 6)


def _month(room: Newsroom, month: str | None) -> str:
    return month or local(utc_now(), room.settings.tz).strftime("%Y-%m")


def _report(room: Newsroom, month: str) -> SupplyReport:
    with read_session(room.engine) as session:
        return supply_report(session, room, month)


@router.get("/supply", response_class=HTMLResponse)
def supply(
    request: Request,
    live: Annotated[LiveSession, Depends(staff)],
    month: Annotated[str | None, Query()] = None,
) -> Response:
    permitted(live, Act.SUPPLY)
    room = room_of(request)
    report = _report(room, _month(room, month))
    bars, height = chart(report)
    return page(
        request,
        "supply/supply.html",
        report=report,
        bars=bars,
        height=height,
        label_width=LABEL_WIDTH,
        chart_width=CHART_WIDTH,
        bar_height=BAR_HEIGHT,
        all=ALL,
        rate=_rate,
    )


def _rate(row: ReportRow) -> str:
    return "—" if row.rate is None else f"{row.rate:.1%}"


@router.get("/supply.csv")
def supply_csv(
    request: Request,
    live: Annotated[LiveSession, Depends(staff)],
    month: Annotated[str | None, Query()] = None,
) -> Response:
    permitted(live, Act.SUPPLY)
    room = room_of(request)
    report = _report(room, _month(room, month))
    return Response(
        "\ufeff" + report.to_csv(),  # a BOM, so that Excel reads the Chinese names as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="supply-{report.month}.csv"'},
    )
