"""Backup and restore of a whole newsroom: its declarations, its database and its blob store.

A newsroom's history lives in two stores that must agree: the database (revisions, approvals,
deliveries, the audit chain) and the content-addressed blobs its revisions name. A backup is one
archive (a gzip tar) holding a consistent snapshot of both, the newsroom's own files (settings,
content, schedules, channels, review lists, bulletins, and state under var/ that no build can remake) and
a manifest: the sha256 of every file, the database kind, the schema head, the audit chain's head
hash and when it was made. Outputs and caches (public/, var/cache, site releases) are left out:
a restored newsroom rebuilds them byte for byte.

Consistency: SQLite is copied with the online backup API; PostgreSQL with `pg_dump` (plain
format) reading an exported snapshot, and the audit head is read inside that same snapshot. The
blobs are copied after the database: they are only ever added, and a blob is written before any
row names it, so every blob the snapshot names is there.

Restore goes into an empty folder and an empty database, and reports success only when the
manifest, every file's hash, every blob's hash, the schema head and the audit chain all check
out; on any failure it removes what it wrote. A PostgreSQL snapshot is loaded into whatever
schema the target URL selects: the tables come from our migrations at the backup's schema head,
the rows from the dump's COPY blocks, so no PostgreSQL client is needed to restore.

The manifest carries its own digest. It catches damage and careless edits; someone who rewrites
files and manifest together is caught by the audit chain, and beyond that by the archive's
sha256, which `backup` prints for keeping elsewhere.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import make_url

from publisher import audit
from publisher.errors import PublisherError
from publisher.newsroom import Newsroom
from publisher.store import migrate
from publisher.store.blobs import BlobStore
from publisher.store.engine import make_engine, read_session
from publisher.timeutil import utc_now

FORMAT = "publisher-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
NEWSROOM_PREFIX = "newsroom"
BLOBS_PREFIX = "blobs"
SQLITE_FILE = "database/publisher.db"
PG_FILE = "database/publisher.sql"
CHUNK = 1 << 20
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Remade by a build or a preview from the database and the blobs; the deploy folders under
# var/site/<channel>/ are whole copies of public/.
REBUILT_VAR = ("cache", "preview", "blobs")
REBUILT_SITE = ("releases", "media")
COPY_LINE = re.compile(r'^COPY (?:"?[^". ]+"?)\.("?[a-z_][a-z0-9_]*"?) \(([a-z0-9_", ]+)\) FROM stdin;$')
SETVAL_LINE = re.compile(
    r"^SELECT pg_catalog\.setval\('(?:[^'.]+)\.([a-z_][a-z0-9_]*)', (\d+), (true|false)\);$"
)
BACKUP_FILE = re.compile(r"^publisher-backup-.*\.tar\.gz$")


class BackupError(PublisherError):
    """A backup or restore that cannot go on; the message names the file or step and the fix."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    archive: Path
    sha256: str  # of the archive itself: keep it apart from the archive
    manifest: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RestoreReport:
    target: Path
    database_url: str
    manifest: dict[str, Any]
    files: int
    blobs: int
    audit_events: int


