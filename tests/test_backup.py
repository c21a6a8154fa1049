"""`publisher backup` and `publisher restore`: a restored newsroom rebuilds the same site byte for
byte, on SQLite and PostgreSQL, and a damaged archive or a used target is refused by name."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from publisher.backup import manifest_digest
from publisher.cli import app
from publisher.engine import scheduling
from publisher.engine.worker import DeliveryWorker
from publisher.newsroom import Newsroom
from publisher.review.service import ReviewService
from tests.conftest import PG_URL
from tests.pg_schemas import url_of
from tests.review_helpers import seed_users, sign_through

runner = CliRunner()


@pytest.fixture
def empty_db_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as `db_url`: a new file, or a fresh PostgreSQL schema."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    schema = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield url_of(PG_URL, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def published_newsroom(room: Newsroom) -> None:
    """Two approved articles (one with a cover and an inline image) released on the website."""
    assert runner.invoke(app, ["ingest"], env={"PUBLISHER_NEWSROOM": str(room.root)}).exit_code == 0
    seed_users(room)
    review = ReviewService(room)
    for slug in ("article-1", "article-2"):
        review.submit(slug, "zhouwb")
        sign_through(room, review, slug)
        scheduling.schedule(room, slug, ["website"], datetime.now(UTC), "zhouwb")
    review.submit("article-3", "zhouwb")  # in review: must stay off the site after a restore too
    assert DeliveryWorker(room).run_once() == 2
    room.close()


def site_files(root: Path) -> dict[str, bytes]:
    """Every file of the newsroom's public/ (a link to the live release, media linked inside)."""
    public = root / "public"
    files: dict[str, bytes] = {}
    for folder, _dirs, names in os.walk(public, followlinks=True):
        for name in names:
            path = Path(folder) / name
            files[path.relative_to(public).as_posix()] = path.read_bytes()
    return files


def build(root: Path, db_url: str | None) -> None:
    env = {"PUBLISHER_NEWSROOM": str(root), "PUBLISHER_DATABASE_URL": db_url}
    result = runner.invoke(app, ["build", "all", "--json"], env=env)
    assert result.exit_code == 0, result.output


def make_backup(room: Newsroom, db_url: str, dest: Path) -> Path:
    env = {"PUBLISHER_NEWSROOM": str(room.root), "PUBLISHER_DATABASE_URL": db_url}
    result = runner.invoke(app, ["backup", str(dest), "--json"], env=env)
    assert result.exit_code == 0, result.output
    return Path(json.loads(result.stdout)["archive"])


def restore(archive: Path, target: Path, db_url: str | None) -> tuple[int, str]:
    result = runner.invoke(
        app, ["restore", str(archive), str(target)], env={"PUBLISHER_DATABASE_URL": db_url}
    )
    return result.exit_code, result.stdout + result.stderr


