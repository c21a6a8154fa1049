"""Taking a citizen's comment: every rule of the consultation's intake in one place.

`Intake.submit` checks the comment (window, fields, consent, length, attachment), drops a bot's
honeypot answer, applies the rate limits, screens and groups the text, and stores comment, contact,
attachment and an audit event in one transaction before it answers with the receipt number.

Decisions:
- Honeypot: a filled honeypot field is answered exactly like a success (a receipt-shaped number)
  so a bot learns nothing, but nothing is stored and nothing audited (a bot must not be able to
  fill the audit log); a look-up of that number finds nothing.
- Idempotency: the client's submission key is unique in the table. Two requests with one key
  (a double click, a retry) race to insert; the loser's insert fails on the constraint and it
  answers with the winner's receipt. No read-then-write.
- Rate limits: per client address and per contact, in this process's memory (`publisher serve`
  is one process); a repeated submission key is answered with its receipt even when over limit.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from publisher.audit import Entry, append_batch, append_many
from publisher.config import ConsultationSettings
from publisher.consultation import attachments, grouping
from publisher.consultation.batching import GroupCommit
from publisher.consultation.ratelimit import SlidingWindow
from publisher.consultation.receipts import Contact, new_receipt, normal_receipt
from publisher.consultation.screening import Screener
from publisher.consultation.states import CommenterType, Disposition, Source
from publisher.errors import PublisherError
from publisher.newsroom import Newsroom
from publisher.review.checks import load_secrecy, load_terms
from publisher.review.personal import masked_text
from publisher.store.engine import read_session, write_session
from publisher.store.tables import (
    Consultation,
    ConsultationAttachment,
    ConsultationComment,
    ConsultationContact,
)

PUBLIC_ACTOR = "public:consultation"
COMMENT: Table = ConsultationComment.__table__  # type: ignore[attr-defined]
CONTACT: Table = ConsultationContact.__table__  # type: ignore[attr-defined]
ATTACHMENT: Table = ConsultationAttachment.__table__  # type: ignore[attr-defined]
# The model's own defaults (moderation "pending", …) for the columns a new comment leaves unset.
_COMMENT_DEFAULTS: dict[str, Any] = {
    name: info.default
    for name, info in ConsultationComment.model_fields.items()
    if name != "id" and not info.is_required()
}
CACHE_SECONDS = 5.0
MAX_NAME = 80
MAX_KEY = 64


class Phase(StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {Phase.UPCOMING: "尚未开始", Phase.OPEN: "正在征求意见", Phase.CLOSED: "已截止"}[self]


def phase(row: Consultation, now: datetime) -> Phase:
    if now < row.opens_at:
        return Phase.UPCOMING
    return Phase.OPEN if now < row.closes_at else Phase.CLOSED


class Refused(PublisherError):
    """A comment not taken, with the field at fault and the HTTP status the service answers."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class CommentIn:
    """A comment as the form (or an imported row) gives it: plain strings, checked by `problems`."""

    slug: str
    body: str
    contact: str
    commenter_type: str = CommenterType.INDIVIDUAL.value
    clause: str | None = None
    name: str | None = None
    consent: bool = False
    submission_key: str | None = None
    honeypot: str = ""
    attachment: Upload | None = None


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class Accepted:
    receipt: str
    received_at: datetime
    repeated: bool = False  # the submission key was seen before: the first one's receipt


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked comment, ready to store."""

    comment: CommentIn
    contact: Contact
    commenter_type: CommenterType
    clause: str | None
    name: str | None
    body: str
    media_type: str | None


def problems(
    comment: CommentIn, row: Consultation, settings: ConsultationSettings, *, need_consent: bool = True
) -> tuple[Prepared | None, list[FieldProblem]]:
    """Every problem of the comment's fields at once (the window is checked by the caller)."""
    found: list[FieldProblem] = []
    body = comment.body.strip()
    if not body:
        found.append(FieldProblem("body", "意见内容不能为空 / the comment is empty"))
    elif len(body) > settings.max_chars:
        found.append(
            FieldProblem(
                "body",
                f"意见内容过长：{len(body)} 字，最多 {settings.max_chars} 字 / too long "
                f"({len(body)} characters, at most {settings.max_chars})",
            )
        )
    contact = Contact.read(comment.contact or "")
    if contact is None:
        found.append(
            FieldProblem(
                "contact", "请填写有效的联系电话或电子邮箱 / give a valid phone number or e-mail address"
            )
        )
    try:
        kind = CommenterType(comment.commenter_type)
    except ValueError:
        by_label = {t.label: t for t in CommenterType}
        kind = by_label.get(comment.commenter_type.strip(), CommenterType.INDIVIDUAL)
        if comment.commenter_type.strip() not in by_label:
            labels = "、".join(t.label for t in CommenterType)
            found.append(
                FieldProblem(
                    "commenter_type", f"身份类别应为{labels}之一 / commenter type must be one of {labels}"
                )
            )
    name = (comment.name or "").strip() or None
    if name is None and row.name_required:
        found.append(
            FieldProblem("name", "本次征求意见须填写姓名或单位名称 / this consultation requires a name")
        )
    elif name is not None and len(name) > MAX_NAME:
        found.append(FieldProblem("name", f"姓名过长，最多 {MAX_NAME} 字 / the name is too long"))
    clause = (comment.clause or "").strip() or None
    if clause is not None:
        keys = {c["key"]: c["key"] for c in json.loads(row.clauses_json)}
        keys.update({c["label"]: c["key"] for c in json.loads(row.clauses_json)})
        if clause not in keys:
            found.append(
                FieldProblem("clause", f"草案没有这一条：{clause} / the draft has no clause {clause}")
            )
        else:
            clause = keys[clause]
    if need_consent and not comment.consent:
        found.append(
            FieldProblem(
                "consent",
                "请阅读并勾选同意个人信息处理说明 / tick the consent to the handling of personal data",
            )
        )
    if comment.submission_key is not None and len(comment.submission_key) > MAX_KEY:
        found.append(FieldProblem("submission_key", "提交编号过长 / the submission key is too long"))
    media_type = None
    if comment.attachment is not None:
        size = len(comment.attachment.data)
        if size > settings.max_attachment_bytes:
            found.append(
                FieldProblem(
                    "attachment",
                    f"附件过大：{size / 1048576:.1f} MB，最大 {settings.max_attachment_bytes / 1048576:.1f} MB / "
                    "the attachment is too large",
                )
            )
        else:
            media_type = attachments.sniff(comment.attachment.data)
            if media_type is None:
                found.append(
                    FieldProblem(
                        "attachment",
                        f"附件只能是 {attachments.ALLOWED_LABEL} 文件（按文件内容判断） / the attachment must be "
                        "a PDF, DOCX, JPEG or PNG file (judged by its content)",
                    )
                )
    if found or contact is None:
        return None, found
    return Prepared(comment, contact, kind, clause, name, body, media_type), []