# -- hashing ------------------------------------------------------------------------------------------
def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_digest(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


# -- what a backup holds ------------------------------------------------------------------------------
def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("内存数据库无法备份 / an in-memory SQLite database cannot be backed up")
    return Path(parsed.database).resolve()


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def newsroom_files(room: Newsroom) -> Iterator[tuple[Path, str]]:
    """The newsroom's own files, as (path, name inside the newsroom): declarations and var/ state."""
    root = room.root
    database = _sqlite_path(room.database_url)
    skip_db = (
        {database, *(database.with_name(database.name + s) for s in ("-wal", "-shm", "-journal"))}
        if database is not None
        else set()
    )
    settings_file = root / "publisher.toml"
    if settings_file.is_file():
        yield settings_file, "publisher.toml"
    paths = room.settings.paths
    folders = [
        root / p for p in (paths.content, paths.schedules, paths.channels, paths.review, paths.bulletins)
    ]
    var = room.var_dir
    for folder in [*folders, var]:
        if not folder.is_dir() or not _inside(folder, root):
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or not path.is_file() or BACKUP_FILE.match(path.name):
                continue
            # Hidden names are work in progress: temp files, a backup or restore under way.
            if any(part.startswith(".") for part in path.relative_to(folder).parts):
                continue
            if path.resolve() in skip_db:
                continue
            if folder == var:
                parts = path.relative_to(var).parts
                if parts[0] in REBUILT_VAR or (
                    parts[0] == "site" and len(parts) > 2 and parts[2] in REBUILT_SITE
                ):
                    continue
            yield path, path.relative_to(root).as_posix()


def blob_files(blobs: BlobStore) -> Iterator[tuple[Path, str]]:
    if not blobs.root.is_dir():
        return
    for path in sorted(blobs.root.glob("??/*")):
        if path.is_file() and not path.is_symlink() and SHA256.match(path.name):
            yield path, path.name


# -- database snapshots -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Snapshot:
    kind: str  # sqlite | postgresql
    file: Path
    schema_head: str | None
    audit_events: int
    audit_head: str
    source_schema: str | None = None


def _audit_head(rows: list[Any]) -> tuple[int, str]:
    return (int(rows[0][0]), str(rows[0][1])) if rows else (0, audit.GENESIS)


def snapshot_sqlite(source: Path, into: Path) -> Snapshot:
    target = into / "publisher.db"
    try:
        src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"无法打开数据库 / cannot open the database {source}: {exc}") from None
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            head = dst.execute("SELECT version_num FROM alembic_version").fetchall()
            rows = dst.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchall()
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"数据库备份失败 / the database backup failed: {exc}") from None
    finally:
        src.close()
    events, hash_ = _audit_head(rows)
    return Snapshot("sqlite", target, head[0][0] if len(head) == 1 else None, events, hash_)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump, with the password in the environment instead of the process list."""
    parsed = make_url(url)
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def snapshot_postgresql(engine: Engine, url: str, into: Path) -> Snapshot:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(
            "找不到 pg_dump，请安装与服务器同版本的 PostgreSQL 客户端（如 apt-get install postgresql-client）"
            " / pg_dump was not found on PATH: install the PostgreSQL client tools of the server's major"
            " version (e.g. apt-get install postgresql-client) and run backup again"
        )
    target = into / "publisher.sql"
    dsn, env = _libpq(url)
    # pg_dump reads the snapshot this transaction exported, so the audit head read here and the
    # dump are the same moment of the database.
    with engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        conn.execute(text("SET TRANSACTION READ ONLY"))
        snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        rows = list(conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).all())
        command = [
            pg_dump,
            "--format=plain",
            "--no-owner",
            "--no-privileges",
            f"--schema={schema}",
            f"--snapshot={snapshot_id}",
            f"--file={target}",
            f"--dbname={dsn}",
        ]
        try:
            done = subprocess.run(
                command, env={**os.environ, **env}, capture_output=True, text=True, check=False
            )
        except OSError as exc:
            raise BackupError(f"pg_dump 无法运行 / pg_dump could not run: {exc}") from None
        conn.rollback()
    if done.returncode != 0:
        raise BackupError(
            f"pg_dump 失败 / pg_dump failed (exit {done.returncode}): {done.stderr.strip()[:500]}"
        )
    events, hash_ = _audit_head(rows)
    return Snapshot("postgresql", target, head[0] if len(head) == 1 else None, events, hash_, schema)


# -- backup -------------------------------------------------------------------------------------------
def default_name(now: datetime) -> str:
    return f"publisher-backup-{now.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def backup(room: Newsroom, dest: Path, *, now: datetime | None = None) -> BackupReport:
    """Write one archive of the newsroom to `dest` (a new file, or a folder to put it in)."""
    now = now or utc_now()
    archive = dest / default_name(now) if dest.is_dir() else dest
    if archive.exists():
        raise BackupError(f"目标已存在，不会覆盖 / {archive} already exists: choose a new name")
    if not archive.parent.is_dir():
        raise BackupError(f"目标文件夹不存在 / the folder {archive.parent} does not exist")
    engine = room.engine  # migrated: a backup always names a schema head this code knows
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=archive.parent) as work:
        workdir = Path(work)
        sqlite_path = _sqlite_path(room.database_url)
        if sqlite_path is not None:
            snap = snapshot_sqlite(sqlite_path, workdir)
            db_name = SQLITE_FILE
        else:
            snap = snapshot_postgresql(engine, room.database_url, workdir)
            db_name = PG_FILE
        entries: list[tuple[Path, str]] = [(snap.file, db_name)]
        entries += [(p, f"{NEWSROOM_PREFIX}/{n}") for p, n in newsroom_files(room)]
        blobs = list(blob_files(room.blobs))
        entries += [(p, f"{BLOBS_PREFIX}/{n[:2]}/{n}") for p, n in blobs]
        partial = workdir / "archive.tar.gz"
        try:
            with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
                # Each file is hashed as it is archived: a file edited meanwhile is listed as stored.
                files = {name: _add_hashing(tar, path, name) for path, name in entries}
                manifest = _manifest(now, room, snap, db_name, len(blobs), files)
                _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
            os.replace(partial, archive)
        except OSError as exc:
            raise BackupError(f"写入备份失败 / could not write {archive}: {exc}") from None
    return BackupReport(archive, file_sha256(archive), manifest)


def _manifest(
    now: datetime, room: Newsroom, snap: Snapshot, db_name: str, blobs: int, files: dict[str, str]
) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "newsroom": room.settings.newsroom.name,
        "database": {
            "kind": snap.kind,
            "file": db_name,
            "schema_head": snap.schema_head,
            "source_schema": snap.source_schema,
        },
        "audit": {"events": snap.audit_events, "head_hash": snap.audit_head},
        "blobs": blobs,
        "files": files,
    }
    manifest["digest"] = manifest_digest(manifest)
    return manifest


class _HashingReader:
    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1, /) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add_hashing(tar: tarfile.TarFile, path: Path, name: str) -> str:
    with path.open("rb") as handle:
        info = tar.gettarinfo(arcname=name, fileobj=handle)
        reader = _HashingReader(handle)
        tar.addfile(info, reader)
    return reader.digest.hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


# -- restore ------------------------------------------------------------------------------------------
def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"档案中有不安全的路径 / the archive holds an unsafe path: {name!r}")
    return path


def _copy_hashing(source: IO[bytes], target: Path) -> str:
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _unpack(archive: Path, staging: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Every file of the archive into `staging`, with its sha256; the manifest parsed."""
    if not archive.is_file():
        raise BackupError(f"备份档案不存在 / no backup archive at {archive}")
    hashes: dict[str, str] = {}
    manifest: dict[str, Any] | None = None
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                name = _safe_name(member.name).as_posix()
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BackupError(f"档案中有非普通文件 / the archive holds a link or device: {name!r}")
                handle = tar.extractfile(member)
                if handle is None:
                    raise BackupError(f"档案条目无法读取 / cannot read {name!r} from the archive")
                if name == MANIFEST:
                    try:
                        manifest = json.loads(handle.read())
                    except ValueError:
                        raise BackupError("清单不是 JSON / manifest.json is not valid JSON") from None
                    continue
                hashes[name] = _copy_hashing(handle, staging / name)
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise BackupError(f"不是有效的备份档案 / {archive} is not a valid backup archive: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"档案中没有备份清单 / {archive} holds no publisher backup manifest")
    return manifest, hashes


# Every field restore reads, with its type: a manifest that lacks one is named, not a KeyError.
SHAPE: dict[tuple[str, ...], type | tuple[type, ...]] = {
    ("created",): str,
    ("files",): dict,
    ("blobs",): int,
    ("database", "kind"): str,
    ("database", "file"): str,
    ("database", "schema_head"): (str, type(None)),
    ("audit", "events"): int,
    ("audit", "head_hash"): str,
}


def _check_shape(manifest: dict[str, Any]) -> None:
    for path, kind in SHAPE.items():
        value: Any = manifest
        for key in path:
            value = value.get(key, KeyError) if isinstance(value, dict) else KeyError
        if value is KeyError or not isinstance(value, kind):
            field = ".".join(path)
            raise BackupError(f"备份清单缺少或写错字段 / the manifest lacks a valid {field!r}")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in manifest["files"].items()):
        raise BackupError("备份清单的文件表无效 / the manifest's 'files' must map names to sha256 hashes")


