"""What a round reads once, and what each delivery reads again at its due time.

A round claims up to `batch` deliveries and performs each on its instant. The expensive part of the
gate (proving an immutable revision's approval from its signed acts, checking its text for
secrecy marks) is gathered once for the round (`RoundFacts`). What can change while the round
waits (the article's current revision, that revision's status row and acts, a retraction, the
pause switch) is read again at each delivery's due time in one indexed query (`due_check`): when
the gate's stamp is what the round saw, the round's facts are the facts now and the gate decides
with them; when it is not, the worker asks the gate afresh. So the gate is still decided at the
due time, at the cost of one query, not of a full gather per delivery.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Connection, Dialect, Engine, bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session, col, select

from publisher.engine.pause import PAUSE_FLAG
from publisher.review.gate import FrontMatters, Gate, GateStamp, for_many, stamp_of, stamp_query
from publisher.store.tables import Article, NewsroomFlag, Revision

_PAUSED = sa_select(col(NewsroomFlag.value)).where(col(NewsroomFlag.key) == PAUSE_FLAG).scalar_subquery()
# One article by primary key: a statement compiled once (an IN list would be rendered every time).
_DUE_CHECK = stamp_query(col(Article.id) == bindparam("article_id"), _PAUSED)
# A round's articles: compiled once per dialect, the id list expanded into the text per round.
_ROUND_STAMPS = stamp_query(col(Article.id).in_(bindparam("article_ids", expanding=True)))
_round_statements: dict[tuple[str, str], SQLCompiler] = {}  # by dialect and driver: `_ROUND_STAMPS` compiled


class _DriverStatement(NamedTuple):
    sql: str  # a statement in the driver's own SQL, its literal parts rendered
    positional: tuple[Any, ...] | None  # its fixed parameters, for a driver that numbers them
    named: dict[str, Any]  # or for one that names them
    slot: int  # where the article id goes among the numbered ones (-1: it takes none)

    def bind(self, article_id: int | None = None) -> tuple[Any, ...] | dict[str, Any]:
        if self.positional is None:
            return self.named if article_id is None else {**self.named, "article_id": article_id}
        if self.slot < 0:
            return self.positional
        return (*self.positional[: self.slot], article_id, *self.positional[self.slot + 1 :])


_driver_statements: dict[tuple[str, str, bool], _DriverStatement] = {}  # by dialect, driver, statement


def _driver_statement(dialect: Dialect, *, pause_only: bool = False) -> _DriverStatement:
    """`_DUE_CHECK` (or, `pause_only`, the pause switch alone) compiled once per dialect to the
    driver's text. Executed as text on the driver's cursor it skips SQLAlchemy's work per execution
    (the compiled cache, building the parameters and the result, rendering the `aggregate_strings`
    separator into the SQL again), which cost more CPU than the indexed query itself, once per
    delivery. Its columns are strings, integers and booleans: no result processing is skipped that
    `stamp_of` does not do itself."""
    key = (dialect.name, dialect.driver, pause_only)
    known = _driver_statements.get(key)
    if known is None:
        statement = sa_select(_PAUSED) if pause_only else _DUE_CHECK
        parameters = {} if pause_only else {"article_id": 0}
        state = statement.compile(dialect=dialect).construct_expanded_state(parameters)
        numbered = state.positiontup
        known = _driver_statements[key] = _DriverStatement(
            state.statement,
            None if numbered is None else tuple(state.positional_parameters),
            dict(state.parameters),
            -1 if numbered is None or pause_only else numbered.index("article_id"),
        )
    return known


def round_stamps(session: Session, article_ids: Collection[int]) -> dict[int, GateStamp]:
    """`gate_stamps` (article id -> its stamp now) on the session's connection, run on the driver's
    cursor: the statement compiled once, not once per round as a fresh IN list is through the ORM
    session, and no SQLAlchemy result built around the rows. The columns are `_DUE_CHECK`'s
    without the pause switch, so `stamp_of` reads them as it does a due check's."""
    connection = session.connection()
    dialect = connection.dialect
    key = (dialect.name, dialect.driver)
    compiled = _round_statements.get(key)
    if compiled is None:
        made = _ROUND_STAMPS.compile(dialect=dialect)
        assert isinstance(made, SQLCompiler)  # a SELECT compiles to one
        compiled = _round_statements[key] = made
    state = compiled.construct_expanded_state({"article_ids": list(article_ids)})
    parameters = state.parameters if state.positiontup is None else tuple(state.positional_parameters)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(state.statement, parameters)
        return {row[0]: stamp_of(row) for row in cursor.fetchall()}
    finally:
        cursor.close()


class DueCheck(NamedTuple):
    """Read at a delivery's due time."""

    stamp: GateStamp | None  # None: the article is gone
    paused: bool  # the newsroom-wide pause switch (`publisher pause`)


def _read(cursor: Any, dialect: Dialect, article_id: int) -> DueCheck:
    """One due check on a driver cursor (both drivers' cursors take the statement and its
    parameters as `execute(sql, parameters)` and answer `fetchone()`)."""
    statement = _driver_statement(dialect)
    cursor.execute(statement.sql, statement.bind(article_id))
    row = cursor.fetchone()
    if row is None:
        switch = _driver_statement(dialect, pause_only=True)
        cursor.execute(switch.sql, switch.bind())
        found = cursor.fetchone()
        return DueCheck(None, found is not None and found[0] == "true")
    return DueCheck(stamp_of(row), row[-1] == "true")