@dataclass(frozen=True, slots=True)
class Ready:
    """A checked comment with what storing it needs, worked out before the transaction."""

    prepared: Prepared
    fingerprint: str
    sketch: tuple[int, ...]
    screening: str
    sha256: str | None  # of the attachment, already in the blob store


@dataclass(frozen=True, slots=True)
class Pending:
    """An online comment waiting for the writer."""

    ready: Ready
    now: datetime
    address_hash: str | None


@dataclass(frozen=True, slots=True)
class Lookup:
    receipt: str
    received_at: datetime
    disposition: str | None  # its label, once staff set it
    answer: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "receipt": self.receipt,
            "received_at": self.received_at.isoformat(),
            "disposition": self.disposition,
            "answer": self.answer,
        }


def _address_hash(address: str | None) -> str | None:
    return None if not address else hashlib.sha256(f"address\0{address}".encode()).hexdigest()


class Intake:
    """The comment service of one newsroom; one per process (it holds the limits and the index)."""

    def __init__(self, room: Newsroom) -> None:
        self.room = room
        self.settings = room.settings.consultation
        review_dir = room.root / room.settings.paths.review
        self.screener = Screener(load_secrecy(review_dir, room.root), load_terms(review_dir, room.root))
        self.index = grouping.GroupIndex()
        self.per_address = SlidingWindow(self.settings.per_address_per_hour, timedelta(hours=1))
        self.per_contact = SlidingWindow(self.settings.per_contact_per_day, timedelta(days=1))
        self._rows: dict[str, tuple[float, Consultation | None]] = {}
        self._counts: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.writer: GroupCommit[Pending, Accepted] = GroupCommit(self._store_batch, self._store_one)

    # -- reading --------------------------------------------------------------------------------
    def consultation(self, slug: str) -> Consultation:
        with self._lock:
            cached = self._rows.get(slug)
        if cached is None or time.monotonic() - cached[0] > CACHE_SECONDS:
            with read_session(self.room.engine) as session:
                row = session.get(Consultation, slug)
                if row is not None:
                    session.expunge(row)
            cached = (time.monotonic(), row)
            with self._lock:
                self._rows[slug] = cached
        if cached[1] is None:
            raise Refused("没有这项征求意见 / no such consultation", field="slug", status=404)
        return cached[1]

    def counts(self, slug: str, now: datetime) -> dict[str, Any]:
        """What the public page shows: the window, how many comments, and the feedback report."""
        row = self.consultation(slug)
        with self._lock:
            cached = self._counts.get(slug)
        if cached is not None and time.monotonic() - cached[0] < 2.0:
            data = cached[1]
        else:
            with read_session(self.room.engine) as session:
                by_clause = dict(
                    session.exec(
                        select(ConsultationComment.clause, func.count())
                        .where(ConsultationComment.slug == slug)
                        .group_by(ConsultationComment.clause)
                    ).all()
                )
            data = {
                "total": sum(by_clause.values()),
                "by_clause": {k or "": v for k, v in by_clause.items()},
            }
            with self._lock:
                self._counts[slug] = (time.monotonic(), data)
        published = row.feedback_slug if row.feedback_published_at is not None else None
        current = phase(row, now)
        return {
            "slug": slug,
            "phase": current.value,
            "phase_label": current.label,
            "opens_at": row.opens_at.isoformat(),
            "closes_at": row.closes_at.isoformat(),
            "feedback_url": f"/articles/{published}.html" if published else None,
            **data,
        }

    def lookup(self, receipt: str, contact: str) -> Lookup | None:
        """The disposition and answer of a comment, to the person who holds its receipt and
        contact; None for any mismatch (which one is not said)."""
        reader = Contact.read(contact)
        if reader is None:
            return None
        with read_session(self.room.engine) as session:
            found = session.exec(
                select(ConsultationComment)
                .join(ConsultationContact, ConsultationContact.comment_id == ConsultationComment.id)  # type: ignore[arg-type]
                .where(
                    ConsultationComment.receipt == normal_receipt(receipt),
                    ConsultationContact.contact_hash == reader.hash,
                )
            ).first()
        if found is None:
            return None
        label = Disposition(found.disposition).label if found.disposition else None
        answer = masked_text(found.answer) if found.answer else None
        return Lookup(found.receipt, found.received_at, label, answer)

    # -- taking a comment ------------------------------------------------------------------------
    def submit(self, comment: CommentIn, *, now: datetime, address: str | None = None) -> Accepted:
        taken = self.take(comment, now=now, address=address)
        return taken if isinstance(taken, Accepted) else taken.result()

    def take(
        self, comment: CommentIn, *, now: datetime, address: str | None = None
    ) -> Accepted | Future[Accepted]:
        """`submit` without the wait: the answer now (a bot, a repeat over the limit), or the
        writer's future, resolved once the comment is committed. Lets the web service await the
        commit on its event loop instead of parking a worker thread on it."""
        row = self.consultation(comment.slug)
        if comment.honeypot.strip():
            return Accepted(new_receipt(now, self.room.settings.tz), now)
        current = phase(row, now)
        if current is Phase.UPCOMING:
            raise Refused(
                f"征求意见尚未开始，开始时间：{row.opens_at.astimezone(self.room.settings.tz):%Y年%m月%d日 %H:%M} / "
                "the consultation has not opened yet",
                status=403,
            )
        if current is Phase.CLOSED:
            raise Refused(
                f"征求意见已于 {row.closes_at.astimezone(self.room.settings.tz):%Y年%m月%d日 %H:%M} 截止，"
                "不再接收意见 / the consultation has closed",
                status=403,
            )
        prepared, found = problems(comment, row, self.settings)
        if prepared is None:
            first = found[0]
            raise Refused("；".join(p.message for p in found), field=first.field, status=422)
        if comment.submission_key is None:
            # A page without its script sends no key: the same text from the same contact on the
            # same clause is then taken for the same submission (a double click of a plain form).
            derived = f"{comment.slug}\0{prepared.clause}\0{prepared.contact.hash}\0{grouping.fingerprint(prepared.body)}"
            key = "d-" + hashlib.sha256(derived.encode()).hexdigest()[:60]
            prepared = replace(prepared, comment=replace(comment, submission_key=key))
        address_hash = _address_hash(address)
        limited = (address_hash is not None and not self.per_address.allow(address_hash, now)) or (
            not self.per_contact.allow(prepared.contact.hash, now)
        )
        if limited:
            earlier = self._by_key(prepared.comment.submission_key)
            if earlier is not None:
                return earlier
            raise Refused("提交过于频繁，请稍后再试 / too many comments: please try again later", status=429)
        return self.writer.submit_future(Pending(self.ready(prepared), now, address_hash))

    def _by_key(self, key: str | None) -> Accepted | None:
        if not key:
            return None
        with read_session(self.room.engine) as session:
            found = session.exec(
                select(ConsultationComment.receipt, ConsultationComment.received_at).where(
                    ConsultationComment.submission_key == key
                )
            ).first()
        return None if found is None else Accepted(found[0], found[1], repeated=True)

    def refresh_index(self, session: Session, slug: str) -> None:
        """Take into the group index the comments stored since it last looked (any process's)."""
        last = self.index.last_id(slug)
        newer = session.exec(
            select(
                ConsultationComment.id,
                ConsultationComment.group_id,
                ConsultationComment.fingerprint,
                ConsultationComment.body,
            )
            .where(ConsultationComment.slug == slug, ConsultationComment.id > last)  # type: ignore[operator]
            .order_by(ConsultationComment.id)  # type: ignore[arg-type]
            .limit(grouping.CAPACITY)
        ).all()
        for cid, group, fp, body in newer:
            if cid is not None:
                self.index.add(slug, cid, group or cid, fp, grouping.sketch(body))

    def ready(self, prepared: Prepared) -> Ready:
        """The work a comment needs before it is stored, done in the request's own thread: its
        fingerprint, sketch and screening; the attachment's bytes into the blob store."""
        sha = None
        upload = prepared.comment.attachment
        if upload is not None:
            sha = hashlib.sha256(upload.data).hexdigest()
            # Content-addressed: written before the row that names it, harmless if the row fails.
            self.room.blobs.put(sha, upload.data)
        return Ready(
            prepared,
            grouping.fingerprint(prepared.body),
            grouping.sketch(prepared.body),
            self.screener.screening_json(prepared.body),
            sha,
        )

    def _row(
        self, ready: Ready, source: Source, received_at: datetime, now: datetime, address_hash: str | None
    ) -> ConsultationComment:
        return ConsultationComment(**self._values(ready, source, received_at, now, address_hash))

    def _values(
        self, ready: Ready, source: Source, received_at: datetime, now: datetime, address_hash: str | None
    ) -> dict[str, Any]:
        """A new comment's columns as a plain dict (the model's defaults for the rest): for a Core
        insert of a batch without building a model object per comment, or for `_row`."""
        prepared = ready.prepared
        return {
            **_COMMENT_DEFAULTS,
            "receipt": new_receipt(received_at, self.room.settings.tz),
            "slug": prepared.comment.slug,
            "clause": prepared.clause,
            "commenter_type": prepared.commenter_type.value,
            "name": prepared.name,
            "body": prepared.body,
            "fingerprint": ready.fingerprint,
            "group_id": self.index.group_of(prepared.comment.slug, ready.fingerprint, ready.sketch),
            "source": source.value,
            "submission_key": prepared.comment.submission_key or None,
            "address_hash": address_hash,
            "screening_json": ready.screening,
            "received_at": received_at,
            "updated_at": now,
        }

    @staticmethod
    def _belongings(comment_id: int, ready: Ready) -> list[ConsultationContact | ConsultationAttachment]:
        """The contact (kept apart from the text) and the attachment of a stored comment."""
        prepared = ready.prepared
        out: list[ConsultationContact | ConsultationAttachment] = [
            ConsultationContact(
                comment_id=comment_id,
                kind=prepared.contact.kind,
                value=prepared.contact.value,
                contact_hash=prepared.contact.hash,
            )
        ]
        upload = prepared.comment.attachment
        if upload is not None and ready.sha256 is not None and prepared.media_type is not None:
            out.append(
                ConsultationAttachment(
                    comment_id=comment_id,
                    filename=attachments.safe_filename(upload.filename),
                    media_type=prepared.media_type,
                    size=len(upload.data),
                    sha256=ready.sha256,
                )
            )
        return out

    @staticmethod
    def _received(actor: str, receipt: str, ready: Ready, source: Source, group: int) -> Entry:
        return Entry(
            actor,
            "consultation.comment_received",
            "consultation_comment",
            receipt,
            details={
                "slug": ready.prepared.comment.slug,
                "clause": ready.prepared.clause,
                "source": source.value,
                "group": group,
            },
        )

    def _store_batch(self, batch: Sequence[Pending]) -> list[Accepted]:
        """Many online comments in one transaction, in a fixed number of statements: one insert
        of every comment, one update of the groups they start, one insert of their contacts and
        attachments, one append to the audit chain. A submission key seen before (in the store or
        earlier in the batch) is answered with its receipt; against another process the unique
        constraint decides, by failing the batch (then each comment is written alone)."""
        slugs = sorted({p.ready.prepared.comment.slug for p in batch})
        answers: list[Accepted | None] = [None] * len(batch)
        first_of: dict[str, int] = {}  # submission key -> the batch position that stores it
        try:
            with write_session(self.room.engine) as session:
                keys = [k for p in batch if (k := p.ready.prepared.comment.submission_key)]
                for key, receipt, at in session.exec(
                    select(
                        ConsultationComment.submission_key,
                        ConsultationComment.receipt,
                        ConsultationComment.received_at,
                    ).where(ConsultationComment.submission_key.in_(keys))  # type: ignore[union-attr]
                ).all():
                    first_of[key or ""] = -1
                    for n, p in enumerate(batch):
                        if p.ready.prepared.comment.submission_key == key:
                            answers[n] = Accepted(receipt, at, repeated=True)
                for slug in slugs:
                    self.refresh_index(session, slug)
                # Which comments are new, and the group each joins: a stored group, or one that a
                # comment earlier in this batch starts (known by its position until it has an id).
                # Plain Core statements, not ORM rows: the unit of work's bookkeeping per row was
                # a large share of the CPU a comment costs (see bench/consultation.py).
                local = grouping.GroupIndex()
                rows: list[tuple[int, dict[str, Any], int | None]] = []
                for n, pending in enumerate(batch):
                    ready = pending.ready
                    key = ready.prepared.comment.submission_key
                    if answers[n] is not None or (key is not None and key in first_of):
                        continue
                    if key is not None:
                        first_of[key] = n
                    values = self._values(
                        ready, Source.ONLINE, pending.now, pending.now, pending.address_hash
                    )
                    founder = None
                    if values["group_id"] is None:
                        slug = ready.prepared.comment.slug
                        joined = local.group_of(slug, ready.fingerprint, ready.sketch)
                        founder = n if joined is None else -joined - 1
                        local.add(slug, -n - 1, -founder - 1, ready.fingerprint, ready.sketch)
                    rows.append((n, values, founder))
                ids: dict[int, int] = {}
                if rows:
                    # One INSERT … RETURNING for the batch, ids in the order of the rows.
                    inserted = session.execute(
                        insert(COMMENT).returning(COMMENT.c.id, sort_by_parameter_order=True),
                        [values for _, values, _ in rows],
                    ).all()
                    ids = {n: int(found[0]) for (n, _, _), found in zip(rows, inserted, strict=True)}
                updates: list[dict[str, Any]] = []
                contacts: list[dict[str, Any]] = []
                files: list[dict[str, Any]] = []
                entries: list[Entry] = []
                for n, values, founder in rows:
                    comment_id = ids[n]
                    group = values["group_id"]
                    if group is None:
                        group = ids[founder if founder is not None else n]
                        updates.append({"b_id": comment_id, "b_group": group})
                    ready = batch[n].ready
                    for belonging in self._belongings(comment_id, ready):
                        target = contacts if isinstance(belonging, ConsultationContact) else files
                        target.append(belonging.model_dump())
                    entries.append(
                        self._received(PUBLIC_ACTOR, values["receipt"], ready, Source.ONLINE, group)
                    )
                    self.index.add(
                        ready.prepared.comment.slug, comment_id, group, ready.fingerprint, ready.sketch
                    )
                    answers[n] = Accepted(values["receipt"], values["received_at"])
                if updates:
                    session.execute(
                        update(COMMENT)
                        .where(COMMENT.c.id == bindparam("b_id"))
                        .values(group_id=bindparam("b_group")),
                        updates,
                    )
                if contacts:
                    session.execute(insert(CONTACT), contacts)
                if files:
                    session.execute(insert(ATTACHMENT), files)
                append_batch(session, entries)  # the chain's Core path: no ORM object per event
        except BaseException:
            for slug in slugs:
                self.index.forget(slug)
            raise
        with self._lock:
            for slug in slugs:
                self._counts.pop(slug, None)
        out: list[Accepted] = []
        for n, pending in enumerate(batch):
            answer = answers[n]
            if answer is None:  # the same submission twice in this batch: the first one's receipt
                earlier = answers[first_of[pending.ready.prepared.comment.submission_key or ""]]
                assert earlier is not None
                answer = replace(earlier, repeated=True)
            out.append(answer)
        return out

    def _store_one(self, pending: Pending) -> Accepted:
        return self._store(pending.ready, Source.ONLINE, pending.now, pending.now, pending.address_hash)

    def _store(
        self, ready: Ready, source: Source, received_at: datetime, now: datetime, address_hash: str | None
    ) -> Accepted:
        slug = ready.prepared.comment.slug
        for _ in range(3):
            try:
                with write_session(self.room.engine) as session:
                    self.refresh_index(session, slug)
                    row = self.insert(session, ready, source, received_at, now, address_hash)
                    accepted = Accepted(row.receipt, row.received_at)
            except IntegrityError:
                self.index.forget(slug)
                earlier = self._by_key(ready.prepared.comment.submission_key)
                if earlier is not None:
                    return earlier
                continue  # the receipt number was taken: draw another
            except BaseException:
                self.index.forget(slug)
                raise
            with self._lock:
                self._counts.pop(slug, None)
            return accepted
        raise PublisherError("无法分配受理编号，请重试 / could not allot a receipt number: try again")

    def insert(
        self,
        session: Session,
        ready: Ready,
        source: Source,
        received_at: datetime,
        now: datetime,
        address_hash: str | None,
        actor: str = PUBLIC_ACTOR,
    ) -> ConsultationComment:
        """Store one comment with its contact, attachment and audit event in the caller's
        transaction; the group index learns it at once (`forget` the slug if the transaction fails)."""
        row = self._row(ready, source, received_at, now, address_hash)
        session.add(row)
        session.flush()
        assert row.id is not None
        if row.group_id is None:
            row.group_id = row.id  # the first of its group names it
            session.add(row)
        session.add_all(self._belongings(row.id, ready))
        append_many(session, [self._received(actor, row.receipt, ready, source, row.group_id)])
        self.index.add(ready.prepared.comment.slug, row.id, row.group_id, ready.fingerprint, ready.sketch)
        return row
