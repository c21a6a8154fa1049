"""The images an article names: confined to the newsroom however they are linked, refused when
truncated or corrupt, and the same bytes decoded once however many names they have."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from publisher.content.loader import LoadContext, LoadedArticle, load_article
from publisher.errors import Problem
from publisher.newsroom import Newsroom
from tests.factory import base_meta, write_article, write_image


def load(room: Newsroom, name: str, ctx: LoadContext | None = None) -> LoadedArticle | list[Problem]:
    ctx = ctx or LoadContext(root=room.root.resolve(), taxonomy=room.taxonomy)
    return load_article(room.content_dir / name, ctx)


def with_cover(room: Newsroom, cover: str, name: str = "pic.md") -> str:
    write_article(room.content_dir, name, base_meta(name.removesuffix(".md"), cover=cover))
    return name


def reasons(result: LoadedArticle | list[Problem]) -> list[str]:
    assert isinstance(result, list), "the article was accepted"
    return [p.reason for p in result]


def test_the_same_bytes_under_two_names_are_decoded_once_and_kept_under_each_name(
    newsroom_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = Newsroom(newsroom_dir)
    images = room.content_dir / "images"
    (images / "copy.png").write_bytes((images / "cover.png").read_bytes())
    opened: list[object] = []
    real_open = Image.open

    def counting(*args: object, **kwargs: object) -> Image.Image:
        opened.append(args[0])
        return real_open(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Image, "open", counting)
    ctx = LoadContext(root=room.root.resolve(), taxonomy=room.taxonomy)
    first = load(room, with_cover(room, "images/cover.png", "a.md"), ctx)
    second = load(room, with_cover(room, "images/copy.png", "b.md"), ctx)
    assert isinstance(first, LoadedArticle) and isinstance(second, LoadedArticle)
    assert len(opened) == 1
    [a], [b] = first.snapshot.assets, second.snapshot.assets
    assert (a.asset.path, b.asset.path) == ("content/images/cover.png", "content/images/copy.png")
    assert a.asset.sha256 == b.asset.sha256 and (b.asset.width, b.asset.height) == (64, 32)


def test_corrupt_bytes_under_two_names_are_refused_for_each(newsroom_dir: Path) -> None:
    room = Newsroom(newsroom_dir)
    images = room.content_dir / "images"
    for name in ("bad.png", "bad-copy.png"):
        (images / name).write_bytes(b"\x89PNG\r\n\x1a\nnot an image")
    ctx = LoadContext(root=room.root.resolve(), taxonomy=room.taxonomy)
    for name in ("bad.png", "bad-copy.png"):
        [reason] = reasons(load(room, with_cover(room, f"images/{name}", name.replace(".png", ".md")), ctx))
        assert reason.startswith("图片无法解码") and reason.endswith(f"images/{name}")


@pytest.mark.parametrize("cut", ["truncated", "bad checksum"])
def test_a_truncated_or_corrupt_png_is_refused(newsroom_dir: Path, cut: str) -> None:
    room = Newsroom(newsroom_dir)
    path = write_image(room.content_dir / "images" / "big.png", (300, 200), (10, 200, 30))
    data = path.read_bytes()
    if cut == "truncated":
        data = data[: len(data) // 2]
    else:
        at = data.index(b"IDAT") + 8  # a byte of the image data, under the chunk's CRC
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    path.write_bytes(data)
    [reason] = reasons(load(room, with_cover(room, "images/big.png")))
    assert reason.startswith("图片无法解码")


def test_an_image_linked_from_outside_the_newsroom_is_refused(newsroom_dir: Path, tmp_path: Path) -> None:
    room = Newsroom(newsroom_dir)
    outside = write_image(tmp_path / "outside.png")
    os.symlink(outside, room.content_dir / "images" / "link.png")
    [reason] = reasons(load(room, with_cover(room, "images/link.png")))
    assert "超出新闻室目录" in reason


def test_an_image_in_a_folder_linked_from_outside_is_refused(newsroom_dir: Path, tmp_path: Path) -> None:
    room = Newsroom(newsroom_dir)
    write_image(tmp_path / "elsewhere" / "x.png")
    os.symlink(tmp_path / "elsewhere", room.content_dir / "linked")
    ctx = LoadContext(root=room.root.resolve(), taxonomy=room.taxonomy)
    # A first image from inside the newsroom, so the folder's real path is remembered first.
    assert isinstance(load(room, "article-1.md", ctx), LoadedArticle)
    [reason] = reasons(load(room, with_cover(room, "linked/x.png"), ctx))
    assert "超出新闻室目录" in reason


def test_a_link_inside_the_newsroom_is_followed_to_the_file_it_names(newsroom_dir: Path) -> None:
    room = Newsroom(newsroom_dir)
    os.symlink("cover.png", room.content_dir / "images" / "alias.png")
    result = load(room, with_cover(room, "images/alias.png"))
    assert isinstance(result, LoadedArticle)
    assert [u.asset.path for u in result.snapshot.assets] == ["content/images/cover.png"]


def test_a_link_replaced_between_two_articles_is_read_anew(newsroom_dir: Path, tmp_path: Path) -> None:
    """The real path of a folder is remembered for the run; the file at the end is looked at each time."""
    room = Newsroom(newsroom_dir)
    images = room.content_dir / "images"
    ctx = LoadContext(root=room.root.resolve(), taxonomy=room.taxonomy)
    os.symlink("cover.png", images / "alias.png")
    assert isinstance(load(room, with_cover(room, "images/alias.png", "a.md"), ctx), LoadedArticle)
    (images / "alias.png").unlink()
    os.symlink(write_image(tmp_path / "outside.png"), images / "alias.png")
    [reason] = reasons(load(room, with_cover(room, "images/alias.png", "b.md"), ctx))
    assert "超出新闻室目录" in reason
