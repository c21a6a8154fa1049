"""Inspection benchmark: a generated 10,000-page site with 200 seeded broken links, served on
127.0.0.1; our inspection and LinkChecker crawl the same site in the same run.

    .venv/bin/python bench/inspection.py [--pages 10000] [--broken 200] [--keep DIR]

The site is written as a deployed release of a website channel (a release folder, its manifest and
the `public/` link, as publisher/site/deploy.py leaves them) so that `publisher inspect` reads it as
it reads a real one: every page over HTTP from the live URL, byte for byte against the manifest,
each page parsed for its links (internal links resolved against the release), meta tags and hidden
links. LinkChecker (pip `linkchecker`, installed into a venv of its own under var/) crawls the live
URL with its default 10 threads and no request-rate cap, so it is not held back by politeness.

The server (the preview's, answering with the header that lifts LinkChecker's own rate cap) runs
in a process of its own, so neither side shares an interpreter with it. Both must
find exactly the 200 seeded broken links. Ends with one `RESULT key=value ...` line.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
LC_VENV = REPO / "var" / "bench-linkchecker-venv"
LC_SPEC = "linkchecker==10.6.0"
PER_COLUMN = 100

HEAD = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta name="SiteName" content="江澜人大网">
<meta name="SiteDomain" content="www.jianglan-rd.example.gov.cn">
<meta name="SiteIDCode" content="3301000099">
<meta name="ColumnName" content="{column}">
<meta name="ColumnType" content="动态要闻">
{extra}</head>
<body>
<nav><a href="/">首页</a></nav>
<h1>{title}</h1>
"""


def say(message: str) -> None:
    print(message, flush=True)


def linkchecker() -> Path:
    exe = LC_VENV / "bin" / "linkchecker"
    if not exe.is_file():
        say(f"installing {LC_SPEC} into {LC_VENV} ...")
        subprocess.run([sys.executable, "-m", "venv", str(LC_VENV)], check=True)
        subprocess.run([str(LC_VENV / "bin" / "python"), "-m", "pip", "install", "-q", LC_SPEC], check=True)
    return exe


def article(n: int, pages: int, broken: int | None) -> str:
    links = "".join(
        f'<li><a href="/articles/a-{(n + k) % pages}.html">第{(n + k) % pages}篇</a></li>\n'
        for k in (1, 2, 3, 7, 31)
    )
    extra = (
        f'<meta name="ArticleTitle" content="第{n}篇">\n<meta name="PubDate" content="2026-11-30 09:00">\n'
        '<meta name="ContentSource" content="办公厅">\n'
    )
    body = f"<p>第{n}篇的正文，介绍常委会的工作。</p>\n<ul>\n{links}</ul>\n"
    if broken is not None:
        body += f'<p>参见<a href="/articles/gone-{broken}.html">已删除的页面</a>。</p>\n'
    return HEAD.format(title=f"第{n}篇", column="工作动态", extra=extra) + body + "</body>\n</html>\n"


def column(c: int, pages: int) -> str:
    items = "".join(
        f'<li><a href="/articles/a-{n}.html">第{n}篇</a></li>\n'
        for n in range(c * PER_COLUMN, min(pages, (c + 1) * PER_COLUMN))
    )
    return (
        HEAD.format(title=f"栏目第{c}页", column="工作动态", extra="")
        + f"<ul>\n{items}</ul>\n</body>\n</html>\n"
    )


def home(columns: int) -> str:
    items = "".join(f'<li><a href="/columns/c-{c}.html">栏目第{c}页</a></li>\n' for c in range(columns))
    return HEAD.replace('content="{column}"', 'content="首页"').format(title="首页", column="", extra="") + (
        f"<ul>\n{items}</ul>\n</body>\n</html>\n"
    )


