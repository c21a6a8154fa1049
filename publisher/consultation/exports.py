"""Exports for the legislative committee: every comment by clause, as XLSX (openpyxl) or CSV.

Two scopes. PUBLIC (the default) may leave the office: hidden comments are left out, no names, no
contacts, and identity and mobile numbers in the text are masked. INTERNAL carries names and
contacts for the handling staff; it needs Act.CONSULT and is audited with its count. Both are
audited (`consultation.exported`): who took which comments out, and in which form.

Citizen text never becomes a formula: a cell that starts with = + - @ is written as text (XLSX)
or behind an apostrophe (CSV), so opening an export cannot run what a commenter typed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from publisher import audit
from publisher.auth.identity import Identity
from publisher.auth.permissions import Act, require
from publisher.consultation.clauses import Clause, clause_label, clauses
from publisher.consultation.overdue import counts
from publisher.consultation.queries import contacts_of, get_consultation, group_sizes
from publisher.consultation.states import CommenterType, Disposition
from publisher.review.personal import masked_text
from publisher.store.engine import write_session
from publisher.store.tables import ConsultationComment
from publisher.timeutil import local


class Scope(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class Format(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"

    @property
    def media_type(self) -> str:
        if self is Format.XLSX:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return "text/csv; charset=utf-8"


COLUMNS = (
    "受理编号",
    "收到时间",
    "意见人类型",
    "条款",
    "意见内容",
    "同组条数",
    "办理结果",
    "理由",
    "承办委员会",
    "答复",
)
INTERNAL_COLUMNS = ("姓名", "联系方式类型", "联系方式", "公开摘录")


@dataclass(frozen=True, slots=True)
class Export:
    filename: str
    media_type: str
    data: bytes
    rows: int


def _label(enum: type[CommenterType] | type[Disposition], value: str | None) -> str:
    if value is None:
        return ""
    try:
        return enum(value).label
    except ValueError:
        return value


def _order(consultation_clauses: list[Clause]) -> dict[str | None, int]:
    order: dict[str | None, int] = {c.key: i for i, c in enumerate(consultation_clauses)}
    order[None] = len(order)  # the draft as a whole after its clauses
    return order


def table(session: Session, slug: str, scope: Scope, tz: ZoneInfo) -> list[list[str | int]]:
    """The export's rows (header first), by clause in the draft's order, then as received."""
    consultation = get_consultation(session, slug)
    known = clauses(consultation)
    order = _order(known)
    found = list(
        session.exec(
            select(ConsultationComment)
            .where(ConsultationComment.slug == slug)
            .order_by(col(ConsultationComment.received_at), col(ConsultationComment.id))
        )
    )
    if scope is Scope.PUBLIC:
        found = [c for c in found if counts(c)]
    found.sort(key=lambda c: order.get(c.clause, len(order)))
    sizes = group_sizes(session, slug)
    contacts = (
        contacts_of(session, [c.id for c in found if c.id is not None]) if scope is Scope.INTERNAL else {}
    )
    header: list[str | int] = [*COLUMNS, *(INTERNAL_COLUMNS if scope is Scope.INTERNAL else ())]
    rows: list[list[str | int]] = [header]
    for c in found:
        text = c.body if scope is Scope.INTERNAL else masked_text(c.body)
        answer = c.answer or ""
        row: list[str | int] = [
            c.receipt,
            local(c.received_at, tz).strftime("%Y-%m-%d %H:%M"),
            _label(CommenterType, c.commenter_type),
            clause_label(known, c.clause),
            text,
            sizes.get(c.group_id, 1) if c.group_id is not None else 1,
            _label(Disposition, c.disposition),
            c.reason or "",
            c.committee or "",
            answer if scope is Scope.INTERNAL else masked_text(answer),
        ]
        if scope is Scope.INTERNAL:
            contact = contacts.get(c.id) if c.id is not None else None
            row += [
                c.name or "",
                contact.kind if contact else "",
                contact.value if contact else "",
                c.moderation,
            ]
        rows.append(row)
    return rows


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv(rows: list[list[str | int]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v for v in row])
    # With a BOM, Excel opens the UTF-8 file as UTF-8 (Chinese text intact).
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx(rows: list[list[str | int]], title: str) -> bytes:
    # Write-only: rows stream into the file instead of a grid of cell objects (a big consultation
    # exports in a fraction of the memory and time).
    book = Workbook(write_only=True)
    sheet = book.create_sheet("意见汇总")
    widths = {"A": 14, "B": 17, "C": 14, "D": 12, "E": 60, "F": 9, "G": 10, "H": 40, "I": 18, "J": 40}
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate(rows):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            if r == 0:
                cell.font = bold
            elif isinstance(value, str) and len(value) > 30:
                cell.alignment = wrap
            cells.append(cell)
        sheet.append(cells)
    book.properties.title = title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export(
    engine: Engine,
    actor: Identity,
    slug: str,
    scope: Scope,
    fmt: Format,
    tz: ZoneInfo,
    now: datetime,
) -> Export:
    """The file's bytes, read and audited in one transaction."""
    require(actor, Act.CONSULT)
    with write_session(engine) as session:
        title = get_consultation(session, slug).title
        rows = table(session, slug, scope, tz)
        audit.append(
            session,
            actor=actor.username,
            action="consultation.exported",
            object_type="consultation",
            object_id=slug,
            details={"scope": scope.value, "format": fmt.value, "comments": len(rows) - 1},
        )
    data = _xlsx(rows, f"{title} 意见汇总") if fmt is Format.XLSX else _csv(rows)
    stamp = local(now, tz).strftime("%Y%m%d")
    suffix = "-internal" if scope is Scope.INTERNAL else ""
    return Export(f"{slug}-comments-{stamp}{suffix}.{fmt.value}", fmt.media_type, data, len(rows) - 1)