def check_manifest(manifest: dict[str, Any], hashes: dict[str, str]) -> None:
    """The manifest is intact and every file in the archive is exactly the one it lists."""
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"备份格式版本 {manifest.get('format_version')} 不受支持 / backup format version "
            f"{manifest.get('format_version')} is not supported (this publisher reads {FORMAT_VERSION})"
        )
    if manifest.get("digest") != manifest_digest(manifest):
        raise BackupError("备份清单被改动 / the manifest was altered: its digest does not match its content")
    _check_shape(manifest)
    listed: dict[str, str] = manifest.get("files") or {}
    for name in sorted(set(listed) - set(hashes)):
        raise BackupError(f"档案缺少文件 / the archive is missing {name}, which the manifest lists")
    for name in sorted(set(hashes) - set(listed)):
        raise BackupError(f"档案中有清单未列的文件 / {name} is in the archive but not in the manifest")
    for name in sorted(listed):
        if listed[name] != hashes[name]:
            raise BackupError(
                f"文件哈希不符 / hash mismatch for {name}: the manifest says {listed[name][:12]}…, "
                f"the file is {hashes[name][:12]}…"
            )
        if name.startswith(BLOBS_PREFIX + "/"):
            blob = PurePosixPath(name).name
            if not SHA256.match(blob) or blob != hashes[name]:
                raise BackupError(
                    f"素材哈希不符 / blob {name} does not hash to its name (it is {hashes[name][:12]}…)"
                )
    database = manifest.get("database") or {}
    if database.get("kind") not in ("sqlite", "postgresql") or database.get("file") not in listed:
        raise BackupError("备份清单缺少数据库 / the manifest names no database snapshot")


