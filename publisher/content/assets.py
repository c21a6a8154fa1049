"""Images an article references: found in the body and front matter, confined to the newsroom, verified."""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote

IMAGE_FORMATS = frozenset({"JPEG", "PNG", "GIF", "WEBP"})

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AssetRef:
    ref: str  # as written
    role: str  # "cover" or "inline"
    offset: int  # character offset in the body (inline) or -1


class Asset(NamedTuple):
    """One image file's content, independent of who references it.

    Named tuples, this and `AssetUse`: a loaded article's images travel back from a loading
    process inside its `ArticleRecord`, and a tuple pickles for a fraction of a dataclass's cost.
    """

    path: str  # newsroom-relative, POSIX
    sha256: str
    size: int
    width: int
    height: int
    format: str
    mtime_ns: int


class AssetUse(NamedTuple):
    """An article's reference to an image: as written, in which role, and what it resolved to."""

    ref: str
    role: str
    asset: Asset


class AssetError(ValueError):
    pass


def _blank(match: re.Match[str]) -> str:
    # Keep offsets stable so line numbers still point at the right place.
    return re.sub(r"[^\n]", " ", match.group(0))


def find_image_refs(body: str) -> list[AssetRef]:
    """Local images the body shows; code blocks and external URLs are not references."""
    # Each pattern runs only where its first characters occur: a pattern that starts at a line
    # start or ignores case is tried at every character of the body otherwise.
    visible = body
    if "```" in visible or "~~~" in visible:
        visible = _FENCE.sub(_blank, visible)
    if "`" in visible:
        visible = _INLINE_CODE.sub(_blank, visible)
    patterns = [_MD_IMAGE] if "![" in visible else []
    if "<" in visible:
        patterns.append(_HTML_IMAGE)
    refs: list[AssetRef] = []
    for pattern in patterns:
        for match in pattern.finditer(visible):
            ref = match.group(1)
            if not _EXTERNAL.match(ref):
                refs.append(AssetRef(ref=ref, role="inline", offset=match.start()))
    refs.sort(key=lambda r: r.offset)
    return refs


def resolve_ref(ref: str, article_dir: Path, root: Path, real_dirs: dict[str, str] | None = None) -> str:
    """The real path of the file a reference names, refused when it lies outside the newsroom.

    `real_dirs` remembers each folder's real path for one run: resolving every image path in full
    (a system call per component) cost more than decoding the image. The file itself is still
    looked at each time, so a symbolic link is followed wherever it points.
    """
    if _EXTERNAL.match(ref):
        raise AssetError("图片须为本地文件 / image must be a local file, not a URL")
    clean = unquote(ref.split("#", 1)[0].split("?", 1)[0])
    if clean.startswith("/") or clean.startswith("\\"):
        raise AssetError("图片路径须相对于文章文件 / image path must be relative to the article")
    target = _real_path(os.path.join(article_dir, clean), real_dirs)
    top = str(root)
    if target != top and not target.startswith(os.path.join(top, "")):
        raise AssetError("图片路径超出新闻室目录 / image path escapes the newsroom")
    return target


def _real_path(joined: str, real_dirs: dict[str, str] | None) -> str:
    """`str(Path(joined).resolve())`: the real path of the folder (remembered) joined with the
    name, which is the same whenever the name is a plain entry and not a symbolic link."""
    folder, name = os.path.split(joined)
    if real_dirs is None or name in ("", ".", "..") or os.path.islink(joined):
        return str(Path(joined).resolve())
    real = real_dirs.get(folder)
    if real is None:
        real = real_dirs[folder] = str(Path(folder).resolve())
    return os.path.join(real, name)


Decoded = tuple[str, int, int]  # format, width, height


def inspect_image(
    target: str, root: Path, decoded: dict[str, Decoded | str] | None = None
) -> tuple[Asset, bytes]:
    """Hash and decode one image; raise AssetError saying what is wrong. Returns the bytes hashed.

    `target` is a path `resolve_ref` returned (inside `root`). `decoded` remembers, by sha256, what
    bytes decoded to (or why they were refused): the same bytes under another name, such as a
    photo copied beside each article, are decoded once per run.
    """
    try:
        # Unbuffered: the file is read whole, and a buffer would only be one more copy.
        with open(target, "rb", buffering=0) as handle:
            stat = os.fstat(handle.fileno())  # of the bytes read, not of a file replaced meanwhile
            data = handle.read()
    except FileNotFoundError:
        raise AssetError("图片不存在 / image not found") from None
    except IsADirectoryError:
        raise AssetError("图片路径是目录 / image path is a folder") from None
    except OSError as exc:
        raise AssetError(f"图片无法读取 / image cannot be read ({exc.strerror})") from None
    sha256 = hashlib.sha256(data).hexdigest()
    known = decoded.get(sha256) if decoded is not None else None
    if known is None:
        known = _decode(data)
        if decoded is not None:
            decoded[sha256] = known
    if isinstance(known, str):
        raise AssetError(known)
    fmt, width, height = known
    asset = Asset(
        path=target[len(os.path.join(str(root), "")) :].replace(os.sep, "/"),
        sha256=sha256,
        size=len(data),
        width=width,
        height=height,
        format=fmt,
        mtime_ns=stat.st_mtime_ns,
    )
    return asset, data


def prepare_decoder() -> None:
    """Import Pillow and the plugins of every accepted format now, in this process. Called before
    loading workers are forked: each of them would otherwise import it again (a tenth of a second
    of CPU per worker), and an import shared through fork costs the workers nothing."""
    from PIL import Image, WebPImagePlugin  # noqa: F401  # WebP is not among preinit's plugins

    Image.preinit()


def _decode(data: bytes) -> Decoded | str:
    """Pillow's reading of the header and `verify()` (chunk checksums, truncation): the image is
    refused on the same grounds as ever, without decoding every pixel."""
    from PIL import Image, UnidentifiedImageError  # Pillow loads when an image is read, not with the store

    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format or ""
            width, height = probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return f"图片无法解码 / image cannot be decoded ({exc})"
    if fmt not in IMAGE_FORMATS:
        return f"不支持的图片格式 / unsupported image format {fmt}"
    return fmt, width, height


def stat_stamp(path: Path) -> tuple[int, int] | None:
    """(size, mtime_ns) of a file, or None when it is gone: the cheap test that it is unchanged."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)
