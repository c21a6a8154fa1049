"""A newsroom is a folder: settings, content, schedules, channels, and its runtime state under var/.

The channel files and the taxonomy are read, and their modules imported, when first asked for:
a command that lists the queue needs neither (their pydantic models cost a fresh process more
than the command's own work)."""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from publisher.config import NewsroomSettings, load_settings
from publisher.store import migrate
from publisher.store.blobs import BlobStore
from publisher.store.engine import make_engine

if TYPE_CHECKING:
    from publisher.channels.registry import ChannelSet
    from publisher.content.model import Taxonomy

SYSTEM_ACTOR = "system"


class Newsroom:
    def __init__(self, root: Path, settings: NewsroomSettings | None = None) -> None:
        self.root = root.resolve()
        self.settings = settings or load_settings(self.root)
        self._engine: Engine | None = None

    # -- folders ---------------------------------------------------------------------------------
    @property
    def content_dir(self) -> Path:
        return self.root / self.settings.paths.content

    @property
    def channels_dir(self) -> Path:
        return self.root / self.settings.paths.channels

    @property
    def schedules_dir(self) -> Path:
        return self.root / self.settings.paths.schedules

    @property
    def var_dir(self) -> Path:
        return self.root / self.settings.paths.var

    @cached_property
    def blobs(self) -> BlobStore:
        return BlobStore(self.var_dir / "blobs")

    # -- declarations ----------------------------------------------------------------------------
    @cached_property
    def channels(self) -> ChannelSet:
        from publisher.channels.registry import load_channels

        return load_channels(self.channels_dir, self.root)

    @cached_property
    def taxonomy(self) -> Taxonomy:
        from publisher.content.model import Taxonomy

        columns: dict[str, str] = {}
        for column in self.settings.columns:
            columns[column.key] = column.key
            columns[column.name] = column.key
        return Taxonomy(
            columns=columns,
            departments=frozenset(self.settings.departments),
            committees=frozenset(self.settings.committees),
            # A printed bulletin is a destination an article's `channels:` list may name too.
            channels=self.channels.names | self.bulletin_names,
        )

    @property
    def bulletin_names(self) -> frozenset[str]:
        """The printed bulletins declared in bulletins/ (their files' names; bulletin/ reads them)."""
        folder = self.root / self.settings.paths.bulletins
        return frozenset(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else frozenset()

    @cached_property
    def taxonomy_hash(self) -> str:
        """Changes whenever a declaration a front matter is checked against changes."""
        from publisher.content.revision import canonical_json

        t = self.taxonomy
        payload = canonical_json(
            [sorted(t.columns.items()), sorted(t.departments), sorted(t.committees), sorted(t.channels)]
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def column_name(self, key: str) -> str:
        column = self.settings.column(key)
        return column.name if column else key

    # -- store -----------------------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        if self.settings.database_url:
            return self.settings.database_url
        return f"sqlite:///{self.var_dir / 'publisher.db'}"

    @property
    def engine(self) -> Engine:
        """The database, migrated to the current schema on first use."""
        if self._engine is None:
            if self.database_url.startswith("sqlite:///"):
                self.var_dir.mkdir(parents=True, exist_ok=True)
            engine = make_engine(self.database_url)
            migrate.upgrade(engine)
            self._engine = engine
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