def generate(root: Path, pages: int, broken: int) -> set[str]:
    """A newsroom whose website's live release is the generated site; the seeded broken paths."""
    root.mkdir(parents=True)
    shutil.copy(REPO / "publisher.toml", root / "publisher.toml")
    (root / "channels").mkdir()
    shutil.copy(REPO / "channels" / "website.toml", root / "channels" / "website.toml")
    shutil.copytree(REPO / "review", root / "review")
    shutil.copytree(REPO / "schedules", root / "schedules")
    (root / "content").mkdir()
    state = root / "var" / "site" / "website"
    release = state / "releases" / "bench"
    (release / "articles").mkdir(parents=True)
    (release / "columns").mkdir()
    (state / "media").mkdir()
    os.symlink(os.path.join("..", "..", "media"), release / "media")
    step = max(1, pages // broken)
    seeded = {n * step: n for n in range(broken)}
    files: dict[str, list[str]] = {}

    def put(path: str, text: str) -> None:
        data = text.encode("utf-8")
        (release / path).write_bytes(data)
        files[path] = [hashlib.sha256(data).hexdigest(), "bench"]

    for n in range(pages):
        put(f"articles/a-{n}.html", article(n, pages, seeded.get(n)))
    columns = (pages + PER_COLUMN - 1) // PER_COLUMN
    for c in range(columns):
        put(f"columns/c-{c}.html", column(c, pages))
    put("index.html", home(columns))
    manifest = {"files": files, "published": {}, "media": [], "exact": True, "shown": {}}
    (state / "releases" / "bench.json").write_text(json.dumps(manifest), encoding="utf-8")
    os.symlink(os.path.relpath(release, root), root / "public")
    return {f"/articles/gone-{j}.html" for j in range(broken)}


# The preview server, answering with the `LinkChecker` header: without it LinkChecker caps itself at
# 10 requests a second to one host (about 3 on average), and the bench would time its politeness.
SERVER = """
import sys
from functools import partial
from http.server import ThreadingHTTPServer
from publisher.site.preview import _Handler

class Handler(_Handler):
    def end_headers(self):
        self.send_header("LinkChecker", "bench")
        super().end_headers()

server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=sys.argv[1]))
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def serve(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    code = SERVER
    proc = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    base = f"http://127.0.0.1:{port}"
    urllib.request.urlopen(base + "/").read()
    return proc, base


def ours(root: Path, base: str) -> tuple[float, set[str], int]:
    os.environ["PUBLISHER_DATABASE_URL"] = f"sqlite:///{root / 'bench.db'}"
    from publisher.inspection.run import inspect
    from publisher.newsroom import Newsroom

    room = Newsroom(root)
    room.engine  # migrate before the clock starts  # noqa: B018
    started = time.perf_counter()
    report = inspect(room, live_url=base, record=False)
    seconds = time.perf_counter() - started
    found = {s.finding.evidence for s in report.findings if s.finding.rule == "links.broken"}
    say(f"ours: {seconds:.2f}s, {report.checked}, {len(found)} broken")
    room.close()
    return seconds, found, report.checked["pages"]


def theirs(base: str, work: Path) -> tuple[float, set[str]]:
    exe = linkchecker()
    config = work / "linkcheckerrc"
    config.write_text("[checking]\nthreads=10\nmaxrequestspersecond=1000\n", encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run(
        [str(exe), "-f", str(config), "--no-status", "-o", "csv", "--no-warnings", base + "/"],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    rows = [line for line in done.stdout.splitlines() if line and not line.startswith("#")]
    found: set[str] = set()
    for row in csv.DictReader(rows, delimiter=";"):
        if row.get("valid", "").strip().lower() in ("false", "0"):
            found.add(urlsplit(row.get("url") or row.get("urlname") or "").path)
    say(f"linkchecker: {seconds:.2f}s, exit {done.returncode}, {len(found)} broken")
    return seconds, found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--broken", type=int, default=200)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-inspect-"))
    root = work / "newsroom"
    if root.exists():
        shutil.rmtree(root)
    seeded = generate(root, args.pages, args.broken)
    say(f"generated {args.pages} articles with {len(seeded)} broken links in {root}")
    server, base = serve(root / "public")
    try:
        ours_s, ours_found, pages = ours(root, base)
        their_s, their_found = theirs(base, work)
    finally:
        server.terminate()
        server.wait()
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    found = len(ours_found & seeded)
    false_positives = len(ours_found - seeded)
    their_fp = len(their_found - seeded)
    say(f"linkchecker found {len(their_found & seeded)} of {len(seeded)}, {their_fp} false positives")
    print(
        f"RESULT pages={pages} ours_s={ours_s:.2f} linkchecker_s={their_s:.2f} speedup={their_s / ours_s:.1f} "
        f"found={found} false_positives={false_positives} linkchecker_found={len(their_found & seeded)} "
        f"linkchecker_false_positives={their_fp}",
        flush=True,
    )


if __name__ == "__main__":
    main()
