"""Long-image benchmark: a 3,000-character article rendered as a long image by us (Pillow,
publisher/imaging) against the same content as HTML screenshotted by headless Chromium at 1080 px
wide, in the same run.

    .venv/bin/python bench/long_image.py [--chars 3000] [--runs 5] [--chromium /usr/bin/chromium]

The article is made from ../shared/bench/make_corpus.py bodies (whole blocks up to --chars Han
characters). Ours: Markdown -> blocks -> typeset -> painted -> PNG bytes, in process, after one
warm-up (fonts loaded), median of --runs. Chromium: the same blocks as an HTML page set in the same
font file (Noto Sans SC from the pip package, by @font-face), the same QR code, 1080 px wide and as
tall as our image, one `--headless --screenshot` per run (a browser must start per render unless a
server keeps one open; see chromium_warm_ms for a second call right after), median of --runs.
Ends with `RESULT ours_ms=... chromium_ms=... speedup=... peak_rss_mb=...`.
"""

from __future__ import annotations

import argparse
import base64
import io
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import markdown
from PIL import Image

from publisher.channels.kinds import ImageLimits
from publisher.content.frontmatter import parse
from publisher.imaging.blocks import parse_blocks
from publisher.imaging.compose import Composer, Sheet
from publisher.imaging.fonts import Face, font_path
from publisher.imaging.qr import qr_image
from publisher.imaging.template import BUILTIN

REPO = Path(__file__).resolve().parents[1]
URL = "https://www.jianglan-rd.example.gov.cn/articles/bench-long-image.html"


def corpus_script() -> Path:
    for candidate in (REPO.parent / "shared", REPO.parent.parent / "shared"):
        script = candidate / "bench" / "make_corpus.py"
        if script.is_file():
            return script
    sys.exit("../shared/bench/make_corpus.py is needed beside the checkout")


def han(text: str) -> int:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")


def article_body(chars: int, work: Path) -> str:
    out = work / "corpus"
    subprocess.run(
        [sys.executable, str(corpus_script()), str(out), "--count", "4", "--seed", "3", "--quiet"], check=True
    )
    blocks: list[str] = []
    for path in sorted(out.glob("*.md")):
        for block in parse(path.read_text(encoding="utf-8")).body.split("\n\n"):
            if "[^" in block or block.startswith("[^"):
                continue  # footnotes: neither side draws them
            if han("\n\n".join(blocks)) >= chars:
                return "\n\n".join(blocks)
            blocks.append(block)
    return "\n\n".join(blocks)


def sheet(body: str) -> Sheet:
    return Sheet(
        title="常委会第二十九次会议闭幕 表决通过江澜市养老服务条例",
        column="工作动态",
        blocks=tuple(parse_blocks(body)),
        summary="市人大常委会第二十九次会议闭幕，表决通过三项地方性法规。",
        byline="2026年11月28日　记者",
        url=URL,
        footer={"source": "江澜市人大常委会办公厅", "editor": "吴晓燕"},
    )


def ours(body: str) -> tuple[float, bytes, int]:
    started = time.perf_counter()
    image = Composer(BUILTIN).compose(sheet(body), ImageLimits(format="PNG"))
    (segment,) = image.segments
    return (time.perf_counter() - started) * 1000, segment.data, image.height


def page(body: str) -> str:
    s = BUILTIN.settings
    c, f = s.colours, s.fonts
    qr = io.BytesIO()
    qr_image(URL, 240).save(qr, "PNG")
    qr_uri = "data:image/png;base64," + base64.b64encode(qr.getvalue()).decode()
    sans, serif = font_path(Face.SANS).as_uri(), font_path(Face.SERIF).as_uri()
    content = markdown.markdown(body, extensions=["tables", "sane_lists"])
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@font-face {{ font-family: "Noto Sans SC"; src: url("{sans}"); }}
@font-face {{ font-family: "Noto Serif SC"; src: url("{serif}"); }}
html, body {{ margin: 0; background: {c.background}; width: {s.width}px; }}
body {{ font: {f.body_size}px/{f.line_height} "Noto Sans SC"; color: {c.text}; text-align: justify; }}
.banner {{ background: {c.banner}; color: {c.banner_text}; height: {s.banner_height}px; padding: 0 {s.margin}px;
  font: bold {round(f.heading_size * 1.05)}px "Noto Serif SC"; display: flex; align-items: center; }}