def test_a_restored_newsroom_rebuilds_the_same_site_byte_for_byte(
    room: Newsroom, db_url: str, empty_db_url: str, tmp_path: Path
) -> None:
    published_newsroom(room)
    build(room.root, db_url)
    original = site_files(room.root)
    assert "articles/article-1.html" in original and "articles/article-3.html" not in original
    assert any(name.startswith("media/") for name in original)

    archive = make_backup(room, db_url, tmp_path)
    members = read_members(archive)
    manifest = json.loads(members["manifest.json"])
    names = set(members)
    assert manifest["database"]["kind"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
    assert manifest["database"]["schema_head"] and manifest["audit"]["events"] > 0
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert "newsroom/publisher.toml" in names and not any(n.startswith("newsroom/public") for n in names)

    target = tmp_path / "restored"
    code, output = restore(archive, target, empty_db_url)
    assert code == 0, output
    assert "审计链" in output and "audit chain verifies" in output
    verified = runner.invoke(
        app,
        ["audit", "verify", "--json"],
        env={"PUBLISHER_NEWSROOM": str(target), "PUBLISHER_DATABASE_URL": empty_db_url},
    )
    assert json.loads(verified.stdout)["events"] == manifest["audit"]["events"]

    build(target, empty_db_url)
    assert site_files(target) == original

    # The database the restore would write into is not empty: refused, and the folder left as it was.
    again = tmp_path / "again"
    code, output = restore(archive, again, db_url)
    assert code == 1 and "the target database" in output and "is not empty" in output
    assert not again.exists()


def read_members(archive: Path) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            handle = tar.extractfile(member)
            if handle is not None:
                members[member.name] = handle.read()
    return members


def rewrite(archive: Path, out: Path, change: Callable[[str, bytes, dict[str, bytes]], bytes]) -> Path:
    """A copy of the archive with each member passed through `change(name, data, all members)`."""
    members = read_members(archive)
    with tarfile.open(out, "w:gz") as tar:
        for name, data in members.items():
            data = change(name, data, members)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def resealed(manifest: dict[str, Any], **files: bytes) -> bytes:
    """The manifest with new hashes for `files` and a recomputed digest: a careful forger's edit."""
    listed = dict(manifest["files"])
    for name, data in files.items():
        listed[name] = hashlib.sha256(data).hexdigest()
    body = {**manifest, "files": listed}
    body["digest"] = manifest_digest(body)
    return json.dumps(body).encode("utf-8")


@pytest.fixture
def sqlite_backup(newsroom_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", url)
    room = Newsroom(newsroom_dir)
    published_newsroom(room)
    return make_backup(room, url, tmp_path)


def first_blob(members: dict[str, bytes]) -> str:
    return next(n for n in sorted(members) if n.startswith("blobs/"))


def test_a_tampered_blob_is_refused_by_name_and_nothing_is_left_behind(
    sqlite_backup: Path, tmp_path: Path
) -> None:
    def flip(name: str, data: bytes, members: dict[str, bytes]) -> bytes:
        return data + b"x" if name == first_blob(members) else data

    bad = rewrite(sqlite_backup, tmp_path / "blob.tar.gz", flip)
    target = tmp_path / "t1"
    code, output = restore(bad, target, f"sqlite:///{tmp_path / 'r1.db'}")
    assert code == 1 and "hash mismatch for blobs/" in output and "Traceback" not in output
    assert not target.exists() and not (tmp_path / "r1.db").exists()

    # The same blob changed with the manifest resealed to match: the blob no longer hashes to its name.
    def forge(name: str, data: bytes, members: dict[str, bytes]) -> bytes:
        blob = first_blob(members)
        if name == blob:
            return data + b"x"
        if name == "manifest.json":
            return resealed(json.loads(data), **{blob: members[blob] + b"x"})
        return data

    forged = rewrite(sqlite_backup, tmp_path / "forged.tar.gz", forge)
    code, output = restore(forged, tmp_path / "t2", f"sqlite:///{tmp_path / 'r2.db'}")
    assert code == 1 and "does not hash to its name" in output and not (tmp_path / "t2").exists()


def test_a_tampered_manifest_or_audit_chain_is_refused(sqlite_backup: Path, tmp_path: Path) -> None:
    def edit_head(name: str, data: bytes, members: dict[str, bytes]) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["audit"]["head_hash"] = "0" * 64
        return json.dumps(manifest).encode("utf-8")

    code, output = restore(rewrite(sqlite_backup, tmp_path / "m.tar.gz", edit_head), tmp_path / "t1", None)
    assert code == 1 and "manifest was altered" in output and not (tmp_path / "t1").exists()

    def reseal_head(name: str, data: bytes, members: dict[str, bytes]) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["audit"]["head_hash"] = "0" * 64
        return resealed(manifest)

    code, output = restore(rewrite(sqlite_backup, tmp_path / "h.tar.gz", reseal_head), tmp_path / "t2", None)
    assert code == 1 and "the audit chain ends at event" in output and not (tmp_path / "t2").exists()

    def drop_audit(name: str, data: bytes, members: dict[str, bytes]) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        del manifest["audit"]
        return resealed(manifest)

    code, output = restore(rewrite(sqlite_backup, tmp_path / "d.tar.gz", drop_audit), tmp_path / "t4", None)
    assert code == 1 and "the manifest lacks a valid 'audit.events'" in output and "Traceback" not in output

    # An audit event edited inside the database snapshot, every hash in the manifest made to match.
    def edit_event(name: str, data: bytes, members: dict[str, bytes]) -> bytes:
        if name not in ("database/publisher.db", "manifest.json"):
            return data
        db = tmp_path / "edit.db"
        db.write_bytes(members["database/publisher.db"])
        with sqlite3.connect(db) as conn:
            # The table's append-only trigger is stepped around, as someone with the file could.
            triggers = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'"
            ).fetchall()
            for trigger, _sql in triggers:
                conn.execute(f"DROP TRIGGER {trigger}")
            conn.execute("UPDATE audit_event SET actor = 'someone-else' WHERE seq = 1")
            for _trigger, sql in triggers:
                conn.execute(sql)
        conn.close()
        edited = db.read_bytes()
        if name == "database/publisher.db":
            return edited
        return resealed(json.loads(data), **{"database/publisher.db": edited})

    code, output = restore(rewrite(sqlite_backup, tmp_path / "a.tar.gz", edit_event), tmp_path / "t3", None)
    assert code == 1 and "audit chain does not verify" in output and not (tmp_path / "t3").exists()


def test_restore_refuses_a_non_empty_target_and_names_a_bad_archive(
    sqlite_backup: Path, tmp_path: Path
) -> None:
    target = tmp_path / "used"
    target.mkdir()
    (target / "notes.txt").write_text("留着", encoding="utf-8")
    code, output = restore(sqlite_backup, target, None)
    assert code == 1 and "not an empty folder" in output
    assert [p.name for p in target.iterdir()] == ["notes.txt"]

    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive at all")
    code, output = restore(junk, tmp_path / "t1", None)
    assert code == 1 and "not a valid backup archive" in output and "Traceback" not in output
    code, output = restore(tmp_path / "missing.tar.gz", tmp_path / "t2", None)
    assert code == 1 and "no backup archive" in output
    assert not (tmp_path / "t1").exists() and not (tmp_path / "t2").exists()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_backup_without_pg_dump_says_what_to_install(
    room: Newsroom, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    room.engine  # noqa: B018 - a migrated database, as any newsroom in use
    room.close()
    monkeypatch.setenv("PATH", str(tmp_path))
    env = {"PUBLISHER_NEWSROOM": str(room.root), "PUBLISHER_DATABASE_URL": db_url}
    result = runner.invoke(app, ["backup", str(tmp_path)], env=env)
    assert result.exit_code == 1 and "pg_dump was not found on PATH" in result.stderr
    assert "postgresql-client" in result.stderr and list(tmp_path.glob("*.tar.gz")) == []


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_postgresql_restore_that_fails_verification_leaves_the_target_schema_empty(
    room: Newsroom, db_url: str, empty_db_url: str, tmp_path: Path
) -> None:
    published_newsroom(room)
    archive = make_backup(room, db_url, tmp_path)

    def reseal_head(name: str, data: bytes, members: dict[str, bytes]) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["audit"]["events"] += 1
        return resealed(manifest)

    bad = rewrite(archive, tmp_path / "bad.tar.gz", reseal_head)
    code, output = restore(bad, tmp_path / "t", empty_db_url)
    assert code == 1 and "the audit chain ends at event" in output and not (tmp_path / "t").exists()
    engine = create_engine(empty_db_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    # The same schema takes the intact archive afterwards.
    code, output = restore(archive, tmp_path / "t", empty_db_url)
    assert code == 0, output
