"""The tables. Alembic migrations in `migrations/versions` create exactly these."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from publisher.store.types import UTCDateTime


class Table(SQLModel):
    """The base of every table: pydantic builds a table's validator the first time one is used,
    not when this module loads (most commands never validate a row; every command loads these)."""

    model_config = {"defer_build": True}


class Article(Table, table=True):
    """A manuscript's identity (its slug) and which revision is current."""

    __tablename__ = "article"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    source: str = Field(max_length=500)
    current_revision_id: str | None = Field(default=None, max_length=64)
    revision_count: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Revision(Table, table=True):
    """An immutable snapshot. Its id is the sha256 of normalised front matter, body and asset hashes."""

    __tablename__ = "revision"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_revision_article_number"),)

    id: str = Field(primary_key=True, max_length=64)
    article_id: int = Field(foreign_key="article.id")  # uq_revision_article_number leads with it
    number: int
    parent_id: str | None = Field(default=None, max_length=64)
    title: str = Field(max_length=200)
    column: str = Field(max_length=80, index=True)
    kind: str = Field(max_length=32)
    department: str = Field(max_length=80)
    committee: str | None = Field(default=None, max_length=80)
    sensitive: bool = False
    dated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    meta_json: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    source: str = Field(max_length=500)
    source_sha256: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_by: str = Field(max_length=80)


class RevisionAsset(Table, table=True):
    """An image a revision references, by the hash of the bytes it had then."""

    __tablename__ = "revision_asset"
    __table_args__ = (UniqueConstraint("revision_id", "position", name="uq_revision_asset_position"),)

    id: int | None = Field(default=None, primary_key=True)
    # No index of its own: uq_revision_asset_position leads with it.
    revision_id: str = Field(foreign_key="revision.id", max_length=64)
    position: int
    role: str = Field(max_length=16)
    ref: str = Field(max_length=500)
    path: str = Field(max_length=500)
    sha256: str = Field(max_length=64, index=True)
    size: int
    width: int
    height: int
    format: str = Field(max_length=16)


class SourceStamp(Table, table=True):
    """What a source file looked like when last ingested: the fast path for unchanged files."""

    __tablename__ = "source_stamp"

    source: str = Field(primary_key=True, max_length=500)
    sha256: str = Field(max_length=64)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    mtime_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    context: str = Field(max_length=64)  # hash of the taxonomy the file was validated against
    slug: str = Field(max_length=120)
    revision_id: str = Field(max_length=64)
    assets_json: str = Field(sa_column=Column(Text, nullable=False))  # [[path, size, mtime_ns, sha256], ...]
    checked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AuditEvent(Table, table=True):
    """Append-only, hash-chained: each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str = Field(max_length=80)
    action: str = Field(max_length=64)
    object_type: str = Field(max_length=32)
    object_id: str = Field(max_length=200)
    revision_id: str | None = Field(default=None, max_length=64)
    details_json: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64, unique=True)


class AuditHead(Table, table=True):
    """The chain's last link, kept beside it so that deleting the newest rows is detected too."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int
    hash: str = Field(max_length=64)


class StaffUser(Table, table=True):
    """A member of staff who acts in the review chain (and, later, logs in to the console)."""

    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=80)
    roles_json: str = Field(sa_column=Column(Text, nullable=False))  # ["editor", ...]
    committees_json: str = Field(sa_column=Column(Text, nullable=False))  # for committee reviewers
    departments_json: str = Field(sa_column=Column(Text, nullable=False))  # empty: every department
    password_hash: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)  # where e-mail notifications go
    active: bool = True
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # "person", or "service" for the engine's account: it signs its own deliveries, never a review.
    kind: str = Field(default="person", max_length=16)
    failed_logins: int = 0  # failures in a row since the last success
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    totp_secret: str | None = Field(default=None, max_length=64)
    password_changed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class StaffSession(Table, table=True):
    """A console login: the cookie holds a random token, the row its sha256; revocable, expiring."""

    __tablename__ = "staff_session"

    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the cookie's token
    username: str = Field(max_length=64, index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))  # absolute end
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # False while a TOTP code is still owed: such a session may only finish the second step.
    second_factor_done: bool = True
    user_agent: str = Field(default="", max_length=300)


