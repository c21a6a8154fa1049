#!/usr/bin/env python3
"""Draw the demo newsroom's images (covers, inline pictures and one long image) with Pillow.

The pictures are simple flat illustrations (no text: the machines carry no CJK font), drawn
from a fixed spec so that a second run writes the same bytes. Every image that an article
under content/ references must be listed in IMAGES; `--check` verifies that, and that every
file exists and decodes, without writing anything.

Usage:
    python scripts/make_demo_images.py            # (re)write every image under content/
    python scripts/make_demo_images.py --check    # verify references and files only
"""

from __future__ import annotations

import argparse
import io
import math
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"

RGB = tuple[int, int, int]
Painter = Callable[[Image.Image, int, int, random.Random], None]

# Palette: the red and gold of official publicity, plus the blues and greens of the topics.
RED, DEEP_RED, GOLD, CREAM = (178, 34, 34), (120, 18, 22), (232, 190, 90), (246, 238, 222)
BLUE, DEEP_BLUE, SKY, WATER = (38, 92, 160), (20, 44, 86), (176, 210, 236), (70, 140, 200)
GREEN, DEEP_GREEN, GREY, WHITE = (96, 160, 96), (46, 100, 62), (150, 150, 150), (250, 250, 248)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def _gradient(
    d: ImageDraw.ImageDraw, w: int, h: int, top: RGB, bottom: RGB, y0: int = 0, y1: int | None = None
) -> None:
    y1 = h if y1 is None else y1
    span = max(1, y1 - y0 - 1)
    for y in range(y0, y1):
        d.line([(0, y), (w, y)], fill=_mix(top, bottom, (y - y0) / span))


def _rays(d: ImageDraw.ImageDraw, cx: float, cy: float, r: float, n: int, colour: RGB) -> None:
    for i in range(n):
        a = 2 * math.pi * i / n
        b = a + math.pi / n / 2
        d.polygon(
            [
                (cx, cy),
                (cx + r * math.cos(a), cy + r * math.sin(a)),
                (cx + r * math.cos(b), cy + r * math.sin(b)),
            ],
            fill=colour,
        )


def _hall(d: ImageDraw.ImageDraw, x: float, base: float, width: float, colour: RGB, roof: RGB) -> None:
    """A columned hall: steps, columns, architrave and a pediment."""
    height = width * 0.45
    for i in range(3):  # steps
        inset = i * width * 0.02
        d.rectangle(
            [x + inset, base - (i + 1) * width * 0.02, x + width - inset, base - i * width * 0.02],
            fill=colour,
        )
    top = base - height
    body_base = base - 3 * width * 0.02
    n = 8
    gap = width * 0.9 / (2 * n - 1)
    for i in range(n):
        cx = x + width * 0.05 + i * 2 * gap
        d.rectangle([cx, top + height * 0.18, cx + gap, body_base], fill=colour)
    d.rectangle([x + width * 0.02, top + height * 0.08, x + width * 0.98, top + height * 0.2], fill=colour)
    d.polygon(
        [(x, top + height * 0.08), (x + width / 2, top - height * 0.18), (x + width, top + height * 0.08)],
        fill=roof,
    )
    d.ellipse(
        [
            x + width / 2 - height * 0.05,
            top - height * 0.07,
            x + width / 2 + height * 0.05,
            top + height * 0.03,
        ],
        fill=GOLD,
    )


def _waves(
    d: ImageDraw.ImageDraw, w: int, y: float, amp: float, colour: RGB, phase: float, width: int = 3
) -> None:
    pts = [(x, y + amp * math.sin(x / 38 + phase)) for x in range(0, w + 8, 8)]
    d.line(pts, fill=colour, width=width)


def _person(d: ImageDraw.ImageDraw, x: float, base: float, size: float, colour: RGB) -> None:
    d.ellipse([x - size * 0.18, base - size, x + size * 0.18, base - size * 0.64], fill=colour)
    d.rounded_rectangle(
        [x - size * 0.3, base - size * 0.6, x + size * 0.3, base], radius=int(size * 0.14), fill=colour
    )


def _document(
    d: ImageDraw.ImageDraw, x: float, y: float, w: float, h: float, rng: random.Random, ink: RGB
) -> None:
    d.rectangle([x + 8, y + 8, x + w + 8, y + h + 8], fill=_mix(ink, WHITE, 0.75))
    d.rectangle([x, y, x + w, y + h], fill=WHITE, outline=_mix(ink, WHITE, 0.5), width=2)
    d.rectangle([x + w * 0.25, y + h * 0.07, x + w * 0.75, y + h * 0.11], fill=RED)
    line_y = y + h * 0.18
    while line_y < y + h * 0.9:
        d.line(
            [(x + w * 0.1, line_y), (x + w * (0.55 + 0.35 * rng.random()), line_y)],
            fill=_mix(ink, WHITE, 0.45),
            width=3,
        )
        line_y += h * 0.055