def _empty_target(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(
            f"目标文件夹不是空的 / the target {target} is not an empty folder: restore into a new or empty folder"
        )


def _has_tables(engine: Engine) -> bool:
    return bool(inspect(engine).get_table_names())


def restore(archive: Path, target: Path) -> RestoreReport:
    """Restore `archive` into the empty folder `target` and the empty database it names.

    The database is the one the restored settings name (`PUBLISHER_DATABASE_URL` overrides it, as
    for every command); its kind must be the backup's."""
    target = target.resolve()
    _empty_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    created = not target.exists()
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=target.parent))
    written: list[Path] = []
    loaded: Engine | None = None
    tables_ours = False  # PostgreSQL: the tables in the target schema are ours to drop on failure
    try:
        manifest, hashes = _unpack(archive, staging)
        check_manifest(manifest, hashes)
        database = manifest["database"]
        head = database.get("schema_head")
        if head is not None and head != migrate.HEAD and not _known_revision(head):
            raise BackupError(
                f"备份的数据库结构 {head} 比本程序新 / the backup's schema {head} is newer than this "
                f"publisher ({migrate.HEAD}): restore with the version that made it"
            )
        # The newsroom's files first: its settings say where the database and the blobs go.
        target.mkdir(parents=True, exist_ok=True)
        newsroom_dir = staging / NEWSROOM_PREFIX
        if newsroom_dir.is_dir():
            for item in newsroom_dir.iterdir():
                os.replace(item, target / item.name)
                written.append(target / item.name)
        room = Newsroom(target)
        blobs = room.blobs
        blob_count = 0
        blob_dir = staging / BLOBS_PREFIX
        if blob_dir.is_dir():
            blobs.root.mkdir(parents=True, exist_ok=True)
            written.append(blobs.root)
            for path in sorted(blob_dir.glob("??/*")):
                blobs.path(path.name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, blobs.path(path.name))
                blob_count += 1
        url = room.database_url
        kind = "sqlite" if _sqlite_path(url) is not None else "postgresql"
        if kind != database["kind"]:
            raise BackupError(
                f"备份的数据库是 {database['kind']}，目标是 {kind} / the backup holds a {database['kind']} "
                f"database but the target is {kind}: set PUBLISHER_DATABASE_URL to an empty {database['kind']} database"
            )
        snapshot = staging / database["file"]
        if kind == "sqlite":
            _load_sqlite(snapshot, url, written)
            loaded = make_engine(url)
        else:
            loaded = make_engine(url)
            if _has_tables(loaded):
                raise BackupError(
                    "目标数据库不是空的 / the target database is not empty (its schema has tables): "
                    "restore into an empty one"
                )
            tables_ours = True
            _load_postgresql(loaded, snapshot, head)
        _verify_loaded(loaded, manifest, blobs)
        return RestoreReport(target, url, manifest, len(hashes), blob_count, int(manifest["audit"]["events"]))
    except BaseException:
        if loaded is not None:
            if tables_ours:
                _drop_tables(loaded)
            loaded.dispose()
            loaded = None
        if created:
            shutil.rmtree(target, ignore_errors=True)
        else:
            for path in written:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        raise
    finally:
        if loaded is not None:
            loaded.dispose()
        shutil.rmtree(staging, ignore_errors=True)


def _known_revision(head: str) -> bool:
    from alembic.script import ScriptDirectory

    try:
        return ScriptDirectory.from_config(migrate.alembic_config()).get_revision(head) is not None
    except Exception:  # alembic raises its own family for an unknown or malformed id
        return False


def _load_sqlite(snapshot: Path, url: str, written: list[Path]) -> None:
    path = _sqlite_path(url)
    assert path is not None
    if path.exists() and path.stat().st_size > 0:
        raise BackupError(
            f"目标数据库不是空的 / the target database {path} is not empty: restore into a new one"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(snapshot, path)
    written += [path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))]


