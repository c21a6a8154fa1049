"""Build one issue of a printed bulletin: compile, typeset, write the PDF for the printer, record it.

    var/bulletins/gazette/2026-06.pdf    the issue, as the printer receives it
    var/bulletins/gazette/2026-06.json   what it holds: each article's revision and page, the hash

A build is an act with a name on it: the audit log records who built which issue, with the hash of
the file and of every revision in it (what was printed is derived from exactly those); the record
is written last, once the event is committed, so a build is finished when its record names its
hash. Building an unchanged, finished issue again writes nothing. A built issue that would change
(a correction approved since, an article added) is replaced only when asked, and the earlier file
and its record (a leader's sign-off with it) are kept beside it under its hash: a copy may
already be at the printer's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

from publisher import audit
from publisher.bulletin.body import set_body
from publisher.bulletin.compile import Compiled, compile_issue
from publisher.bulletin.definitions import PAGE_MM, Issue, issue_files, load_bulletins, load_issue
from publisher.bulletin.front import set_front
from publisher.bulletin.pages import MM, ArticleCopy, Front, Geometry, SectionCopy, Typeset
from publisher.bulletin.pdf import Metadata, write_pdf
from publisher.errors import ConfigError, Problem, PublisherError
from publisher.newsroom import Newsroom
from publisher.site.deploy import write_file
from publisher.store.engine import read_session, write_session
from publisher.timeutil import utc_now


class BulletinProblems(ConfigError):
    """The issue cannot be built as it stands: every reason, each naming its file, line and key."""


@dataclass(frozen=True, slots=True)
class Built:
    issue: Issue
    pdf: Path
    record: Path
    sha256: str
    pages: int
    starts: dict[str, int]  # slug -> folio
    unchanged: bool  # the same file was already there: nothing written
    kept: Path | None  # the earlier build, kept beside it when this one replaced it


def output_paths(room: Newsroom, issue: Issue) -> tuple[Path, Path]:
    folder = room.var_dir / "bulletins" / issue.bulletin.key
    return folder / f"{issue.key}.pdf", folder / f"{issue.key}.json"


@dataclass(frozen=True, slots=True)
class IssueState:
    """An issue as staff see it in a list: declared, and built or not."""

    issue: Issue
    path: Path  # the issue file
    pdf: Path | None  # the built file, when there is one
    record: dict[str, Any] | None  # what its finished build recorded (who, when, hash, pages)


def issue_states(room: Newsroom) -> tuple[list[IssueState], list[Problem]]:
    """Every declared issue, newest file last per bulletin, with its build; and the files' problems."""
    folder = room.root / room.settings.paths.bulletins
    bulletins, problems = load_bulletins(folder, room.root)
    states: list[IssueState] = []
    for bulletin in bulletins.values():
        for path in issue_files(folder, bulletin):
            issue = load_issue(path, room.root, bulletins)
            if isinstance(issue, list):
                problems += issue
                continue
            pdf, record = output_paths(room, issue)
            try:
                recorded: dict[str, Any] | None = json.loads(record.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                recorded = None
            states.append(IssueState(issue, path, pdf if pdf.is_file() else None, recorded))
    return states, problems


def find_issue(room: Newsroom, bulletin: str, key: str) -> IssueState | None:
    """A declared issue by its bulletin's name and its own (as a console address names it)."""
    states, _ = issue_states(room)
    return next((s for s in states if s.issue.bulletin.key == bulletin and s.issue.key == key), None)


def open_issue(room: Newsroom, path: Path) -> Issue:
    """The issue a command names: a relative path is taken from the current folder when it names a
    file of this newsroom there (a command run inside bulletins/gazette/), else from the newsroom."""
    if not path.is_absolute():
        here = (Path.cwd() / path).resolve()
        path = here if here.is_file() and here.is_relative_to(room.root) else room.root / path
    bulletins, problems = load_bulletins(room.root / room.settings.paths.bulletins, room.root)
    loaded = load_issue(path, room.root, bulletins)
    if isinstance(loaded, list):
        raise BulletinProblems(problems + loaded)
    return loaded


def compile_for_print(room: Newsroom, issue: Issue, at: datetime | None = None) -> Compiled:
    with read_session(room.engine) as session:
        compiled = compile_issue(room, session, issue, at or utc_now())
    if isinstance(compiled, list):
        raise BulletinProblems(compiled)
    return compiled


def front_of(room: Newsroom, issue: Issue) -> Front:
    bulletin = issue.bulletin.settings
    day = issue.settings.date
    date = f"{day.year}年{day.month}月{day.day}日"
    number = issue.settings.number + (f"（总第{issue.settings.serial}期）" if issue.settings.serial else "")
    colophon = [f"编印：{bulletin.publisher}", f"出版日期：{date}"]
    if bulletin.permit:
        colophon += [f"准印证号：{bulletin.permit}", "内部资料　免费交流"]
    return Front(
        bulletin.title, bulletin.short_title, number, date, tuple(colophon), bulletin.masthead_colour
    )


def set_issue(sections: Sequence[SectionCopy], geometry: Geometry, front: Front) -> Typeset:
    """Body first: the contents on the cover give the folios the body pages ended up with."""
    body, starts = set_body(sections, geometry, front)
    return Typeset(set_front(sections, starts, geometry, front), body, starts)


def typeset_issue(room: Newsroom, compiled: Compiled) -> Typeset:
    issue = compiled.issue
    sections = [
        SectionCopy(
            section.title,
            tuple(
                ArticleCopy(a.slug, a.revision.title, a.byline, a.blocks, a.pictures)
                for a in compiled.articles
                if a.section == section.title and a.slug in section.articles
            ),
        )
        for section in issue.settings.sections
    ]
    return set_issue(sections, Geometry.of(PAGE_MM[issue.bulletin.settings.page]), front_of(room, issue))


def render(room: Newsroom, compiled: Compiled) -> tuple[bytes, Typeset]:
    issue = compiled.issue
    laid = typeset_issue(room, compiled)
    w, h = PAGE_MM[issue.bulletin.settings.page]
    created = datetime.combine(issue.settings.date, time(9), tzinfo=room.settings.tz)
    meta = Metadata(
        title=f"{issue.bulletin.settings.title} {issue.settings.number}",
        author=issue.bulletin.settings.publisher,
        subject=issue.bulletin.settings.short_title,
        created=created,
    )
    return write_pdf(laid.pages, (w * MM, h * MM), meta), laid


def record_act(
    room: Newsroom, issue: Issue, actor: str, action: str, details: dict[str, Any]
) -> tuple[int, datetime]:
    """An act on an issue (built, signed off) into the audit chain, committed; its seq and time."""
    with write_session(room.engine) as session:
        event = audit.append(
            session,
            actor=actor,
            action=action,
            object_type="bulletin_issue",
            object_id=f"{issue.bulletin.key}/{issue.key}",
            details=details,
        )
        session.flush()
        return event.seq, event.at


def _recorded(record: Path) -> str | None:
    """The hash the record of a finished build names (None: no finished build)."""
    try:
        found = json.loads(record.read_text(encoding="utf-8")).get("sha256")
    except (OSError, ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def build_issue(room: Newsroom, path: Path, actor: str, *, replace: bool = False) -> Built:
    issue = open_issue(room, path)
    compiled = compile_for_print(room, issue)
    data, laid = render(room, compiled)
    digest = hashlib.sha256(data).hexdigest()
    pdf, record = output_paths(room, issue)
    before = hashlib.sha256(pdf.read_bytes()).hexdigest() if pdf.is_file() else None
    if before == digest and _recorded(record) == digest:
        return Built(issue, pdf, record, digest, len(laid.pages), laid.starts, True, None)
    if before not in (None, digest) and not replace:
        raise PublisherError(
            f"{pdf.relative_to(room.root)} 已按另一内容编印（{str(before)[:12]}），本次内容不同（{digest[:12]}）；"
            "确认要换版请加 --replace，原文件将保留在旁 / this issue was built before with other "
            "content; pass --replace to build the new edition (the earlier file is kept beside it)"
        )
    kept: Path | None = None
    if before not in (None, digest):
        kept = pdf.with_name(f"{issue.key}.{str(before)[:12]}.pdf")
        pdf.replace(kept)
        if record.is_file():
            record.replace(kept.with_suffix(".json"))
    articles = [
        {
            "slug": a.slug,
            "title": a.revision.title,
            "revision_id": a.revision.id,
            "section": a.section,
            "page": laid.starts[a.slug],
        }
        for a in compiled.articles
    ]
    details = {
        "bulletin": issue.bulletin.key,
        "issue": issue.key,
        "number": issue.settings.number,
        "date": issue.settings.date.isoformat(),
        "sha256": digest,
        "pages": len(laid.pages),
        "articles": articles,
    }
    # The file first, then its audit event, then the record: a build is finished when its record
    # names its hash, and the record is written only once the event is committed. A build cut short
    # anywhere before leaves no record, and the next one finishes it (the same bytes again).
    if before != digest:
        write_file(pdf, data)
    seq, at = record_act(room, issue, actor, "bulletin.build", details)
    write_file(
        record,
        json.dumps(
            {**details, "built_by": actor, "built_at": at.isoformat(), "audit_seq": seq},
            ensure_ascii=False,
            indent=2,
        ).encode("utf-8"),
    )
    return Built(issue, pdf, record, digest, len(laid.pages), laid.starts, False, kept)
