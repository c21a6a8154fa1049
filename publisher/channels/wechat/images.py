"""Images as WeChat takes them: body images JPEG/PNG under 1 MB, the cover with its two crops."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from publisher.channels.wechat.limits import BODY_IMAGE_MAX_BYTES

MAX_SIDE = 1920  # wider than any phone shows; keeps photos well under the limit


@dataclass(frozen=True, slots=True)
class Prepared:
    data: bytes
    filename: str
    mime: str
    width: int
    height: int


def prepare(data: bytes, stem: str, limit: int = BODY_IMAGE_MAX_BYTES) -> Prepared:
    """JPEG or PNG under `limit` bytes: kept as is when it already is, else converted and compressed."""
    with Image.open(io.BytesIO(data)) as probe:
        fmt = (probe.format or "").upper()
        width, height = probe.size
        if fmt in ("JPEG", "PNG") and len(data) < limit:
            ext = "jpg" if fmt == "JPEG" else "png"
            return Prepared(
                data, f"{stem}.{ext}", f"image/{'jpeg' if fmt == 'JPEG' else 'png'}", width, height
            )
        probe.seek(0)  # the first frame of an animation
        image = probe.convert("RGBA") if _has_alpha(probe) else probe.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    # Transparency needs PNG; try it first, then fall back to JPEG on a white ground.
    if image.mode == "RGBA":
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        if out.tell() < limit:
            return Prepared(out.getvalue(), f"{stem}.png", "image/png", *image.size)
        ground = Image.new("RGB", image.size, (255, 255, 255))
        ground.paste(image, mask=image.getchannel("A"))
        image = ground
    quality = 88
    while True:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
        if out.tell() < limit:
            return Prepared(out.getvalue(), f"{stem}.jpg", "image/jpeg", *image.size)
        if quality > 50:
            quality -= 10
        else:
            image = image.resize((max(1, image.width * 3 // 4), max(1, image.height * 3 // 4)))


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)


def _fmt(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def crop(width: int, height: int, ratio: float) -> str:
    """The centred crop of `ratio` (width / height) as WeChat's "x1_y1_x2_y2" in 0..1 coordinates."""
    if width / height > ratio:
        share = (height * ratio) / width
        x1 = (1 - share) / 2
        return "_".join(_fmt(v) for v in (x1, 0, x1 + share, 1))
    share = (width / ratio) / height
    y1 = (1 - share) / 2
    return "_".join(_fmt(v) for v in (0, y1, 1, y1 + share))


def cover_crops(width: int, height: int) -> dict[str, str]:
    """pic_crop_235_1 (the headline's banner) and pic_crop_1_1 (the square of the other articles)."""
    return {"pic_crop_235_1": crop(width, height, 2.35), "pic_crop_1_1": crop(width, height, 1.0)}