def _load_postgresql(engine: Engine, snapshot: Path, head: str | None) -> None:
    # Our migrations make the tables exactly as at the backup's head, in whatever schema the URL
    # selects; the dump supplies the rows.
    from alembic import command

    config = migrate.alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, head or "head")
    blocks, sequences = _read_dump(snapshot)
    with engine.begin() as conn:
        known = _dependency_order(conn)
        unknown = sorted(set(blocks) - set(known))
        if unknown:
            raise BackupError(
                f"转储中有未知的表 / the dump holds rows of unknown tables: {', '.join(unknown)}"
            )
        order = [t for t in known if t in blocks]
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            # A migration may seed rows (0012: the engine's account); the dump holds them as they
            # were at backup time, so the seeded copies make way (children first).
            for table in reversed(order):
                if table != "alembic_version":
                    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
                    seeded = cursor.fetchone()
                    if seeded is not None and seeded[0]:
                        cursor.execute(f"DELETE FROM {table}")
            for table in order:
                columns, data = blocks[table]
                if table == "alembic_version":
                    continue  # written by the migrations above
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    copy.write(data)
            for name, value, called in sequences:
                cursor.execute(f"SELECT setval('{name}', {value}, {called})")


def _dependency_order(conn: Connection) -> list[str]:
    return [name for name, _ in inspect(conn).get_sorted_table_and_fkc_names() if name is not None]


def _read_dump(path: Path) -> tuple[dict[str, tuple[str, bytes]], list[tuple[str, int, str]]]:
    """The rows (COPY blocks, text format, untouched) and sequence positions of a plain pg_dump."""
    blocks: dict[str, tuple[str, bytes]] = {}
    sequences: list[tuple[str, int, str]] = []
    with path.open("rb") as handle:
        lines = iter(handle)
        for raw in lines:
            line = raw.decode("utf-8").rstrip("\n")
            if match := COPY_LINE.match(line):
                data = bytearray()
                for row in lines:
                    if row == b"\\.\n":
                        break
                    data += row
                else:
                    raise BackupError(f"数据库转储不完整 / the dump ends inside the rows of {match[1]}")
                blocks[match[1].strip('"')] = (match[2], bytes(data))
            elif line.startswith("COPY "):
                raise BackupError(
                    f"数据库转储中有无法读取的行 / the dump has a COPY line this publisher cannot read: {line[:120]}"
                )
            elif match := SETVAL_LINE.match(line):
                sequences.append((match[1], int(match[2]), match[3]))
    return blocks, sequences


def _drop_tables(engine: Engine) -> None:
    """Undo a failed load: the migrations take down what they made (tables, trigger functions)."""
    from alembic import command

    config = migrate.alembic_config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    except Exception:  # a half-made schema the migrations cannot walk back: drop what is there
        with suppress(Exception), engine.begin() as conn:
            for name in inspect(conn).get_table_names():
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))


def _verify_loaded(engine: Engine, manifest: dict[str, Any], blobs: BlobStore) -> None:
    """The restored database is the one the manifest describes, its chain intact, its blobs here."""
    head = manifest["database"].get("schema_head")
    if migrate.current_revision(engine) != head:
        raise BackupError(
            f"数据库结构与清单不符 / the restored schema is {migrate.current_revision(engine)}, "
            f"the manifest says {head}"
        )
    with read_session(engine) as session:
        result = audit.verify(session)
        rows = session.execute(text("SELECT DISTINCT sha256 FROM revision_asset")).scalars().all()
        stored = session.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).all()
    if not result.ok:
        first = result.breaks[0]
        raise BackupError(
            f"审计链校验失败 / the audit chain does not verify: event {first.seq}: {first.reason}"
        )
    events, head_hash = _audit_head(list(stored))
    expected = manifest["audit"]
    if (events, head_hash) != (expected["events"], expected["head_hash"]):
        raise BackupError(
            f"审计链头与清单不符 / the audit chain ends at event {events} ({head_hash[:12]}…), "
            f"the manifest says {expected['events']} ({str(expected['head_hash'])[:12]}…)"
        )
    missing = [sha for sha in rows if not blobs.has(sha)]
    if missing:
        raise BackupError(
            f"缺少 {len(missing)} 个素材 / {len(missing)} blob(s) the database names are not in the "
            f"archive, e.g. {missing[0][:12]}…"
        )
