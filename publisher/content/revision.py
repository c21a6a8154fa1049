"""A revision: the immutable snapshot of an article whose sha256 is its identity."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from publisher.content.assets import AssetUse

# Bump when the snapshot's shape changes, so old and new hashes can never collide silently.
SNAPSHOT_FORMAT = 1


# One encoder for every call: `json.dumps` with these arguments builds this very encoder anew
# each time (a few microseconds, and ingest encodes several values per article and audit event).
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))`."""
    return _CANONICAL.encode(value)


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
        return self.revision_id_with(canonical_json(self.meta))

    def revision_id_with(self, meta_json: str) -> str:
        """The revision id, given `canonical_json(self.meta)` already encoded (ingest stores it too).

        The payload is `canonical_json({"format", "meta", "body", "assets"})`, spelled from its
        parts: keys in sorted order, each value encoded alone, which is byte for byte what the
        encoder writes for the whole dict, without encoding the meta a second time.
        """
        payload = (
            f'{{"assets":{canonical_json(self.asset_digest())},"body":{canonical_json(self.body)},'
            f'"format":{canonical_json(SNAPSHOT_FORMAT)},"meta":{meta_json}}}'
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
