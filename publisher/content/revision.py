"""A revision: the immutable snapshot of an article whose sha256 is its identity."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from publisher.content.assets import AssetUse

# Bump when the snapshot's shape changes, so old and new hashes can never collide silently.
SNAPSHOT_FORMAT = 1


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def normalise_body(body: str) -> str:
    lines = [line.rstrip() for line in body.split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


@dataclass(frozen=True, slots=True)
class Snapshot:
    meta: dict[str, Any]
    body: str
    assets: tuple[AssetUse, ...]

    def asset_digest(self) -> list[dict[str, str]]:
        return [{"role": u.role, "ref": u.ref, "sha256": u.asset.sha256} for u in self.assets]

    @property
    def revision_id(self) -> str:
        payload = canonical_json(
            {"format": SNAPSHOT_FORMAT, "meta": self.meta, "body": self.body, "assets": self.asset_digest()}
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
