"""Migrated PostgreSQL schemas for the tests, reused: a schema a test has finished with is put back
exactly as the migrations left it, renamed, and handed to the next test of the same process.

Migrating a new schema (fifty-odd tables, indexes and triggers) and dropping it again is most of
what a PostgreSQL test costs: a second or more of server time on a loaded machine, for each of the
six hundred tests that run on PostgreSQL. Putting a used schema back costs a few statements:

- Its structure must still be the migrations' own. A test may disable a trigger (tests/test_audit.py)
  or downgrade and upgrade again (tests/test_review_bylines.py); the catalog's description of the
  schema (tables, columns, defaults, indexes, constraints, triggers with their enabled state,
  functions) is compared with a pristine template's, and a schema that differs is dropped instead.
- Only the tables holding rows are emptied, with TRUNCATE rather than DELETE: TRUNCATE gives each
  table new, empty storage, so rows come back in insertion order as in a new table (DELETE would
  leave dead tuples whose space later inserts reuse), and it fires no row triggers, so the
  append-only tables can be emptied without switching their guard off.
- The rows the migrations seed (the engine's service account, the Alembic version) are copied
  back from the template, and every sequence is set to the template's state, also one that a
  rolled-back insert advanced on a table still empty.
- The rename gives every test a schema name, and so a database URL, never seen before in this
  process; a connection a previous test left open still names the old schema in its search_path,
  finds no tables there, and cannot write into the next test's data.

All of it is one transaction on a connection that is not in autocommit mode, and every name is
qualified with the schema: an earlier pool ran its clean-up outside a transaction, where
`SET LOCAL search_path` does nothing, and emptied `public` instead. The tests' fixture hands the
schema back with `give_back_later`: the same transaction, on the pool's own thread, while the
test process runs its next test.
"""

from __future__ import annotations

import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from publisher.store.migrate import upgrade

# Test sessions commit without waiting for the WAL to reach the disk (synchronous_commit = off):
# a commit is still atomic, isolated and at once visible to every other session; what is given up
# is only that the last fraction of a second of commits would be lost if the PostgreSQL server
# itself crashed, which no test does. It pays while the disk is busy (other writers, the other
# xdist worker): tests/test_engine.py's PostgreSQL tests, -n 0, back-to-back pairs, 44.1 -> 19.9 s
# and 29.3 -> 13.3 s then; on a quiet disk it makes no difference (12.5 vs 14.2 s, noise).
OPTIONS = "-csynchronous_commit%3Doff"


def url_of(base: str, schema: str) -> str:
    return f"{base}?options=-csearch_path%3D{schema}%20{OPTIONS}"


def new_name() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


# What the schema is made of, as one digest. The pg_get_*def functions qualify names with the schema
# (it is not on the admin connection's search_path); the qualification is removed so that two
# schemas of the same structure give the same digest. attnum is kept: a column dropped and added
# again (a downgrade, then an upgrade) moves to the end, and `INSERT ... SELECT *` relies on order.
_STRUCTURE = text(
    """
    SELECT md5(string_agg(replace(part, :schema || '.', ''), E'\\n' ORDER BY part)) FROM (
      SELECT concat_ws(' ', 'relation', c.relname, c.relkind) FROM pg_class c
       WHERE c.relnamespace = to_regnamespace(:schema)
      UNION ALL
      SELECT concat_ws(' ', 'column', c.relname, a.attnum, a.attname,
                       format_type(a.atttypid, a.atttypmod), a.attnotnull,
                       pg_get_expr(d.adbin, d.adrelid))
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE c.relnamespace = to_regnamespace(:schema) AND a.attnum > 0 AND NOT a.attisdropped
      UNION ALL
      SELECT concat_ws(' ', 'index', pg_get_indexdef(i.indexrelid))
        FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
       WHERE c.relnamespace = to_regnamespace(:schema)
      UNION ALL
      SELECT concat_ws(' ', 'constraint', o.conname, pg_get_constraintdef(o.oid)) FROM pg_constraint o
       WHERE o.connamespace = to_regnamespace(:schema)
      UNION ALL
      SELECT concat_ws(' ', 'trigger', t.tgname, t.tgenabled, pg_get_triggerdef(t.oid))
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
       WHERE c.relnamespace = to_regnamespace(:schema) AND NOT t.tgisinternal
      UNION ALL
      SELECT concat_ws(' ', 'function', p.proname, pg_get_function_identity_arguments(p.oid),
                       md5(p.prosrc)) FROM pg_proc p
       WHERE p.pronamespace = to_regnamespace(:schema)
    ) AS parts(part)
    """
)

# Sequences whose state differs from the template's: (name, the template's last value or None).
_SEQUENCES_TO_RESET = text(
    "SELECT s.sequencename, t.last_value FROM pg_sequences s"
    " JOIN pg_sequences t ON t.sequencename = s.sequencename AND t.schemaname = :template"
    " WHERE s.schemaname = :schema AND s.last_value IS DISTINCT FROM t.last_value"
)


def structure(conn: Connection, schema: str) -> str:
    """A digest of the schema's structure; equal for two schemas built by the same migrations."""
    return str(conn.execute(_STRUCTURE, {"schema": schema}).scalar_one())


def _quoted(schema: str, name: str) -> str:
    return f'"{schema}"."{name}"'