# --- painters: one per motif ---------------------------------------------------------------


def paint_hall(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, RED, DEEP_RED)
    _rays(d, w / 2, h * 1.1, w, 24, _mix(RED, GOLD, 0.18))
    _hall(d, w * 0.25, h * 0.9, w * 0.5, CREAM, GOLD)
    d.rectangle([0, h * 0.9, w, h], fill=DEEP_RED)


def paint_elderly(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (255, 214, 160), (250, 240, 226))
    sun = rng.uniform(0.05, 0.8)
    d.ellipse([w * sun, h * 0.12, w * (sun + 0.14), h * 0.12 + w * 0.14], fill=(244, 150, 70))
    for i in range(5):  # a row of low houses
        x = w * (0.05 + 0.18 * i)
        hh = h * (0.28 + 0.08 * rng.random())
        d.rectangle(
            [x, h * 0.82 - hh, x + w * 0.15, h * 0.82], fill=_mix(CREAM, (200, 120, 80), 0.15 * (i % 3))
        )
        d.polygon(
            [
                (x - 10, h * 0.82 - hh),
                (x + w * 0.075, h * 0.82 - hh - h * 0.12),
                (x + w * 0.15 + 10, h * 0.82 - hh),
            ],
            fill=(160, 70, 50),
        )
        d.rectangle([x + w * 0.05, h * 0.82 - hh * 0.45, x + w * 0.1, h * 0.82], fill=(120, 80, 60))
    d.rectangle([0, h * 0.82, w, h], fill=(210, 190, 160))
    walk = rng.uniform(0.15, 0.75)
    _person(d, w * walk, h * 0.95, h * 0.3, (120, 80, 70))
    _person(d, w * (walk + 0.08), h * 0.95, h * 0.26, (200, 110, 80))


