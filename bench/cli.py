"""Command start-up benchmark: how long a person waits for `publisher ...` in a fresh process.

    .venv/bin/python bench/cli.py [--runs 10] [--keep DIR]

Builds the demo newsroom once (`publisher demo` on a copy of this repository's newsroom files in a
temporary folder), signs in as the demo editor with `publisher login --password-stdin` (the
credentials file in a folder of the bench's own, through PUBLISHER_CONFIG_HOME), then times, each
as a new process from outside, as staff run them:

- `publisher --help`
- `publisher articles` (the list, on the demo copy)
- `publisher queue` (what is due, on the demo copy)
- `python -c pass`: the interpreter alone, the baseline measured in the same run.

The four are interleaved round by round (so a burst of load on the machine hits all of them) and
each reports the median wall time of `--runs`, its spread (min-max), the ratio to `python -c pass`
and the median CPU time (user + system) of the process, which a loaded machine disturbs less. Ends with one `RESULT key=value ...` line (seconds).
Targets (issue 15): help <= 0.25 s, articles and queue <= 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from publisher.demo import COPIED, DEMO_EDITOR, DEMO_PASSWORD

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PUBLISHER = str(BIN / "publisher")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_demo(work: Path, env: dict[str, str]) -> Path:
    """The demo newsroom's copy after `publisher demo` (ingested, reviewed, scheduled, released)."""
    source = work / "newsroom"
    source.mkdir()
    shutil.copy(REPO / "publisher.toml", source / "publisher.toml")
    for name in COPIED:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name)
    say("building the demo newsroom (publisher demo) …")
    subprocess.run([PUBLISHER, "demo", "-N", str(source)], env=env, check=True, capture_output=True)
    demo = source / "var" / "demo"
    subprocess.run(
        [PUBLISHER, "login", "--as", DEMO_EDITOR, "--password-stdin", "-N", str(demo)],
        input=DEMO_PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    return demo


class Timing(NamedTuple):
    wall: float  # what the person waits
    cpu: float  # user + system time of the process: less disturbed by other work on the machine


def timed(args: list[str], env: dict[str, str], cwd: Path) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(elapsed, cpu)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10, help="fresh processes per command (median)")
    ap.add_argument("--keep", type=Path, help="build the demo here and keep it (reused when present)")
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-cli-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PUBLISHER_CONFIG_HOME"] = str(work / "config")
    env.pop("PUBLISHER_TOKEN", None)
    env.pop("PUBLISHER_NEWSROOM", None)
    # An installed publisher runs from cached bytecode; with this set (as in some sandboxes) every
    # run would compile the project's modules again, and the warm-up below could not cache them.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        demo = work / "newsroom" / "var" / "demo"
        if not (demo / "publisher.toml").is_file():
            shutil.rmtree(work / "newsroom", ignore_errors=True)
            demo = build_demo(work, env)
        commands = {
            "help": [PUBLISHER, "--help"],
            "articles": [PUBLISHER, "articles"],
            "queue": [PUBLISHER, "queue"],
            "python": [sys.executable, "-c", "pass"],
        }
        for argv in commands.values():  # warm the OS file cache and the bytecode once
            timed(argv, env, demo)
        times: dict[str, list[Timing]] = {name: [] for name in commands}
        for n in range(args.runs):
            say(f"round {n + 1}/{args.runs} …")
            for name, argv in commands.items():
                times[name].append(timed(argv, env, demo))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    medians = {name: statistics.median(t.wall for t in values) for name, values in times.items()}
    cpu = {name: statistics.median(t.cpu for t in values) for name, values in times.items()}
    base = medians["python"]
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print(f"{'command':10} {'median s':>9} {'min-max s':>13} {'/ python':>9} {'cpu s':>7}")
    for name, values in times.items():
        walls = [t.wall for t in values]
        spread = f"{min(walls):.3f}-{max(walls):.3f}"
        print(f"{name:10} {medians[name]:9.3f} {spread:>13} {medians[name] / base:8.1f}x {cpu[name]:7.3f}")
    targets = {"help": 0.25, "articles": 0.5, "queue": 0.5}
    for name, limit in targets.items():
        print(f"{name}: {'meets' if medians[name] <= limit else 'misses'} the {limit} s target")
    names = ("help", "articles", "queue")
    print(
        "RESULT "
        + " ".join(f"{name}_s={medians[name]:.3f}" for name in (*names, "python"))
        + " "
        + " ".join(f"{name}_ratio={medians[name] / base:.1f}" for name in names)
        + " "
        + " ".join(f"{name}_cpu_s={cpu[name]:.3f}" for name in (*names, "python"))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
