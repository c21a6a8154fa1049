"""Image derivatives: resized once per (image hash, width), kept in a content-addressed cache."""

from __future__ import annotations

import functools
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from publisher.store.blobs import BlobStore

# The article column is 760 px wide; 2x that covers high-density screens without shipping originals.
WIDTHS = (1520, 760, 380)
_EXT = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


@dataclass(frozen=True, slots=True)
class Source:
    """One image of a revision, as the revision recorded it."""

    ref: str
    role: str
    sha256: str
    width: int
    height: int
    format: str


@dataclass(frozen=True, slots=True)
class Derivative:
    name: str  # file name under the site's media/ folder
    width: int
    height: int


@functools.lru_cache(maxsize=1 << 16)
def plan(source: Source) -> tuple[Derivative, ...]:
    """The widths worth making for one image, largest first; never upscaled.

    Pure in its (immutable) source, so remembered: a rebuild plans every live image again."""
    ext = _EXT.get(source.format, "bin")
    if source.format == "GIF":
        # Resizing would drop an animation; GIFs are served as they are.
        widths = [source.width]
    else:
        widths = [w for w in WIDTHS if w < source.width] or [source.width]
        if source.width <= WIDTHS[0]:
            widths = [source.width, *[w for w in WIDTHS[1:] if w < source.width]]
    out = []
    for width in widths:
        height = max(1, round(source.height * width / source.width))
        out.append(Derivative(f"{source.sha256[:24]}-{width}.{ext}", width, height))
    return tuple(out)


def _write_aside(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure(source: Source, blobs: BlobStore, cache: Path) -> tuple[Derivative, ...]:
    """Make the derivatives missing from the cache; returns them all, largest first."""
    derivatives = plan(source)
    missing = [d for d in derivatives if not (cache / d.name).is_file()]
    if not missing:
        return derivatives
    # Imported here: the gate renders a body to check its text (review/normalize.py) and needs
    # the derivatives' names, never their pixels; a worker need not carry Pillow in memory.
    from PIL import Image

    data = blobs.get(source.sha256)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        for d in missing:
            target = cache / d.name
            if d.width == source.width:
                # Full size: the original bytes, exactly as the revision recorded them.
                _write_aside(target, data)
                continue
            resized = image.resize((d.width, d.height), Image.Resampling.LANCZOS)
            buffer = io.BytesIO()
            if source.format == "JPEG":
                resized.convert("RGB").save(buffer, "JPEG", quality=82, progressive=True)
            else:
                resized.save(buffer, source.format)
            _write_aside(target, buffer.getvalue())
    return derivatives
