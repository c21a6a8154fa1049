"""`publisher report supply --month YYYY-MM`: per partner, column and department, what was supplied,
what the partner adopted (采用), the adoption rate and the median delay from supply to adoption.

It reads the engine's own records: an article counts as supplied to a partner in the month of the
first delivery of it that was done; updates and kill notices are not new supplies.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from publisher.errors import PublisherError
from publisher.newsroom import Newsroom
from publisher.store.tables import Adoption, Delivery, Revision
from publisher.supply.service import partners

ALL = "（合计）"


@dataclass(frozen=True, slots=True)
class ReportRow:
    partner: str
    outlet: str
    column: str  # column name, or ALL on a partner's subtotal and the grand total
    department: str
    supplied: int
    adopted: int
    median_delay_hours: float | None

    @property
    def rate(self) -> float | None:
        return self.adopted / self.supplied if self.supplied else None

    def as_dict(self) -> dict[str, object]:
        return {
            "partner": self.partner,
            "outlet": self.outlet,
            "column": self.column,
            "department": self.department,
            "supplied": self.supplied,
            "adopted": self.adopted,
            "rate": self.rate,
            "median_delay_hours": self.median_delay_hours,
        }


@dataclass(frozen=True, slots=True)
class SupplyReport:
    month: str
    rows: list[ReportRow]  # detail rows, then each partner's subtotal, then the total

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "month",
                "partner",
                "outlet",
                "column",
                "department",
                "supplied",
                "adopted",
                "rate",
                "median_delay_hours",
            ]
        )
        for r in self.rows:
            writer.writerow(
                [
                    self.month,
                    r.partner,
                    r.outlet,
                    r.column,
                    r.department,
                    r.supplied,
                    r.adopted,
                    "" if r.rate is None else f"{r.rate:.4f}",
                    "" if r.median_delay_hours is None else f"{r.median_delay_hours:.2f}",
                ]
            )
        return out.getvalue()


def month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The month in the newsroom's timezone, as UTC instants [start, end)."""
    if not re.fullmatch(r"\d{4}-\d{2}", month) or not 1 <= int(month[5:]) <= 12:
        raise PublisherError(f"月份格式须为 YYYY-MM / month must be YYYY-MM, not {month!r}")
    year, number = int(month[:4]), int(month[5:])
    start = datetime.combine(datetime(year, number, 1).date(), time(0), tz)
    after = datetime(year + (number == 12), number % 12 + 1, 1).date()
    return start.astimezone(UTC), datetime.combine(after, time(0), tz).astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def supply_report(session: Session, room: Newsroom, month: str) -> SupplyReport:
    start, end = month_bounds(month, room.settings.tz)
    declared = partners(room)
    first: dict[tuple[str, int], tuple[datetime, str]] = {}  # (partner, article) -> (done_at, revision)
    for d in session.exec(
        select(Delivery).where(
            col(Delivery.channel).in_(list(declared)),
            col(Delivery.status) == "done",
            col(Delivery.action) == "publish",
        )
    ):
        if d.done_at is None or d.revision_id is None:
            continue
        key = (d.channel, d.article_id)
        done = _aware(d.done_at)
        if key not in first or done < first[key][0]:
            first[key] = (done, d.revision_id)
    chosen = {k: v for k, v in first.items() if start <= v[0] < end}
    revisions = {
        r.id: r
        for r in session.exec(
            select(Revision).where(col(Revision.id).in_({rev for _, rev in chosen.values()}))
        )
    }
    adoptions = {(a.partner, a.article_id): _aware(a.adopted_at) for a in session.exec(select(Adoption))}

    groups: dict[tuple[str, str, str], list[float | None]] = defaultdict(list)  # delays; None = not adopted
    for (name, article_id), (done, revision_id) in chosen.items():
        revision = revisions[revision_id]
        adopted = adoptions.get((name, article_id))
        delay = max(0.0, (adopted - done).total_seconds() / 3600) if adopted else None
        groups[(name, room.column_name(revision.column), revision.department)].append(delay)

    def row(name: str, column: str, department: str, delays: list[float | None]) -> ReportRow:
        adopted = [d for d in delays if d is not None]
        outlet = getattr(declared[name].settings, "outlet", name) if name in declared else name
        return ReportRow(
            name,
            outlet,
            column,
            department,
            len(delays),
            len(adopted),
            statistics.median(adopted) if adopted else None,
        )

    rows: list[ReportRow] = []
    everything: list[float | None] = []
    for name in sorted({k[0] for k in groups}):
        mine: list[float | None] = []
        for (p, column, department), delays in sorted(groups.items()):
            if p == name:
                rows.append(row(name, column, department, delays))
                mine.extend(delays)
        rows.append(row(name, ALL, ALL, mine))
        everything.extend(mine)
    rows.append(
        ReportRow(ALL, ALL, ALL, ALL, 0, 0, None) if not everything else row(ALL, ALL, ALL, everything)
    )
    return SupplyReport(month, rows)