def due_check(session: Session, article_id: int) -> DueCheck:
    """The article's gate stamp and the pause switch, now: one query. SQLite keeps a read
    transaction's snapshot from its first read, so the session's (read-only) transaction is ended
    first; PostgreSQL reads committed data at every statement."""
    if session.get_bind().dialect.name == "sqlite":
        session.commit()
    # On the session's connection: a Core statement through the ORM session costs more CPU.
    connection = session.connection()
    cursor = connection.connection.cursor()
    try:
        return _read(cursor, connection.dialect, article_id)
    finally:
        cursor.close()


class DueReader:
    """A lane's due checks (`due_check`) on the lane's own connection, run on the driver's cursor
    beside the lane's session, so no SQLAlchemy work per execution stands between a release and
    its due instant. SQLite's connections are in the driver's autocommit (store/engine.py: the
    engine, not the driver, begins transactions), so a check outside a session transaction reads
    what is committed at that moment; the session's transaction (its snapshot) is ended first only
    when the lane's session has begun one. PostgreSQL reads committed data at every statement, on
    one cursor kept for the lane's checks: a fresh cursor sets up its adaptation of the columns
    again at each check (a third of a check's CPU). SQLite opens a cursor per check and closes it
    after: a cursor left open could keep its statement, and a read snapshot with it."""

    def __init__(self, session: Session, connection: Connection) -> None:
        self._session = session
        self._connection = connection
        self._sqlite = connection.dialect.name == "sqlite"
        self._kept: tuple[object, Any] | None = None  # (the driver's connection, a cursor on it)

    def check(self, article_id: int) -> DueCheck:
        if self._sqlite:
            if self._session.in_transaction():
                self._session.commit()
            cursor = self._connection.connection.cursor()
            try:
                return _read(cursor, self._connection.dialect, article_id)
            finally:
                cursor.close()
        pooled = self._connection.connection
        if self._kept is None or self._kept[0] is not pooled.dbapi_connection:
            # First check, or the connection was replaced (invalidated and opened again) since.
            self.close()
            self._kept = (pooled.dbapi_connection, pooled.cursor())
        return _read(self._kept[1], self._connection.dialect, article_id)

    def close(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            kept[1].close()


@dataclass
class RoundFacts:
    """A round's articles, their current revisions and the gate for them, read once. The rows are
    held here for the round's life: the session's identity map holds its objects weakly, and rows
    no one refers to are gone (and read again) by the time a delivery asks for them."""

    stamps: dict[int, GateStamp]  # article id -> the stamp read before the facts below
    articles: dict[int, Article]
    revisions: dict[int, Revision]  # article id -> its current revision
    gate: Gate  # the gate with its facts about these revisions gathered (or the plain gate)
    metas: FrontMatters = field(default_factory=FrontMatters)  # revision id -> its front matter

    @classmethod
    def gather(
        cls,
        session: Session,
        article_ids: Collection[int],
        gate: Gate,
        stamps: dict[int, GateStamp] | None = None,
    ) -> RoundFacts:
        """`stamps`: the articles' stamps, when the caller has just read them in this session."""
        # The stamps first: facts read after them are as new or newer, so a change in between
        # shows as a different stamp at the due time and the gate is asked afresh.
        ids = list(article_ids)
        if stamps is None:
            stamps = round_stamps(session, ids)
        articles: dict[int, Article] = {}
        revisions: dict[int, Revision] = {}
        for article, revision in session.exec(
            select(Article, Revision)
            .outerjoin(Revision, col(Revision.id) == col(Article.current_revision_id))
            .where(col(Article.id).in_(ids))
        ).all():
            assert article.id is not None
            articles[article.id] = article
            if revision is not None:
                revisions[article.id] = revision
        return cls(stamps, articles, revisions, for_many(gate, session, list(revisions.values())))

    def still_hold(self, stamps: dict[int, GateStamp], article_ids: Collection[int]) -> bool:
        """Whether these facts are the facts now for these articles: each one's stamp (or its
        absence) is what it was when they were gathered. Read-only once gathered, so a later round
        may use them as they are."""
        return all(i in self.articles and self.stamps.get(i) == stamps.get(i) for i in article_ids)

    def meta(self, revision: Revision) -> dict[str, Any]:
        return self.metas.of(revision)


class SharedRound:
    """A round's facts, gathered once for all its lanes by the first lane to start (in a session of
    its own, closed after: the rows stay loaded and are only read). A round of one release to each
    of fifty partners has fifty lanes of one delivery: gathering per lane would read the same
    articles, acts and signers fifty times.

    `previous`, the facts of the worker's last round, are this round's too when every article's
    stamp is still what it was then (one query instead of a full gather): a burst of releases of a
    few articles runs as many rounds, and the stamp is what tells facts that still hold at a
    delivery's due time from facts that do not, within a round or across two."""

    def __init__(
        self, engine: Engine, article_ids: Collection[int], gate: Gate, previous: RoundFacts | None = None
    ) -> None:
        self._engine = engine
        self._ids = article_ids
        self._gate = gate
        self._previous = previous
        self._lock = threading.Lock()
        self._facts: RoundFacts | None = None

    @property
    def gathered(self) -> RoundFacts | None:
        """The facts this round used, if a lane asked for them."""
        return self._facts

    def facts(self) -> RoundFacts:
        # A lane that finds the gathering failed tries again itself: its failure then releases its
        # own claims, as a lane's failure always has.
        with self._lock:
            if self._facts is None:
                with Session(self._engine, expire_on_commit=False) as session:
                    stamps = round_stamps(session, list(self._ids))
                    if self._previous is not None and self._previous.still_hold(stamps, self._ids):
                        self._facts = self._previous
                    else:
                        self._facts = RoundFacts.gather(session, self._ids, self._gate, stamps)
            return self._facts
