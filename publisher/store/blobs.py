"""Content-addressed files under the newsroom's var/ folder: the bytes a revision's hashes name."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = str(root)
        # Folders this process has made or found: a first ingest puts thousands of blobs, and
        # asking for each one's folder again (and building Paths) cost a third of putting it.
        self._folders: set[str] = set()

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, sha256: str, data: bytes) -> Path:
        folder = os.path.join(self._root, sha256[:2])
        target = os.path.join(folder, sha256)
        if os.path.isfile(target):
            return Path(target)
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        # Write aside then rename: a reader never sees half a blob, and racing writers agree.
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        except FileNotFoundError:  # the folder was removed since: make it again
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Path(target)

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()
