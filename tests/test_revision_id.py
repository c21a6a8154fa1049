"""A revision's id is the sha256 of the canonical JSON of its whole snapshot, however it is spelled."""

from __future__ import annotations

import hashlib
import json

from publisher.content.assets import Asset, AssetUse
from publisher.content.revision import SNAPSHOT_FORMAT, Snapshot, canonical_json


def whole_payload_id(snapshot: Snapshot) -> str:
    payload = canonical_json(
        {
            "format": SNAPSHOT_FORMAT,
            "meta": snapshot.meta,
            "body": snapshot.body,
            "assets": snapshot.asset_digest(),
        }
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def test_the_revision_id_spelled_from_its_parts_is_the_id_of_the_whole_snapshot() -> None:
    image = Asset("content/a.png", "f" * 64, 10, 4, 3, "PNG", 1)
    snapshots = [
        Snapshot(meta={}, body="\n", assets=()),
        Snapshot(
            meta={
                "title": '标题 "引号" \\ 与\t制表符',
                "tags": ["甲", "乙"],
                "z": None,
                "a": {"nested": [1, 2.5, True]},
                "emoji": "\U0001f600\u2028",
            },
            body="正文 </script> \x00 \u3000\n第二行\n",
            assets=(AssetUse("a.png", "cover", image), AssetUse("图/b.png", "inline", image)),
        ),
    ]
    for snapshot in snapshots:
        assert snapshot.revision_id == whole_payload_id(snapshot)
        assert snapshot.revision_id_with(canonical_json(snapshot.meta)) == whole_payload_id(snapshot)


def test_canonical_json_is_json_dumps_with_sorted_keys_compact_separators_and_unescaped_text() -> None:
    values: list[object] = [
        None,
        True,
        0,
        -1.5,
        float("nan"),
        "",
        '标题 "引号" \\ 与\t制表符 </script> \x00 \u2028 \U0001f600',
        [],
        {},
        {"b": [1, {"d": None, "c": "丙"}], "a": (2, 3)},
        [{"z": 1, "y": {"x": []}}, "甲"],
    ]
    for value in values:
        expected = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        assert canonical_json(value) == expected
