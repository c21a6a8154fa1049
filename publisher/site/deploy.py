"""Atomic static deploys: build a release aside, then swap the `public/` link to it in one rename.

Layout under the channel's state folder (`var/site/<channel>/`):

    releases/<id>/          one complete site; `media` inside links to the shared pool
    releases/<id>.json      its manifest: every file's sha256 and the key it was produced from
    media/                  content-addressed image derivatives, shared by releases
    public -> var/site/<channel>/releases/<id>     (the newsroom's output folder is this link)

A new release starts as a hard-link copy of the live one, so a file whose bytes did not change is
the same inode before and after; changed files are written beside and renamed over their link,
which never touches the live release. A build that fails removes its staging folder and the live
site stays exactly as it was.

Besides the live release and the previous one (kept for a rollback), one older release is kept as
a spare: the next build renames it into its staging folder and, by the two manifests, relinks only
the files whose bytes differ from the live release's, instead of linking every file of the site
again (and deleting the same number of links when pruning). Only releases whose manifest is
`exact` (their folder holds exactly the manifest's files and the media link) are recycled.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any

KEEP_RELEASES = 2
MEDIA = "media"


@dataclass
class Manifest:
    files: dict[str, list[str]] = field(default_factory=dict)  # path -> [sha256, key]
    published: dict[str, str] = field(default_factory=dict)  # slug -> first revision published
    media: list[str] = field(default_factory=list)
    exact: bool = False  # the release folder holds exactly `files` (and the media link)
    # slug -> the revision this release shows: what an inspection holds the live page to.
    shown: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        # No indent: json's C encoder only runs without one (ten times faster for 1,000s of files).
        return json.dumps(
            {
                "files": self.files,
                "published": self.published,
                "media": self.media,
                "exact": self.exact,
                "shown": self.shown,
            },
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data: dict[str, Any] = json.loads(text)
        return cls(
            files=data.get("files", {}),
            published=data.get("published", {}),
            media=data.get("media", []),
            exact=bool(data.get("exact", False)),
            shown=data.get("shown", {}),
        )


# Manifests this process read or wrote, by path, with the identity of the file they came from
# (inode, size, modification time): a manifest file is written once, under its release's unique
# id, so a file with the same identity holds the same manifest. A few are enough (the live one,
# the spare's, of each site built).
_manifests: dict[str, tuple[tuple[int, int, int], Manifest]] = {}
_KEEP_MANIFESTS = 8


def _identity(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _remember(path: Path, manifest: Manifest) -> None:
    if len(_manifests) >= _KEEP_MANIFESTS:
        _manifests.pop(next(iter(_manifests)))
    _manifests[str(path)] = (_identity(path.stat()), manifest)


def write_file(path: Path, data: bytes) -> None:
    """Write beside, then rename: readers and other hard links never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_staged(path: Path, data: bytes, replace: bool) -> None:
    """Write into a private staging folder whose directories exist: a file that was hard-linked
    from the live release is unlinked first, so the live inode is never written to."""
    if replace:
        path.unlink(missing_ok=True)
    with open(path, "xb") as handle:
        handle.write(data)


def link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


