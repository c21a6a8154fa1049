"""Importing comments gathered offline (at 基层立法联系点, by letter or e-mail) from a spreadsheet.

The same fields as the web form plus the date received; the same checks, screening and grouping.
Every bad row is reported at once with its row number and column, and nothing is stored unless
every row is good. A row already imported (same consultation, date and text from the same contact)
is skipped, so importing a corrected file twice stores each comment once.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlmodel import select

from publisher.audit import Entry, append_many
from publisher.auth.identity import Identity
from publisher.consultation import grouping
from publisher.consultation.intake import CommentIn, Intake, Prepared, Refused, problems
from publisher.consultation.states import Source
from publisher.errors import PublisherError
from publisher.store.engine import write_session
from publisher.store.tables import ConsultationComment

# Column -> its accepted headings (Chinese as offices write them, or the field name).
COLUMNS: dict[str, tuple[str, ...]] = {
    "received": ("收到日期", "收到时间", "received", "received_at"),
    "clause": ("条款", "clause"),
    "commenter_type": ("身份类别", "commenter_type"),
    "name": ("姓名", "姓名或单位", "name"),
    "contact": ("联系方式", "联系电话或邮箱", "contact"),
    "body": ("意见内容", "意见", "body"),
}
REQUIRED = ("received", "contact", "body")
LABELS = {key: names[0] for key, names in COLUMNS.items()}


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # the spreadsheet's own row number (the heading is row 1)
    column: str
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行「{self.column}」列 / row {self.row}, column {self.column}: {self.message}"


class ImportRefused(PublisherError):
    def __init__(self, found: list[RowProblem]) -> None:
        self.problems = found
        super().__init__("\n".join(str(p) for p in found))


@dataclass
class ImportResult:
    stored: list[str] = field(default_factory=list)  # receipts
    skipped: int = 0  # rows imported before


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(row number, heading -> text) for every non-empty row of a .csv (UTF-8, with or without
    BOM) or .xlsx file (first sheet)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            table = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        elif suffix == ".xlsx":
            from openpyxl import load_workbook

            book = load_workbook(path, read_only=True, data_only=True)
            sheet = book.worksheets[0]
            table = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            book.close()
        else:
            raise PublisherError(
                f"只能导入 .csv 或 .xlsx 文件 / import a .csv or .xlsx file, not {path.name}"
            )
    except UnicodeDecodeError:
        raise PublisherError(f"{path.name} 不是 UTF-8 编码的 CSV / {path.name} is not UTF-8 CSV") from None
    except OSError as exc:
        raise PublisherError(f"无法读取 {path} / cannot read {path}: {exc.strerror or exc}") from None
    except (KeyError, ValueError) as exc:  # openpyxl on a file that is not a workbook
        raise PublisherError(
            f"{path.name} 不是有效的 XLSX 工作簿 / not a valid XLSX workbook: {exc}"
        ) from None
    if not table:
        raise PublisherError(f"{path.name} 是空的 / {path.name} is empty")
    headings = [h.strip() for h in table[0]]
    rows = []
    for n, cells in enumerate(table[1:], 2):
        if any(c.strip() for c in cells):
            rows.append(
                (n, {h: (cells[i] if i < len(cells) else "").strip() for i, h in enumerate(headings)})
            )
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _columns(headings: set[str]) -> tuple[dict[str, str], list[RowProblem]]:
    found: dict[str, str] = {}
    for key, names in COLUMNS.items():
        name = next((n for n in names if n in headings), None)
        if name is not None:
            found[key] = name
    missing = [
        RowProblem(1, LABELS[k], "缺少这一列 / the column is missing") for k in REQUIRED if k not in found
    ]
    return found, missing


def import_comments(intake: Intake, slug: str, path: Path, actor: Identity, now: datetime) -> ImportResult:
    row_data = intake.consultation(slug)
    rows = read_rows(path)
    headings = set(rows[0][1]) if rows else set()
    columns, found = _columns(headings)
    if found:
        raise ImportRefused(found)
    tz = intake.room.settings.tz
    good: list[tuple[Prepared, datetime]] = []
    for number, cells in rows:
        get = {key: cells.get(name, "") for key, name in columns.items()}
        received = _received(get["received"], tz)
        if received is None:
            found.append(
                RowProblem(number, columns["received"], "应为日期 YYYY-MM-DD / should be a date YYYY-MM-DD")
            )
        elif received < row_data.opens_at or received > now:
            found.append(
                RowProblem(
                    number,
                    columns["received"],
                    "收到日期不在征求意见开始之后、今天之前 / the date is before the consultation opened or in the future",
                )
            )
        comment = CommentIn(
            slug=slug,
            body=get["body"],
            contact=get["contact"],
            commenter_type=get.get("commenter_type") or "individual",
            clause=get.get("clause") or None,
            name=get.get("name") or None,
        )
        prepared, bad = problems(comment, row_data, intake.settings, need_consent=False)
        found += [
            RowProblem(number, columns.get(p.field, LABELS.get(p.field, p.field)), p.message) for p in bad
        ]
        if prepared is not None and received is not None:
            key = (
                "i-"
                + hashlib.sha256(
                    f"{slug}\0{received.date()}\0{prepared.contact.hash}\0{grouping.fingerprint(prepared.body)}".encode()
                ).hexdigest()[:60]
            )
            good.append((replace(prepared, comment=replace(comment, submission_key=key)), received))
    if found:
        raise ImportRefused(found)
    return _store(intake, slug, good, actor, now)


def _received(text: str, tz: Any) -> datetime | None:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(12), tz)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _store(
    intake: Intake, slug: str, good: list[tuple[Prepared, datetime]], actor: Identity, now: datetime
) -> ImportResult:
    result = ImportResult()
    keys = [p.comment.submission_key for p, _ in good]
    try:
        _insert_all(intake, slug, good, actor, now, keys, result)
    except BaseException:
        intake.index.forget(slug)  # it learnt rows that were rolled back
        raise
    return result


def _insert_all(
    intake: Intake,
    slug: str,
    good: list[tuple[Prepared, datetime]],
    actor: Identity,
    now: datetime,
    keys: list[str | None],
    result: ImportResult,
) -> None:
    with write_session(intake.room.engine) as session:
        known = set(
            session.exec(
                select(ConsultationComment.submission_key).where(ConsultationComment.submission_key.in_(keys))  # type: ignore[union-attr]
            ).all()
        )
        intake.refresh_index(session, slug)
        for prepared, received in good:
            if prepared.comment.submission_key in known:
                result.skipped += 1
                continue
            known.add(prepared.comment.submission_key)
            row = intake.insert(
                session, intake.ready(prepared), Source.IMPORTED, received, now, None, actor.username
            )
            result.stored.append(row.receipt)
        append_many(
            session,
            [
                Entry(
                    actor.username,
                    "consultation.imported",
                    "consultation",
                    slug,
                    details={"rows": len(good), "stored": len(result.stored), "skipped": result.skipped},
                )
            ],
        )


__all__ = ["ImportRefused", "ImportResult", "Refused", "RowProblem", "import_comments", "read_rows"]