def paint_document(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (232, 238, 246), (200, 214, 232))
    for i, (fx, fy) in enumerate([(0.12, 0.14), (0.36, 0.1), (0.6, 0.16)]):
        _document(d, w * fx, h * fy, w * 0.26, h * 0.76, rng, DEEP_BLUE if i != 1 else RED)
    d.line([(w * 0.62, h * 0.92), (w * 0.9, h * 0.42)], fill=DEEP_BLUE, width=max(6, w // 90))
    d.polygon([(w * 0.62, h * 0.92), (w * 0.6, h * 0.98), (w * 0.645, h * 0.95)], fill=GOLD)


def paint_outreach(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (250, 236, 210), (236, 214, 180))
    d.ellipse([w * 0.22, h * 0.5, w * 0.78, h * 0.86], fill=(150, 96, 60))  # round table
    d.ellipse([w * 0.25, h * 0.52, w * 0.75, h * 0.82], fill=(176, 118, 76))
    colours = [RED, BLUE, GREEN, (200, 120, 60), DEEP_BLUE, (130, 80, 140), (90, 90, 90), GOLD]
    for i in range(10):
        a = math.pi * (1.05 + 0.9 * i / 9)
        x = w / 2 + w * 0.33 * math.cos(a)
        y = h * 0.68 + h * 0.28 * math.sin(a)
        _person(d, x, y + h * 0.05, h * 0.2, colours[i % len(colours)])
    for i in range(4):  # papers on the table
        x = w * (0.35 + 0.08 * i + 0.02 * rng.random())
        d.rectangle([x, h * 0.62, x + w * 0.05, h * 0.7], fill=WHITE)


def paint_data(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, DEEP_BLUE, (10, 24, 48))
    nodes = [(rng.uniform(0.05, 0.95) * w, rng.uniform(0.1, 0.9) * h) for _ in range(34)]
    for i, (x, y) in enumerate(nodes):
        for x2, y2 in nodes[i + 1 :]:
            if math.hypot(x - x2, y - y2) < w * 0.16:
                d.line([(x, y), (x2, y2)], fill=(60, 120, 190), width=2)
    for x, y in nodes:
        r = rng.uniform(4, 9)
        d.ellipse([x - r, y - r, x + r, y + r], fill=(120, 200, 250))
    d.rounded_rectangle([w * 0.4, h * 0.32, w * 0.6, h * 0.68], radius=int(h * 0.04), outline=GOLD, width=5)
    d.rectangle([w * 0.47, h * 0.45, w * 0.53, h * 0.6], fill=GOLD)
    d.arc([w * 0.455, h * 0.36, w * 0.545, h * 0.52], 180, 360, fill=GOLD, width=6)


def paint_river(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, SKY, (226, 238, 246), 0, int(h * 0.45))
    for i in range(3):  # hills
        cx = w * (0.2 + 0.35 * i)
        d.ellipse([cx - w * 0.3, h * 0.3, cx + w * 0.3, h * 0.9], fill=_mix(GREEN, DEEP_GREEN, 0.3 * i))
    d.rectangle([0, h * 0.5, w, h], fill=DEEP_GREEN)
    d.polygon([(w * 0.42, h * 0.5), (w * 0.58, h * 0.5), (w * 0.95, h), (w * 0.05, h)], fill=WATER)
    for i in range(7):
        _waves(d, w, h * (0.56 + 0.06 * i), 3 + i, _mix(WATER, WHITE, 0.45), rng.uniform(0, 6), 2 + i // 3)
    for i in range(6):  # trees on both banks
        for side in (0.08, 0.86):
            x = w * (side + 0.015 * i)
            y = h * (0.52 + 0.07 * i)
            d.ellipse([x - 14 - i * 3, y - 40 - i * 6, x + 14 + i * 3, y], fill=_mix(GREEN, DEEP_GREEN, 0.5))


def paint_inspection(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    paint_river(img, w, h, rng)
    d.rectangle([0, h * 0.8, w * 0.36, h], fill=(196, 186, 166))  # riverside path
    for i in range(5):
        _person(
            d,
            w * (0.05 + 0.06 * i),
            h * (0.97 - 0.01 * i),
            h * 0.22,
            [RED, DEEP_BLUE, (90, 90, 90), BLUE, GOLD][i],
        )
    d.rectangle([w * 0.33, h * 0.74, w * 0.37, h * 0.8], fill=GREY)  # the outfall
    d.polygon([(w * 0.37, h * 0.76), (w * 0.45, h * 0.8), (w * 0.37, h * 0.8)], fill=(130, 118, 90))


def paint_meeting(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (110, 28, 30), (60, 14, 18))
    d.rectangle(
        [w * 0.3, h * 0.06, w * 0.7, h * 0.34], fill=RED, outline=GOLD, width=4
    )  # the rostrum backdrop
    d.ellipse([w * 0.47, h * 0.1, w * 0.53, h * 0.1 + w * 0.06], fill=GOLD)
    d.rectangle([w * 0.22, h * 0.34, w * 0.78, h * 0.42], fill=(140, 90, 50))
    for row in range(5):
        y = h * (0.52 + 0.1 * row)
        span = 0.3 + 0.08 * row
        seats = 8 + 2 * row
        for s in range(seats):
            x = w * (0.5 - span + 2 * span * s / (seats - 1))
            d.ellipse([x - 9, y - 22, x + 9, y - 4], fill=(30, 30, 34))
            d.rounded_rectangle([x - 16, y - 4, x + 16, y + 14], radius=5, fill=(150, 40, 40))


def paint_vote(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (34, 52, 90), (18, 26, 48))
    shares = [31, 7, 1]
    colours = [(88, 176, 110), (236, 196, 90), (210, 80, 70)]
    total = sum(shares)
    start = -90.0
    box = [w * 0.12, h * 0.16, w * 0.12 + h * 0.68, h * 0.84]
    for share, colour in zip(shares, colours, strict=True):
        end = start + 360 * share / total
        d.pieslice(box, start, end, fill=colour)
        start = end
    inner = h * 0.18
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    d.ellipse([cx - inner, cy - inner, cx + inner, cy + inner], fill=(26, 40, 70))
    for i, (share, colour) in enumerate(zip(shares, colours, strict=True)):
        y = h * (0.28 + 0.2 * i)
        d.rectangle([w * 0.58, y, w * 0.58 + w * 0.34 * share / total, y + h * 0.1], fill=colour)


def paint_progress(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (236, 244, 238), (206, 226, 212))
    done = [5, 6, 3, 5, 2, 3]
    total = [6, 11, 9, 8, 5, 3]
    bar_w = w * 0.8 / len(done)
    for i, (a, b) in enumerate(zip(done, total, strict=True)):
        x = w * 0.1 + i * bar_w
        full = h * 0.7 * b / 11
        d.rectangle([x + bar_w * 0.15, h * 0.85 - full, x + bar_w * 0.85, h * 0.85], fill=(200, 210, 204))
        d.rectangle([x + bar_w * 0.15, h * 0.85 - full * a / b, x + bar_w * 0.85, h * 0.85], fill=DEEP_GREEN)
    d.line([(w * 0.06, h * 0.85), (w * 0.94, h * 0.85)], fill=(60, 80, 70), width=4)
    cx, cy, r = w * 0.86, h * 0.2, h * 0.1
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=GREEN)
    d.line(
        [(cx - r * 0.5, cy), (cx - r * 0.1, cy + r * 0.4), (cx + r * 0.55, cy - r * 0.45)],
        fill=WHITE,
        width=8,
    )


def paint_village(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (186, 220, 240), (236, 244, 240), 0, int(h * 0.5))
    for i in range(4):
        cx = w * (0.1 + 0.28 * i)
        d.ellipse(
            [cx - w * 0.26, h * (0.28 + 0.04 * (i % 2)), cx + w * 0.26, h * 1.1],
            fill=_mix(GREEN, DEEP_GREEN, 0.25 * (i % 3)),
        )
    d.polygon(
        [(w * 0.46, h), (w * 0.54, h), (w * 0.51, h * 0.55), (w * 0.49, h * 0.55)], fill=(200, 200, 196)
    )  # road
    for _ in range(40):  # bayberry trees
        x, y = rng.uniform(0, w), rng.uniform(h * 0.55, h * 0.95)
        if abs(x - w / 2) < w * 0.08:
            continue
        r = rng.uniform(14, 26) * (y / h)
        d.ellipse([x - r, y - r * 1.6, x + r, y], fill=DEEP_GREEN)
        for _ in range(4):
            bx, by = x + rng.uniform(-r * 0.7, r * 0.7), y - rng.uniform(r * 0.3, r * 1.3)
            d.ellipse([bx - 3, by - 3, bx + 3, by + 3], fill=(150, 20, 60))
    d.rectangle([w * 0.74, h * 0.48, w * 0.9, h * 0.62], fill=WHITE, outline=GREY, width=3)  # the cold store


def paint_bus(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (250, 214, 170), (252, 238, 214), 0, int(h * 0.7))
    for i in range(9):  # skyline
        x = w * i / 9
        bh = h * rng.uniform(0.2, 0.45)
        d.rectangle(
            [x, h * 0.7 - bh, x + w / 9 - 6, h * 0.7],
            fill=_mix((200, 170, 150), (150, 130, 140), rng.random()),
        )
    d.rectangle([0, h * 0.7, w, h], fill=(90, 90, 96))
    for i in range(6):
        d.rectangle([w * i / 6, h * 0.84, w * i / 6 + w * 0.08, h * 0.855], fill=WHITE)
    x0, x1, y0, y1 = w * 0.18, w * 0.78, h * 0.42, h * 0.78
    d.rounded_rectangle([x0, y0, x1, y1], radius=int(h * 0.05), fill=(32, 150, 110))
    d.rectangle([x0, y0 + (y1 - y0) * 0.62, x1, y0 + (y1 - y0) * 0.7], fill=WHITE)
    for i in range(6):
        wx = x0 + (x1 - x0) * (0.04 + 0.155 * i)
        d.rectangle(
            [wx, y0 + (y1 - y0) * 0.12, wx + (x1 - x0) * 0.13, y0 + (y1 - y0) * 0.5], fill=(190, 226, 240)
        )
    for wx in (x0 + (x1 - x0) * 0.18, x0 + (x1 - x0) * 0.8):
        d.ellipse([wx - h * 0.06, y1 - h * 0.06, wx + h * 0.06, y1 + h * 0.06], fill=(30, 30, 30))
        d.ellipse([wx - h * 0.025, y1 - h * 0.025, wx + h * 0.025, y1 + h * 0.025], fill=GREY)
    d.rectangle([w * 0.86, h * 0.36, w * 0.87, h * 0.72], fill=(60, 60, 60))  # stop sign post
    d.rectangle([w * 0.83, h * 0.3, w * 0.9, h * 0.4], fill=BLUE)


def paint_lab(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (18, 40, 44), (10, 22, 26))
    step = 40
    for _ in range(60):  # circuit traces on a grid
        x, y = rng.randrange(0, w // step) * step, rng.randrange(0, h // step) * step
        pts = [(x, y)]
        for _ in range(rng.randint(2, 5)):
            if rng.random() < 0.5:
                x += rng.choice((-1, 1)) * step * rng.randint(1, 3)
            else:
                y += rng.choice((-1, 1)) * step * rng.randint(1, 3)
            pts.append((x, y))
        d.line(pts, fill=(40, 150, 130), width=3)
        d.ellipse([x - 6, y - 6, x + 6, y + 6], fill=(120, 230, 200))
    cx, cy, s = w / 2, h / 2, h * 0.22
    d.rectangle([cx - s, cy - s, cx + s, cy + s], fill=(30, 34, 38), outline=GOLD, width=4)
    for i in range(8):
        off = -s + (i + 0.5) * 2 * s / 8
        for dx, dy in ((off, -s - 16), (off, s), (-s - 16, off), (s, off)):
            d.rectangle(
                [cx + dx, cy + dy, cx + dx + 10, cy + dy + 16]
                if dy in (-s - 16, s)
                else [cx + dx, cy + dy, cx + dx + 16, cy + dy + 10],
                fill=GOLD,
            )


def paint_broadcast(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (28, 30, 60), (60, 24, 40))
    d.rounded_rectangle([w * 0.14, h * 0.12, w * 0.86, h * 0.78], radius=int(h * 0.04), fill=(16, 16, 20))
    inner = (int(w * 0.17), int(h * 0.17), int(w * 0.83), int(h * 0.73))
    sub = Image.new("RGB", (inner[2] - inner[0], inner[3] - inner[1]))
    paint_river(sub, sub.width, sub.height, rng)
    img.paste(sub, inner[:2])  # the screen shows the river
    cx, cy, r = w / 2, h * 0.45, h * 0.12
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 255, 255))
    d.polygon([(cx - r * 0.35, cy - r * 0.5), (cx - r * 0.35, cy + r * 0.5), (cx + r * 0.55, cy)], fill=RED)
    d.rectangle([w * 0.46, h * 0.78, w * 0.54, h * 0.86], fill=(16, 16, 20))
    d.rectangle([w * 0.36, h * 0.86, w * 0.64, h * 0.89], fill=(16, 16, 20))


def paint_constitution(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, RED, DEEP_RED)
    _rays(d, w / 2, h * 0.5, w, 32, _mix(RED, GOLD, 0.22))
    bw, bh = h * 0.44, h * 0.6
    x0, y0 = w / 2 - bw / 2, h * 0.2
    d.rectangle([x0 + 10, y0 + 10, x0 + bw + 10, y0 + bh + 10], fill=DEEP_RED)
    d.rectangle([x0, y0, x0 + bw, y0 + bh], fill=GOLD)
    d.rectangle([x0 + bw * 0.08, y0, x0 + bw * 0.12, y0 + bh], fill=_mix(GOLD, DEEP_RED, 0.3))
    d.rectangle([x0 + bw * 0.25, y0 + bh * 0.2, x0 + bw * 0.9, y0 + bh * 0.26], fill=DEEP_RED)
    d.ellipse(
        [x0 + bw * 0.45, y0 + bh * 0.4, x0 + bw * 0.7, y0 + bh * 0.4 + bw * 0.25], outline=DEEP_RED, width=6
    )


def paint_exhibition(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (240, 232, 220), (222, 210, 194), 0, int(h * 0.72))
    d.rectangle([0, h * 0.72, w, h], fill=(150, 110, 80))
    frames = [
        (0.05, 0.18, 0.2, 0.3),
        (0.29, 0.12, 0.18, 0.42),
        (0.51, 0.18, 0.22, 0.3),
        (0.77, 0.14, 0.18, 0.36),
    ]
    painters: list[Painter] = [paint_hall, paint_village, paint_river, paint_meeting]
    for (fx, fy, fw, fh), painter in zip(frames, painters, strict=True):
        box = (int(w * fx), int(h * fy), int(w * (fx + fw)), int(h * (fy + fh)))
        d.rectangle([box[0] - 8, box[1] - 8, box[2] + 8, box[3] + 8], fill=(110, 70, 40))
        sub = Image.new("RGB", (box[2] - box[0], box[3] - box[1]))
        painter(sub, sub.width, sub.height, rng)
        img.paste(sub, box[:2])
    for i in range(6):
        _person(
            d,
            w * (0.12 + 0.15 * i),
            h * (0.95 - 0.02 * (i % 2)),
            h * 0.26,
            [DEEP_BLUE, RED, (90, 90, 90), GREEN, (160, 100, 60), BLUE][i],
        )


def paint_budget(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (246, 240, 226), (230, 220, 196))
    values = [60.5, 51.0, 46.8, 35.1, 27.0]
    colours = [RED, BLUE, GREEN, (200, 130, 60), (120, 90, 150)]
    for i, (v, colour) in enumerate(zip(values, colours, strict=True)):
        y = h * (0.16 + 0.15 * i)
        d.rectangle([w * 0.1, y, w * 0.1 + w * 0.55 * v / 60.5, y + h * 0.1], fill=colour)
    for i in range(5):  # a stack of coins
        cx, cy = w * 0.82, h * (0.8 - 0.08 * i)
        d.ellipse(
            [cx - w * 0.09, cy - h * 0.05, cx + w * 0.09, cy + h * 0.05],
            fill=_mix(GOLD, (200, 150, 40), i % 2),
            outline=(170, 130, 40),
            width=3,
        )


def _icon(d: ImageDraw.ImageDraw, icon: str, cx: float, cy: float, s: float) -> None:
    """One pictogram of the long image, centred on (cx, cy), about 2s wide."""
    if icon == "book":
        d.rectangle([cx - s, cy - s * 0.7, cx, cy + s * 0.7], fill=RED)
        d.rectangle([cx, cy - s * 0.7, cx + s, cy + s * 0.7], fill=DEEP_RED)
    elif icon == "school":
        d.polygon([(cx - s, cy - s * 0.2), (cx, cy - s), (cx + s, cy - s * 0.2)], fill=RED)
        d.rectangle([cx - s * 0.8, cy - s * 0.2, cx + s * 0.8, cy + s * 0.8], fill=BLUE)
    elif icon == "work":
        d.rounded_rectangle([cx - s, cy - s * 0.5, cx + s, cy + s * 0.8], radius=10, fill=(120, 80, 50))
        d.rectangle(
            [cx - s * 0.35, cy - s * 0.8, cx + s * 0.35, cy - s * 0.5], outline=(120, 80, 50), width=8
        )
    elif icon == "care":
        d.ellipse([cx - s, cy - s * 0.8, cx, cy + s * 0.2], fill=RED)
        d.ellipse([cx, cy - s * 0.8, cx + s, cy + s * 0.2], fill=RED)
        d.polygon([(cx - s * 0.95, cy - s * 0.1), (cx + s * 0.95, cy - s * 0.1), (cx, cy + s)], fill=RED)
    elif icon == "ballot":
        d.rectangle([cx - s, cy - s * 0.2, cx + s, cy + s], fill=DEEP_BLUE)
        d.rectangle([cx - s * 0.5, cy - s, cx + s * 0.5, cy], fill=WHITE, outline=GREY, width=3)
        d.rectangle([cx - s * 0.6, cy - s * 0.25, cx + s * 0.6, cy - s * 0.15], fill=(10, 20, 40))
    else:
        d.rounded_rectangle([cx - s, cy - s * 0.8, cx + s, cy + s * 0.4], radius=20, fill=GREEN)
        d.polygon([(cx - s * 0.5, cy + s * 0.35), (cx - s * 0.7, cy + s), (cx, cy + s * 0.35)], fill=GREEN)


def paint_long(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    """A tall 长图: a header band, then alternating panels with one pictogram each."""
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w, h], fill=CREAM)
    head = int(w * 0.9)
    sub = Image.new("RGB", (w, head))
    paint_constitution(sub, w, head, rng)
    img.paste(sub, (0, 0))
    panel_h = (h - head - 200) // 6
    icons = ["book", "school", "work", "care", "ballot", "speech"]
    for i, icon in enumerate(icons):
        y0 = head + 60 + i * panel_h
        fill = WHITE if i % 2 == 0 else (250, 228, 214)
        d.rounded_rectangle(
            [30, y0, w - 30, y0 + panel_h - 30], radius=24, fill=fill, outline=_mix(RED, WHITE, 0.6), width=3
        )
        cx, cy, s = (w * 0.25 if i % 2 == 0 else w * 0.75), y0 + (panel_h - 30) / 2, panel_h * 0.28
        d.ellipse([cx - s * 1.3, cy - s * 1.3, cx + s * 1.3, cy + s * 1.3], fill=_mix(RED, WHITE, 0.85))
        _icon(d, icon, cx, cy, s)
        tx = w * 0.45 if i % 2 == 0 else w * 0.1
        for k in range(4):  # text placeholder bars
            d.rounded_rectangle(
                [tx, cy - s + k * s * 0.55, tx + w * (0.42 - 0.06 * (k % 2)), cy - s + k * s * 0.55 + 14],
                radius=7,
                fill=_mix(DEEP_RED, WHITE, 0.55 if k else 0.1),
            )
    d.rectangle([0, h - 110, w, h], fill=DEEP_RED)
    for i in range(3):
        d.ellipse([w / 2 - 60 + i * 50, h - 62, w / 2 - 40 + i * 50, h - 42], fill=GOLD)


def paint_icons(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, CREAM, (244, 224, 206))
    d.rectangle([0, 0, w, h * 0.12], fill=RED)
    d.rectangle([0, h * 0.88, w, h], fill=RED)
    icons = ["book", "school", "work", "care", "ballot", "speech"]
    for i, icon in enumerate(icons):
        cx, cy, s = w * (i + 0.5) / len(icons), h / 2, min(w / len(icons), h) * 0.26
        d.ellipse(
            [cx - s * 1.4, cy - s * 1.4, cx + s * 1.4, cy + s * 1.4],
            fill=WHITE,
            outline=_mix(RED, WHITE, 0.5),
            width=3,
        )
        _icon(d, icon, cx, cy, s)


def paint_feedback(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    """The draft's pages with a column of ticks: opinions read and answered."""
    paint_document(img, w, h, rng)
    d = ImageDraw.Draw(img)
    for i in range(5):
        cx, cy, r = w * 0.08, h * (0.2 + 0.15 * i), h * 0.05
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=GREEN if i != 3 else GREY)
        d.line(
            [(cx - r * 0.5, cy), (cx - r * 0.1, cy + r * 0.4), (cx + r * 0.55, cy - r * 0.45)],
            fill=WHITE,
            width=4,
        )


def paint_secrecy(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    """A stack of papers behind a gold-rimmed shield carrying a padlock: review before release."""
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (214, 222, 232), (168, 182, 200))
    for i, fx in enumerate((0.08, 0.24)):
        _document(d, w * fx, h * (0.12 + 0.04 * i), w * 0.2, h * 0.76, rng, DEEP_BLUE)
    cx, top, sw, sh = w * 0.66, h * 0.1, h * 0.62, h * 0.8
    for grow, colour in ((8, GOLD), (0, DEEP_RED)):
        d.polygon(
            [
                (cx - sw / 2 - grow, top - grow),
                (cx + sw / 2 + grow, top - grow),
                (cx + sw / 2 + grow, top + sh * 0.45),
                (cx, top + sh + grow * 1.5),
                (cx - sw / 2 - grow, top + sh * 0.45),
            ],
            fill=colour,
        )
    lw, lh, ly = sw * 0.42, sh * 0.3, top + sh * 0.4
    d.arc([cx - lw * 0.34, ly - lh * 0.75, cx + lw * 0.34, ly + lh * 0.35], 180, 360, fill=GOLD, width=9)
    d.rounded_rectangle([cx - lw / 2, ly, cx + lw / 2, ly + lh], radius=int(lh * 0.15), fill=GOLD)
    d.ellipse([cx - lh * 0.12, ly + lh * 0.3, cx + lh * 0.12, ly + lh * 0.54], fill=DEEP_RED)
    d.rectangle([cx - lh * 0.04, ly + lh * 0.45, cx + lh * 0.04, ly + lh * 0.78], fill=DEEP_RED)
    d.rectangle([0, h * 0.94, w, h], fill=DEEP_BLUE)


def paint_screen(img: Image.Image, w: int, h: int, rng: random.Random) -> None:
    """A television showing the constitution motif, with a play button: the programme's special."""
    d = ImageDraw.Draw(img)
    _gradient(d, w, h, (60, 24, 30), (28, 30, 60))
    d.rounded_rectangle([w * 0.2, h * 0.1, w * 0.8, h * 0.8], radius=int(h * 0.04), fill=(16, 16, 20))
    inner = (int(w * 0.225), int(h * 0.15), int(w * 0.775), int(h * 0.75))
    sub = Image.new("RGB", (inner[2] - inner[0], inner[3] - inner[1]))
    paint_constitution(sub, sub.width, sub.height, rng)
    img.paste(sub, inner[:2])
    cx, cy, r = w * 0.68, h * 0.62, h * 0.08
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=WHITE)
    d.polygon([(cx - r * 0.35, cy - r * 0.5), (cx - r * 0.35, cy + r * 0.5), (cx + r * 0.55, cy)], fill=RED)
    d.rectangle([w * 0.47, h * 0.8, w * 0.53, h * 0.88], fill=(16, 16, 20))
    d.rectangle([w * 0.38, h * 0.88, w * 0.62, h * 0.91], fill=(16, 16, 20))
    for i in range(7):  # the seven activities of the week, as gold dots
        x = w * (0.06 + 0.012 * (i % 2))
        d.ellipse([x - 7, h * (0.18 + 0.1 * i) - 7, x + 7, h * (0.18 + 0.1 * i) + 7], fill=GOLD)