@dataclass
class SchemaPool:
    """Migrated schemas for one test process, on the database at `base_url`."""

    base_url: str
    _free: list[str] = field(default_factory=list)
    _template: str | None = None
    _structure: str = ""
    _tables: list[str] = field(default_factory=list)
    _seeded: list[str] = field(default_factory=list)
    _admin: Engine | None = None
    # Schemas being put back by the cleaner thread (give_back_later), oldest first.
    _cleaning: list[Future[str | None]] = field(default_factory=list)
    _cleaner: ThreadPoolExecutor | None = None
    # Handed out and not given back yet: dropped by `close` (a test that keeps what it took, as the
    # pool's own tests do, left its schemas behind in the database).
    _out: set[str] = field(default_factory=set)

    @property
    def admin(self) -> Engine:
        # Not in autocommit mode: `begin()` below must be one real transaction.
        if self._admin is None:
            self._admin = create_engine(self.base_url, connect_args={"options": "-c synchronous_commit=off"})
        return self._admin

    def _migrated(self) -> str:
        schema = new_name()
        with self.admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine = create_engine(url_of(self.base_url, schema))
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        return schema

    def template(self) -> str:
        """The pristine schema every used one is compared with and refilled from; never handed out."""
        if self._template is None:
            schema = self._migrated()
            with self.admin.begin() as conn:
                self._structure = structure(conn, schema)
                self._tables = list(
                    conn.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY tablename"),
                        {"s": schema},
                    ).scalars()
                )
                self._seeded = self._holding_rows(conn, schema)
            self._template = schema
        return self._template

    def _holding_rows(self, conn: Connection, schema: str) -> list[str]:
        probes = " UNION ALL ".join(
            f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM {_quoted(schema, table)})"
            for table in self._tables
        )
        return list(conn.execute(text(probes)).scalars())

    def take(self) -> str:
        schema = self._take()
        self._out.add(schema)
        return schema

    def _take(self) -> str:
        template = self.template()
        if self._free:
            return self._free.pop()
        # One being put back is ready sooner than a new one is migrated (a tenth of a second or
        # two against half a second or more).
        while self._cleaning:
            fresh = self._cleaning.pop(0).result()
            if fresh is not None:
                return fresh
        schema = self._migrated()
        with self.admin.begin() as conn:
            if structure(conn, schema) != structure(conn, template):
                raise AssertionError("two migrations of an empty schema differ")
        return schema

    def give_back(self, schema: str) -> None:
        """Put the schema back as the migrations left it, under a new name, for the next test; a
        schema whose structure the test changed, or that cannot be emptied at once, is dropped."""
        self._out.discard(schema)
        fresh = self._put_back(schema)
        if fresh is not None:
            self._free.append(fresh)

    def give_back_later(self, schema: str) -> None:
        """`give_back` on a thread of the pool's own, so that the test process goes on to its next
        test meanwhile (putting a schema back is a tenth of a second or more of the server's
        TRUNCATE and commit, at every PostgreSQL test's end). The caller must have ended every
        connection the test left on the schema; `take` waits for the schema if it needs it."""
        self._out.discard(schema)
        if self._cleaner is None:
            self._cleaner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-schema-pool")
        self._cleaning.append(self._cleaner.submit(self._put_back, schema))

    def _put_back(self, schema: str) -> str | None:
        """The schema emptied and renamed (its new name), or None when it was dropped instead."""
        template = self.template()
        fresh = new_name()
        try:
            with self.admin.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                if structure(conn, schema) != self._structure:
                    raise ValueError("the test changed the schema's structure")
                # The seeded tables are emptied and refilled even when they look untouched: a
                # test may have changed a seeded row, or deleted it.
                emptied = sorted(set(self._holding_rows(conn, schema)) | set(self._seeded))
                listed = ", ".join(_quoted(schema, table) for table in emptied)
                conn.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))
                for table in self._seeded:
                    conn.execute(
                        text(f"INSERT INTO {_quoted(schema, table)} SELECT * FROM {_quoted(template, table)}")
                    )
                resets = conn.execute(_SEQUENCES_TO_RESET, {"schema": schema, "template": template})
                for sequence, last_value in resets.all():
                    if last_value is None:
                        conn.execute(text(f"ALTER SEQUENCE {_quoted(schema, sequence)} RESTART"))
                    else:
                        conn.execute(
                            text("SELECT setval(:sequence, :value, true)"),
                            {"sequence": _quoted(schema, sequence), "value": last_value},
                        )
                conn.execute(text(f"ALTER SCHEMA {schema} RENAME TO {fresh}"))
        except (DBAPIError, ValueError):
            self.drop(schema)
            return None
        return fresh

    def drop(self, schema: str) -> None:
        self._out.discard(schema)
        with self.admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))

    def close(self) -> None:
        while self._cleaning:
            fresh = self._cleaning.pop(0).result()
            if fresh is not None:
                self._free.append(fresh)
        if self._cleaner is not None:
            self._cleaner.shutdown()
            self._cleaner = None
        for schema in [*self._free, *sorted(self._out), *([self._template] if self._template else [])]:
            self.drop(schema)
        self._free.clear()
        self._template = None
        if self._admin is not None:
            self._admin.dispose()
            self._admin = None