main {{ padding: {s.padding}px {s.margin}px; }}
h1 {{ font: bold {f.title_size}px/1.4 "Noto Serif SC"; color: {c.heading}; margin: 0 0 .3em; }}
h2, h3 {{ font-family: "Noto Serif SC"; color: {c.heading}; border-left: 8px solid {c.accent}; padding-left: 16px; }}
h2 {{ font-size: {f.heading_size}px; }} h3 {{ font-size: {round((f.body_size + f.heading_size) / 2)}px; border: 0; padding: 0; }}
p {{ margin: 0 0 {f.paragraph_spacing}em; }}
blockquote, .summary {{ background: {c.quote_background}; border-left: 8px solid {c.accent}; margin: 0 0 1em; padding: 24px; color: {c.heading}; }}
table {{ width: 100%; border-collapse: collapse; font-size: {f.body_size - 6}px; margin-bottom: 1em; }}
th, td {{ border: 2px solid {c.table_rule}; padding: 14px; text-align: left; }} th {{ background: {c.table_header}; color: {c.heading}; }}
.byline, footer {{ color: {c.muted}; font-size: {round(f.body_size * 0.8)}px; }}
.qr {{ text-align: center; color: {c.muted}; font-size: {round(f.body_size * 0.8)}px; }}
footer {{ border-top: 2px solid {c.table_rule}; padding-top: 16px; }}
</style></head><body>
<div class="banner">工作动态</div><main>
<h1>常委会第二十九次会议闭幕 表决通过江澜市养老服务条例</h1>
<p class="byline">2026年11月28日　记者</p>
<div class="summary">市人大常委会第二十九次会议闭幕，表决通过三项地方性法规。</div>
{content}
<div class="qr"><img src="{qr_uri}" alt=""><br>扫码阅读全文</div>
<footer>来源：江澜市人大常委会办公厅<br>责任编辑：吴晓燕<br>本文经三审三校后发布</footer>
</main></body></html>"""


def chromium(binary: str, html_path: Path, height: int, work: Path) -> float:
    shot = work / "chromium.png"
    shot.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={work / 'profile'}",
            f"--window-size=1080,{height}",
            f"--screenshot={shot}",
            html_path.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    elapsed = (time.perf_counter() - started) * 1000
    with Image.open(shot) as image:
        assert image.width == 1080, image.size
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--keep", type=Path, help="write both images here to look at them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-long-image-") as tmp:
        work = Path(tmp)
        body = article_body(args.chars, work)
        print(f"article: {han(body)} Han characters, {len(parse_blocks(body))} blocks", file=sys.stderr)
        ours(body)  # warm-up: fonts, BudouX model
        ours_runs, data, height = [], b"", 0
        for _ in range(args.runs):
            elapsed, data, height = ours(body)
            ours_runs.append(elapsed)
        html_path = work / "article.html"
        html_path.write_text(page(body), encoding="utf-8")
        chromium_runs = [chromium(args.chromium, html_path, height, work) for _ in range(args.runs)]
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / "ours.png").write_bytes(data)
            shutil.copyfile(work / "chromium.png", args.keep / "chromium.png")
    ours_ms, chromium_ms = statistics.median(ours_runs), statistics.median(chromium_runs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"ours runs ms: {', '.join(f'{v:.0f}' for v in ours_runs)}; chromium runs ms: "
        f"{', '.join(f'{v:.0f}' for v in chromium_runs)}; image 1080x{height}, {len(data) // 1024} KiB",
        file=sys.stderr,
    )
    print(
        f"RESULT ours_ms={ours_ms:.0f} chromium_ms={chromium_ms:.0f} speedup={chromium_ms / ours_ms:.2f} "
        f"peak_rss_mb={peak_mb:.0f} height_px={height} han_chars={han(body)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