class StaffToken(Table, table=True):
    """A personal command-line token (`publisher login`), stored as its sha256; revocable."""

    __tablename__ = "staff_token"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    label: str = Field(default="", max_length=120)
    prefix: str = Field(max_length=16)  # shown in listings so a person can tell tokens apart
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class CalendarFeed(Table, table=True):
    """A person's calendar subscription (iCalendar): the URL holds a random token, the row its
    sha256; revoked, the URL stops working."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)  # shown on the page so a person can tell feeds apart
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ReviewState(Table, table=True):
    """Where one revision stands in the chain; written with every act, read by the publication gate."""

    __tablename__ = "review_state"

    revision_id: str = Field(primary_key=True, foreign_key="revision.id", max_length=64)
    article_id: int = Field(foreign_key="article.id", index=True)
    cycle: int = 0  # one per submission; a rejection or withdrawal ends it
    status: str = Field(max_length=16, index=True)  # in_review | rejected | withdrawn | approved
    stage_index: int = 0  # index into plan_json of the stage that waits
    plan_json: str = Field(sa_column=Column(Text, nullable=False))  # the stages this cycle needs
    findings_json: str = Field(sa_column=Column(Text, nullable=False))  # the latest automatic checks
    acknowledged_json: str = Field(sa_column=Column(Text, nullable=False))  # {warning: username}
    secrecy_blocked: bool = False
    submitted_by: str = Field(max_length=64)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # The revision's bylines as the author rule compares them (review.users.bylines_key), written
    # at submission so the inbox can count what waits on a person in the database; None: not
    # known, the rules read the revision's meta instead.
    bylines: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ReviewAct(Table, table=True):
    """One act of review, bound to the revision it was made on. Append-only."""

    __tablename__ = "review_act"
    __table_args__ = (Index("ix_review_act_revision_cycle", "revision_id", "cycle"),)

    id: int | None = Field(default=None, primary_key=True)
    revision_id: str = Field(foreign_key="revision.id", max_length=64)
    article_id: int = Field(foreign_key="article.id", index=True)
    cycle: int
    act: str = Field(max_length=16)  # submit | approve | reject | withdraw
    stage_key: str | None = Field(default=None, max_length=40)
    stage_name: str | None = Field(default=None, max_length=40)
    username: str = Field(max_length=64, index=True)
    role: str | None = Field(default=None, max_length=32)
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    details_json: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Delivery(Table, table=True):
    """One article due on one channel at one time: the unit the engine claims, performs and finishes.

    The database is the truth of what is due. A delivery names the article, not a revision: at the
    due time the publication gate decides which revision (the current, approved one) goes, and the
    revision sent is recorded here with the channel's receipt.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        # A claim's order (engine/claims.py): read from the index in order, no sort of what is due.
        Index("ix_delivery_due", "status", "next_attempt_at", "id"),
        Index("ix_delivery_slot", "campaign", "slot_number"),
        # The console's reads, each answered from an index: releases by due time (calendar, week;
        # covering their counts), late and trouble by state, the queue's counts and pages by
        # channel, and where each article stands by article and revision.
        Index("ix_delivery_due_at", "due_at", "status", "channel"),
        Index("ix_delivery_status_due", "status", "due_at"),
        Index("ix_delivery_channel_status", "channel", "status"),
        Index("ix_delivery_channel_due", "channel", "due_at"),
        Index("ix_delivery_article_revision", "article_id", "action", "revision_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No index of its own on article_id or channel: the composite indexes above lead with each
    # (migration 0021: every update of a delivery writes into every index on the table).
    article_id: int = Field(foreign_key="article.id")
    channel: str = Field(max_length=64)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # scheduled | claimed | done | failed | held | missed | canceled | unknown
    status: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    lease_owner: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    idempotency_key: str = Field(max_length=80, unique=True)
    revision_id: str | None = Field(default=None, max_length=64)
    campaign: str | None = Field(default=None, max_length=64)
    slot_number: int | None = None
    receipt_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # publish (the current revision) | kill (a retraction notice: carries no text, so no gate applies)
    action: str = Field(default="publish", max_length=16)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class Worker(Table, table=True):
    """A running `publisher run` process, known by its heartbeat."""

    __tablename__ = "worker"

    id: str = Field(primary_key=True, max_length=120)
    host: str = Field(max_length=120)
    pid: int
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    heartbeat_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    state: str = Field(max_length=16)  # running | stopping | stopped
    processed: int = 0


class NewsroomFlag(Table, table=True):
    """Switches every worker reads at once, such as the emergency pause."""

    __tablename__ = "newsroom_flag"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_by: str = Field(max_length=64)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class WechatToken(Table, table=True):
    """An official account's access token, shared by every worker so it is refreshed once for all."""

    __tablename__ = "wechat_token"

    app_id: str = Field(primary_key=True, max_length=64)
    access_token: str = Field(sa_column=Column(Text, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    fetched_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    fetches: int = 0


class WechatMedia(Table, table=True):
    """An image already on WeChat's host, by the sha256 of its source: uploaded once per account."""

    __tablename__ = "wechat_media"
    __table_args__ = (UniqueConstraint("app_id", "kind", "sha256", name="uq_wechat_media"),)

    id: int | None = Field(default=None, primary_key=True)
    app_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # body (media/uploadimg) | cover (material/add_material)
    sha256: str = Field(max_length=64)
    media_id: str | None = Field(default=None, max_length=200)
    url: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class WechatPost(Table, table=True):
    """One push (a draft of up to 8 articles, free-published) and where it stands.

    Its key is the bundle's idempotency key: a retried delivery finds the row and continues from
    its state instead of drafting or submitting again.
    """

    __tablename__ = "wechat_post"
    __table_args__ = (Index("ix_wechat_post_day", "app_id", "local_day"),)

    key: str = Field(primary_key=True, max_length=80)
    channel: str = Field(max_length=64)
    app_id: str = Field(max_length=64)
    # drafted | submitting | publishing | published | failed | deleted | banned | unknown
    state: str = Field(max_length=16)
    local_day: str = Field(max_length=10)  # the newsroom-local day it counts against (quota)
    media_id: str | None = Field(default=None, max_length=200)
    publish_id: str | None = Field(default=None, max_length=200)
    article_id: str | None = Field(default=None, max_length=200)
    publish_status: int | None = None
    articles_json: str = Field(sa_column=Column(Text, nullable=False))
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    mass_msg_id: str | None = Field(default=None, max_length=200)
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Retraction(Table, table=True):
    """An article taken down everywhere (撤稿). The publication gate refuses it on every channel."""

    __tablename__ = "retraction"

    article_id: int = Field(
        primary_key=True, foreign_key="article.id", sa_column_kwargs={"autoincrement": False}
    )
    reason: str = Field(sa_column=Column(Text, nullable=False))
    retracted_by: str = Field(max_length=64)
    retracted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Reinstatement(Table, table=True):
    """A retraction lifted (撤稿解除), append-only: the `Retraction` row stays as it was, and this
    row says which retraction a person lifted, when and why. A retraction is in force unless a
    reinstatement came at or after it (`publisher.store.retractions`)."""

    __tablename__ = "reinstatement"

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    # The retraction lifted, as it was: retracting again later rewrites the `Retraction` row.
    retracted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    retracted_by: str = Field(max_length=64)
    retraction_reason: str = Field(sa_column=Column(Text, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    reinstated_by: str = Field(max_length=64)
    reinstated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PartnerToken(Table, table=True):
    """A pull-feed token of one partner. Only its sha256 is kept: a stolen database opens no feed."""

    __tablename__ = "partner_token"

    id: int | None = Field(default=None, primary_key=True)
    partner: str = Field(max_length=64, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    hint: str = Field(max_length=16)  # the first characters, so staff can tell tokens apart
    issued_by: str = Field(max_length=64)
    issued_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    revoked_by: str | None = Field(default=None, max_length=64)


class Supply(Table, table=True):
    """What one partner has of one article: the version it holds, usable or canceled (撤稿).

    Written by the partner performer after each delivery; pull feeds are read from here, and a
    correction or a kill notice goes to every partner with a row.
    """

    __tablename__ = "supply"
    __table_args__ = (
        UniqueConstraint("partner", "article_id", name="uq_supply_partner_article"),
        Index("ix_supply_partner_updated", "partner", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner: str = Field(max_length=64)
    article_id: int = Field(foreign_key="article.id", index=True)
    revision_id: str = Field(max_length=64)  # the revision the partner holds now
    first_revision_id: str = Field(max_length=64)
    version: int = 1  # ninjs version: 1 on first supply, +1 per correction and for the kill notice
    pubstatus: str = Field(max_length=16)  # usable | canceled
    embargoed: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    ednote: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    remote_id: str | None = Field(default=None, max_length=200)  # the partner's reply id (push)
    first_supplied_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Adoption(Table, table=True):
    """A partner ran a supplied article (采用): reported by its callback or recorded by staff."""

    __tablename__ = "adoption"
    __table_args__ = (UniqueConstraint("partner", "article_id", name="uq_adoption_partner_article"),)

    id: int | None = Field(default=None, primary_key=True)
    partner: str = Field(max_length=64)  # uq_adoption_partner_article leads with it
    article_id: int = Field(foreign_key="article.id", index=True)
    url: str = Field(max_length=1000)
    adopted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_by: str = Field(max_length=80)
    source: str = Field(max_length=16)  # callback | staff


class Notice(Table, table=True):
    """One thing one person should know (a piece waits for their stage, a release failed): what the
    console lists with its unread mark. `ref` names the event, so an event tells a person once."""

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("username", "ref", name="uq_notice_username_ref"),
        Index("ix_notice_username_read", "username", "read_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    kind: str = Field(max_length=32)  # publisher.notify.model.NoticeKind
    title: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, max_length=500)  # a console path, e.g. /articles/<slug>
    ref: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class NoticeOutbox(Table, table=True):
    """One outward message (an e-mail, a group robot's post) of a notice, sent by the engine with
    retries and a lease, like a delivery. One per channel, recipient and event."""

    __tablename__ = "notice_outbox"
    __table_args__ = (
        UniqueConstraint("channel", "recipient", "ref", name="uq_notice_outbox_message"),
        Index("ix_notice_outbox_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    channel: str = Field(max_length=64)  # "email", or a webhook's name
    recipient: str = Field(max_length=254)  # an e-mail address, or the webhook's name
    ref: str = Field(max_length=200)
    payload_json: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=16)  # publisher.notify.model.OutboxState
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    lease_owner: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class PreviewShare(Table, table=True):
    """A read-only link to the previews of one exact revision (`/p/{token}`), for someone without
    an account: stored as the token's sha256, expiring, revocable."""

    __tablename__ = "preview_share"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    slug: str = Field(max_length=200, index=True)
    revision_id: str = Field(max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    revoked_by: str | None = Field(default=None, max_length=64)


class InspectionRun(Table, table=True):
    """One inspection (定期清查). A scheduled run's id is its slot, so the first worker to insert
    the row performs it and every other worker finds it taken: once across workers."""

    __tablename__ = "inspection_run"

    id: str = Field(primary_key=True, max_length=64)
    worker: str = Field(max_length=120)
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    score: float | None = None
    vetoes: int | None = None
    passed: bool | None = None
    findings: int | None = None


class InspectionFinding(Table, table=True):
    """A finding as a task: open until fixed (the next run that no longer finds it closes it) or
    accepted with a reason; an owner answers for it."""

    __tablename__ = "inspection_finding"

    key: str = Field(primary_key=True, max_length=32)
    rule: str = Field(max_length=40, index=True)
    channel: str = Field(max_length=64)
    location: str = Field(sa_column=Column(Text, nullable=False))
    line: int | None = None
    severity: str = Field(max_length=16)
    message: str = Field(sa_column=Column(Text, nullable=False))
    evidence: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=16, index=True)  # open | fixed | accepted
    owner: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    first_run: str = Field(max_length=64)
    last_run: str = Field(max_length=64)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class UptimeProbe(Table, table=True):
    """One reachability probe of a website (可用性监测). Its id names the channel and the slot, so
    many workers probing on one schedule record it once."""

    __tablename__ = "uptime_probe"
    __table_args__ = (Index("ix_uptime_probe_channel_at", "channel", "at"),)

    id: str = Field(primary_key=True, max_length=120)
    channel: str = Field(max_length=64)
    url: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ok: bool
    status: int | None = None
    seconds: float
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Consultation(Table, table=True):
    """A draft regulation open for comment (征求意见), declared in the draft article's front matter;
    its window, clauses and questions are those of the revision that opened it."""

    __tablename__ = "consultation"

    slug: str = Field(primary_key=True, max_length=120)
    revision_id: str = Field(max_length=64)
    title: str = Field(max_length=200)
    opens_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closes_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    name_required: bool = False
    # [{"key": "3", "label": "第三条", "heading": "..."}, ...]: the clauses a comment may name.
    clauses_json: str = Field(sa_column=Column(Text, nullable=False))
    questions_json: str = Field(sa_column=Column(Text, nullable=False))
    feedback_slug: str | None = Field(default=None, max_length=120)
    # The contact purge clock starts when the feedback report is published.
    feedback_published_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    contacts_purged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ConsultationComment(Table, table=True):
    """One comment on a consultation. Who wrote it and how to reach them live apart
    (`ConsultationContact`); the text is stored before the citizen gets a receipt number."""

    __tablename__ = "consultation_comment"
    __table_args__ = (Index("ix_consultation_comment_slug_received", "slug", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    receipt: str = Field(max_length=32, unique=True)  # 受理编号
    slug: str = Field(max_length=120)
    clause: str | None = Field(default=None, max_length=40)  # a clause key; None: the draft as a whole
    commenter_type: str = Field(max_length=24)  # CommenterType
    name: str | None = Field(default=None, max_length=80)
    body: str = Field(sa_column=Column(Text, nullable=False))
    # sha256 of the normalised text: identical comments share it; near-identical ones share a group.
    fingerprint: str = Field(max_length=64, index=True)
    group_id: int | None = Field(default=None, index=True)
    source: str = Field(max_length=16)  # Source
    # The client's key for one submission: a double click stores one comment.
    submission_key: str | None = Field(default=None, max_length=64, unique=True)
    address_hash: str | None = Field(default=None, max_length=64)
    screening_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    moderation: str = Field(default="pending", max_length=16)  # Moderation
    topic: str | None = Field(default=None, max_length=80)
    disposition: str | None = Field(default=None, max_length=24)  # Disposition
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    committee: str | None = Field(default=None, max_length=80)
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    answered_by: str | None = Field(default=None, max_length=64)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_by: str | None = Field(default=None, max_length=64)


class ConsultationContact(Table, table=True):
    """A commenter's phone or e-mail: never published, kept apart from the text and deleted a
    configured time after the feedback report is published."""

    __tablename__ = "consultation_contact"

    comment_id: int = Field(primary_key=True, foreign_key="consultation_comment.id")
    kind: str = Field(max_length=8)  # phone | email
    value: str = Field(max_length=200)
    # sha256 of the normalised contact: rate limits and receipt look-ups without reading the value.
    contact_hash: str = Field(max_length=64, index=True)


class ConsultationAttachment(Table, table=True):
    """A file sent with a comment (PDF, DOCX, JPEG, PNG; type read from the bytes), kept in the
    newsroom's blob store by its hash."""

    __tablename__ = "consultation_attachment"

    comment_id: int = Field(primary_key=True, foreign_key="consultation_comment.id")
    filename: str = Field(max_length=200)
    media_type: str = Field(max_length=80)
    size: int
    sha256: str = Field(max_length=64)
