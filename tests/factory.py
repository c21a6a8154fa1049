"""Build small newsrooms and articles for tests, with real files and real images."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def base_meta(slug: str | None, **overrides: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "title": f"测试稿件 {slug}",
        "slug": slug,
        "date": "2026-11-20T10:00:00+08:00",
        "column": "良法善治护航发展",
        "kind": "news",
        "authors": ["王晓明"],
        "department": "研究室",
        "tags": ["立法"],
        "summary": "一句话导语。",
    }
    meta.update(overrides)
    return {k: v for k, v in meta.items() if v is not None}


def article_text(meta: dict[str, Any], body: str = "## 标题\n\n正文第一段，内容充实。\n") -> str:
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n\n{body}"


def write_article(folder: Path, name: str, meta: dict[str, Any], body: str | None = None) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(article_text(meta) if body is None else article_text(meta, body), encoding="utf-8")
    return path


def write_image(
    path: Path, size: tuple[int, int] = (64, 32), colour: tuple[int, int, int] = (179, 27, 27)
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def make_newsroom(root: Path, articles: int = 3) -> Path:
    """A newsroom with the demo's settings and channels and a few valid articles, one with images."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "publisher.toml", root / "publisher.toml")
    for folder in ("channels", "review", "schedules"):
        shutil.copytree(REPO / folder, root / folder)
    content = root / "content"
    content.mkdir()
    write_image(content / "images" / "cover.png")
    write_image(content / "images" / "inline.png", (40, 40), (20, 60, 120))
    for i in range(1, articles + 1):
        meta = base_meta(f"article-{i}", title=f"测试稿件第{i}篇")
        body = None
        if i == 1:
            meta["cover"] = "images/cover.png"
            body = "导语。\n\n![现场](images/inline.png)\n\n正文。\n"
        write_article(content, f"article-{i}.md", meta, body)
    return root


def shared_corpus_script() -> Path | None:
    """`../shared/bench/make_corpus.py`, beside the checkout (as in CI), when present."""
    for candidate in (REPO.parent / "shared", REPO.parent.parent / "shared"):
        script = candidate / "bench" / "make_corpus.py"
        if script.is_file():
            return script
    return None