PAINTERS: dict[str, Painter] = {
    "hall": paint_hall,
    "elderly": paint_elderly,
    "document": paint_document,
    "outreach": paint_outreach,
    "data": paint_data,
    "river": paint_river,
    "inspection": paint_inspection,
    "meeting": paint_meeting,
    "vote": paint_vote,
    "progress": paint_progress,
    "village": paint_village,
    "bus": paint_bus,
    "lab": paint_lab,
    "broadcast": paint_broadcast,
    "constitution": paint_constitution,
    "exhibition": paint_exhibition,
    "budget": paint_budget,
    "long": paint_long,
    "icons": paint_icons,
    "feedback": paint_feedback,
    "secrecy": paint_secrecy,
    "screen": paint_screen,
}

# content-relative path -> (width, height, motif). Covers are 900x383 (the 2.35:1 of a WeChat
# cover) or 16:9; inline pictures 3:2; the long image 750 wide.
IMAGES: dict[str, tuple[int, int, str]] = {
    "legislation/images/elderly-care-cover.jpg": (900, 383, "elderly"),
    "legislation/images/elderly-care-qa-cover.jpg": (900, 383, "elderly"),
    "legislation/images/property-draft-cover.jpg": (900, 383, "document"),
    "legislation/images/property-feedback-cover.jpg": (1280, 720, "feedback"),
    "legislation/images/qingshi-outreach-cover.jpg": (900, 383, "outreach"),
    "legislation/images/qingshi-outreach-1.jpg": (1080, 720, "outreach"),
    "legislation/images/public-data-cover.jpg": (900, 383, "data"),
    "supervision/images/rivers-inspection-cover.jpg": (900, 383, "river"),
    "supervision/images/rivers-inspection-1.jpg": (1080, 720, "inspection"),
    "supervision/images/rivers-inquiry-cover.jpg": (900, 383, "meeting"),
    "supervision/images/rivers-evaluation-cover.jpg": (900, 383, "vote"),
    "supervision/images/rivers-rectification-cover.jpg": (1280, 720, "progress"),
    "deputies/images/chen-shulin-cover.jpg": (900, 383, "village"),
    "deputies/images/liu-xiaohong-cover.jpg": (900, 383, "bus"),
    "deputies/images/wang-zhenhua-cover.jpg": (900, 383, "lab"),
    "rdsd/images/rdsd-47-cover.jpg": (1280, 720, "broadcast"),
    "rdsd/images/rdsd-48-cover.jpg": (900, 383, "screen"),
    "rdsd/images/constitution-long-cover.jpg": (900, 383, "icons"),
    "rdsd/images/constitution-long.png": (750, 3600, "long"),
    "news/images/session-29-cover.jpg": (900, 383, "hall"),
    "news/images/constitution-week-cover.jpg": (900, 383, "constitution"),
    "news/images/exhibition-cover.jpg": (900, 383, "exhibition"),
    "news/images/exhibition-1.jpg": (1080, 720, "exhibition"),
    "news/images/budget-cover.jpg": (900, 383, "budget"),
    "news/images/secrecy-training-cover.jpg": (900, 383, "secrecy"),
}