class Releases:
    def __init__(self, state_dir: Path, public: Path) -> None:
        self.state_dir = state_dir
        self.public = public
        self.releases = state_dir / "releases"
        self.media = state_dir / MEDIA
        self.exact = False  # set by stage()

    def current(self) -> Path | None:
        """The live release, adopting a plain `public/` folder left by something else."""
        if self.public.is_symlink():
            target = self.public.resolve()
            return target if target.is_dir() else None
        if self.public.is_dir():
            self.releases.mkdir(parents=True, exist_ok=True)
            adopted = self.releases / "adopted"
            shutil.rmtree(adopted, ignore_errors=True)
            os.replace(self.public, adopted)
            self._point(adopted)
            return adopted
        return None

    def manifest(self, release: Path | None) -> Manifest:
        """The release's manifest. Read-only: the one this process wrote or read last time, while
        its file is that very file still (a build reads the live one and the spare's, which are
        the manifests of the builds before it)."""
        if release is None:
            return Manifest()
        path = release.with_name(release.name + ".json")
        try:
            stat = path.stat()
        except FileNotFoundError:
            return Manifest()
        if not S_ISREG(stat.st_mode):
            return Manifest()
        known = _manifests.get(str(path))
        if known is not None and known[0] == _identity(stat):
            return known[1]
        manifest = Manifest.from_json(path.read_text(encoding="utf-8"))
        _remember(path, manifest)
        return manifest

    def _releases(self) -> list[Path]:
        """Every committed release, oldest first."""
        if not self.releases.is_dir():
            return []
        return sorted(
            (p for p in self.releases.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime_ns,
        )

    def stage(self, current: Path | None, live: Manifest | None = None) -> Path:
        """A private folder that starts as an exact copy of the live release (by hard links).

        Sets `exact`: whether the staging folder holds exactly the live manifest's files."""
        self.releases.mkdir(parents=True, exist_ok=True)
        self.media.mkdir(parents=True, exist_ok=True)
        self.exact = current is None
        staging = Path(tempfile.mkdtemp(dir=self.releases, prefix=".staging-"))
        try:
            if (
                current is not None
                and live is not None
                and live.exact
                and self._recycle(current, live, staging)
            ):
                self.exact = True
                return staging
            self._copy(current, live, staging)
        except BaseException:
            self.discard(staging)
            raise
        return staging

    def _copy(self, current: Path | None, live: Manifest | None, staging: Path) -> None:
        if current is not None:
            copied: set[str] = set()
            for folder, dirs, files in os.walk(current):
                rel = os.path.relpath(folder, current)
                if rel == ".":
                    dirs[:] = [d for d in dirs if d != MEDIA]
                    files = [f for f in files if f != MEDIA]
                out = staging if rel == "." else staging / rel
                for d in dirs:
                    (out / d).mkdir()
                for name in files:
                    link_or_copy(Path(folder) / name, out / name)
                    copied.add(name if rel == "." else f"{rel}/{name}")
            # A release left by an older version (or adopted) becomes exact once its files check out.
            self.exact = live is not None and copied == live.files.keys()
        os.symlink(os.path.join("..", "..", MEDIA), staging / MEDIA)

    def _recycle(self, current: Path, live: Manifest, staging: Path) -> bool:
        """Turn the spare release into a copy of `current`, relinking only what differs."""
        older = [p for p in self._releases() if p != current]
        if len(older) < KEEP_RELEASES:
            return False  # no spare beyond the releases kept for a rollback
        spare = older[0]
        spare_manifest = self.manifest(spare)
        if not spare_manifest.exact or not (spare / MEDIA).is_symlink():
            return False
        # The spare leaves the list of releases in one rename (over the empty staging folder);
        # its manifest goes with it.
        os.replace(spare, staging)
        spare.with_name(spare.name + ".json").unlink(missing_ok=True)
        old = spare_manifest.files
        for path, entry in live.files.items():
            before = old.get(path)
            if before is not None and before[0] == entry[0]:
                continue  # same bytes in both releases
            target = staging / path
            if before is not None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
            link_or_copy(current / path, target)
        for path in old.keys() - live.files.keys():
            target = staging / path
            target.unlink(missing_ok=True)
            for parent in target.parents:
                if parent == staging:
                    break
                try:
                    parent.rmdir()  # a folder that no file of the live release is in
                except OSError:
                    break
        return True

    def discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def commit(self, staging: Path, manifest: Manifest, release_id: str) -> Path:
        final = self.releases / release_id
        written = final.with_name(final.name + ".json")
        written.write_text(manifest.to_json(), encoding="utf-8")
        _remember(written, manifest)
        os.utime(staging)  # releases are ordered by mtime, and a recycled folder keeps an old one
        os.replace(staging, final)
        self._point(final)
        self._prune(final, manifest)
        return final

    def _point(self, release: Path) -> None:
        self.public.parent.mkdir(parents=True, exist_ok=True)
        link = self.public.with_name(f".{self.public.name}.swap-{os.getpid()}")
        link.unlink(missing_ok=True)
        os.symlink(os.path.relpath(release, self.public.parent), link)
        # rename(2) over the old link: a reader sees the old site or the new one, never neither.
        os.replace(link, self.public)

    def _prune(self, live: Path, manifest: Manifest) -> None:
        releases = self._releases()
        # The live release, KEEP_RELEASES - 1 before it, and one spare for the next build to recycle.
        keep = [*[p for p in releases if p != live][-KEEP_RELEASES:], live]
        for release in releases:
            if release in keep:
                continue
            shutil.rmtree(release, ignore_errors=True)
            release.with_name(release.name + ".json").unlink(missing_ok=True)
        # Only what the live site shows stays served: a retracted article's images go with it.
        wanted = set(manifest.media)
        for entry in os.scandir(self.media):
            if entry.name not in wanted:
                os.unlink(entry.path)
