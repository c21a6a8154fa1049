"""Read one article file into a validated snapshot, or into every problem it has."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from publisher.consultation.declare import clauses
from publisher.content.assets import (
    Asset,
    AssetError,
    AssetUse,
    Decoded,
    find_image_refs,
    inspect_image,
    resolve_ref,
)
from publisher.content.frontmatter import FrontMatter, FrontMatterError, parse
from publisher.content.model import ArticleMeta, Taxonomy
from publisher.content.record import ArticleRecord, RevisionColumns, asset_stamps
from publisher.content.revision import Snapshot, canonical_json, normalise_body
from publisher.content.slugs import slugify
from publisher.errors import Problem
from publisher.store.blobs import BlobStore
from publisher.tomlproblems import did_you_mean, keys_at


@dataclass(frozen=True, slots=True)
class LoadedArticle:
    source: str  # newsroom-relative path of the .md file
    source_sha256: str  # of the raw bytes, for the unchanged fast path
    source_stat: tuple[int, int]  # (size, mtime_ns) taken before the bytes were read
    slug: str
    slug_line: int | None
    meta: ArticleMeta
    snapshot: Snapshot

    @property
    def revision_id(self) -> str:
        return self.snapshot.revision_id

    def record(self) -> ArticleRecord:
        """The plain values ingest stores (the revision id computed once, here)."""
        meta, snapshot = self.meta, self.snapshot
        meta_json = canonical_json(snapshot.meta)
        return ArticleRecord(
            source=self.source,
            source_sha256=self.source_sha256,
            source_stat=self.source_stat,
            slug=self.slug,
            slug_line=self.slug_line,
            revision_id=snapshot.revision_id_with(meta_json),
            dated_at=meta.date.isoformat(),
            # As the canonical meta has them (the column's key, the committee or None).
            columns=RevisionColumns(
                snapshot.meta["title"],
                snapshot.meta["column"],
                snapshot.meta["kind"],
                snapshot.meta["department"],
                snapshot.meta.get("committee"),
                bool(snapshot.meta.get("sensitive", False)),
            ),
            body=snapshot.body,
            assets=snapshot.assets,
            meta_json=meta_json,
            assets_json=asset_stamps(snapshot.assets),
        )


@dataclass
class LoadContext:
    root: Path  # resolved newsroom folder
    taxonomy: Taxonomy
    # Where the bytes of every image hashed are kept, so a revision can be rendered after the file changes.
    blobs: BlobStore | None = None
    # Shared images are read and hashed once per run, and the same bytes decoded once.
    image_cache: dict[str, Asset | AssetError] = field(default_factory=dict)
    decoded: dict[str, Decoded | str] = field(default_factory=dict)
    # Each folder's real path, found once per run (see assets.resolve_ref).
    real_dirs: dict[str, str] = field(default_factory=dict)

    def image(self, target: str) -> Asset:
        cached = self.image_cache.get(target)
        if cached is None:
            try:
                cached, data = inspect_image(target, self.root, self.decoded)
                if self.blobs is not None:
                    self.blobs.put(cached.sha256, data)
            except AssetError as exc:
                cached = exc
            self.image_cache[target] = cached
        if isinstance(cached, AssetError):
            raise cached
        return cached


_MESSAGES = {
    "missing": "缺少必填字段 / required field is missing",
    "extra_forbidden": "未知字段 / unknown field (see docs/content-format.md)",
    "string_type": "应为文本 / should be text",
    "list_type": "应为列表 / should be a list",
    "bool_type": "应为 true 或 false / should be true or false",
    "bool_parsing": "应为 true 或 false / should be true or false",
    "int_type": "应为整数 / should be a whole number",
    "int_parsing": "应为整数 / should be a whole number",
    "int_from_float": "应为整数 / should be a whole number",
    "model_type": "应为键值映射 / should be a mapping of fields",
    "model_attributes_type": "应为键值映射 / should be a mapping of fields",
    "dict_type": "应为键值映射 / should be a mapping of fields",
    "datetime_type": "应为带时区的 ISO 8601 时间 / should be an ISO 8601 time with a UTC offset",
    "date_type": "应为日期 YYYY-MM-DD / should be a date YYYY-MM-DD",
}


def _reason(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(error["input"], choices) if isinstance(error["input"], str) else ""
        return f"取值无效 / invalid value {error['input']!r}; 可选 / expected {ctx.get('expected')}{hint}"
    if kind == "extra_forbidden" and error["loc"]:
        key = str(error["loc"][-1])
        return f"{_MESSAGES[kind]}{did_you_mean(key, keys_at(ArticleMeta, error['loc'][:-1]))}"
    if kind == "string_too_short":
        return "不能为空 / must not be empty"
    if kind == "too_short":
        return "至少需要一项 / needs at least one item"
    if kind in ("string_too_long", "too_long"):
        return f"过长 / too long (at most {ctx.get('max_length')})"
    if kind == "string_pattern_mismatch":
        return f"格式不符 / does not match the expected form {ctx.get('pattern')}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"数值过小 / must be at least {ctx.get('ge', ctx.get('gt'))}"
    message = _MESSAGES.get(kind)
    if message is None:
        return str(error["msg"])
    if kind != "missing" and kind != "extra_forbidden":
        return f"{message}; got {error['input']!r}"
    return message


def _validation_problems(exc: ValidationError, source: str, fm: FrontMatter) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        line = fm.line_of(loc) if loc else None
        if line is None:
            line = 1 if error["type"] == "missing" else fm.line_of(loc[:1])
        problems.append(
            Problem(source, _reason(error), field=".".join(str(p) for p in loc) or None, line=line)
        )
    return problems


def load_article(path: Path, ctx: LoadContext) -> LoadedArticle | list[Problem]:
    source = path.relative_to(ctx.root).as_posix()
    try:
        stat = path.stat()
        raw = path.read_bytes()
    except OSError as exc:
        return [Problem(source, f"无法读取文件 / cannot read file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [
            Problem(
                source,
                f"文件不是 UTF-8 编码（第 {exc.start} 字节） / file is not UTF-8 (byte {exc.start})",
                line=line,
            )
        ]
    try:
        fm = parse(text)
    except FrontMatterError as exc:
        return [Problem(source, exc.reason, line=exc.line)]

    problems: list[Problem] = []
    meta: ArticleMeta | None = None
    try:
        meta = ArticleMeta.model_validate(fm.data, context={"taxonomy": ctx.taxonomy})
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, source, fm))

    body = normalise_body(fm.body)
    if not body.strip():
        problems.append(Problem(source, "正文为空 / the body is empty", field="body", line=fm.body_line))

    if meta is not None and meta.consultation is not None:
        for problem in clauses(fm.body)[1]:
            problems.append(
                Problem(source, problem.reason, field="body", line=fm.body_line + problem.line - 1)
            )

    uses: list[AssetUse] = []
    seen: set[tuple[str, str]] = set()
    cover = fm.data.get("cover")
    refs: list[tuple[str, str, str, int | None]] = []
    if isinstance(cover, str) and cover.strip():
        refs.append((cover.strip(), "cover", "cover", fm.line_of(("cover",))))
    for ref in find_image_refs(fm.body):
        refs.append((ref.ref, "inline", "body", fm.body_line + fm.body[: ref.offset].count("\n")))
    article_dir = path.parent
    for ref_text, role, field_name, ref_line in refs:
        if (role, ref_text) in seen:
            continue
        seen.add((role, ref_text))
        try:
            target = resolve_ref(ref_text, article_dir, ctx.root, ctx.real_dirs)
            uses.append(AssetUse(ref=ref_text, role=role, asset=ctx.image(target)))
        except AssetError as exc:
            problems.append(Problem(source, f"{exc}: {ref_text}", field=field_name, line=ref_line))

    if problems or meta is None:
        return problems
    slug = meta.slug or slugify(meta.title)
    snapshot = Snapshot(meta=meta.canonical(slug), body=body, assets=tuple(uses))
    return LoadedArticle(
        source=source,
        source_sha256=hashlib.sha256(raw).hexdigest(),
        source_stat=(stat.st_size, stat.st_mtime_ns),
        slug=slug,
        slug_line=fm.line_of(("slug",)) or fm.line_of(("title",)),
        meta=meta,
        snapshot=snapshot,
    )