_REF = re.compile(r"^cover:\s*(\S+)\s*$|!\[[^\]]*\]\(\s*<?([^)\s>]+)>?[^)]*\)", re.MULTILINE)


def render(rel: str, width: int, height: int, motif: str) -> bytes:
    rng = random.Random(f"demo-image:{rel}")
    image = Image.new("RGB", (width, height), WHITE)
    PAINTERS[motif](image, width, height, rng)
    out = io.BytesIO()
    if rel.endswith(".png"):
        image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            out, "PNG", optimize=True
        )
    else:
        image.save(out, "JPEG", quality=85, optimize=True, progressive=False)
    return out.getvalue()


def referenced() -> set[str]:
    refs: set[str] = set()
    for md in sorted(CONTENT.rglob("*.md")):
        for cover, inline in _REF.findall(md.read_text(encoding="utf-8")):
            ref = cover or inline
            if ref and not re.match(r"^[a-z][a-z0-9+.-]*:", ref, re.IGNORECASE):
                refs.add((md.parent / ref).resolve().relative_to(CONTENT.resolve()).as_posix())
    return refs


def check() -> list[str]:
    problems = [f"referenced but not in IMAGES: {r}" for r in sorted(referenced() - IMAGES.keys())]
    for rel in sorted(IMAGES):
        path = CONTENT / rel
        if not path.is_file():
            problems.append(f"missing: {rel} (run scripts/make_demo_images.py)")
            continue
        try:
            with Image.open(path) as im:
                im.verify()
        except Exception as exc:  # any decoding failure is a problem to report
            problems.append(f"cannot decode {rel}: {exc}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="verify references and files, write nothing")
    args = ap.parse_args(argv)
    if args.check:
        problems = check()
        for p in problems:
            print(p, file=sys.stderr)
        print(f"{len(IMAGES)} images listed, {len(problems)} problem(s)")
        return 1 if problems else 0
    missing = referenced() - IMAGES.keys()
    if missing:
        print("referenced but not in IMAGES: " + ", ".join(sorted(missing)), file=sys.stderr)
        return 1
    written = 0
    for rel, (width, height, motif) in sorted(IMAGES.items()):
        path = CONTENT / rel
        data = render(rel, width, height, motif)
        if not path.is_file() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            written += 1
    print(f"{len(IMAGES)} images, {written} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
