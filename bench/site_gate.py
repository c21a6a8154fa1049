"""Site builds with the newsroom's publication gate: what its own builds cost, where
bench/site_build.py times the build alone (with a gate that allows everything).

    .venv/bin/python bench/site_gate.py [--articles 1000] [--rounds 20] [--keep DIR]
                                        [--database-url URL]

The newsroom comes from bench/console_seed.py: articles through ingest, staff, signed review
chains for most of them (about four in ten approved). Timings:
- first look: a build in a fresh process once the site is built, timed from outside, as
  `publisher build` runs it: the gate proves every article's review from its signed acts and
  reads every body for secrecy markings, once per process;
- rebuild with nothing changed, in this process (median of --rounds): the newsroom's gate, and as
  the baseline in the same run a gate that lets out the same articles from a set (what a build
  costs without the gate's reading and proving);
- rebuild after a draft is edited and ingested again (the site does not change; the gate reads
  and proves the new revision), median of --rounds.
Ends with one `RESULT key=value ...` line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import select

from bench.console_seed import seed
from publisher.channels.registry import Channel
from publisher.engine.release import newsroom_gate
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.gate import Gate, GateDecision, GateSubject
from publisher.site.build import build_site
from publisher.store.engine import read_session
from publisher.store.tables import Article

FIRST_LOOK = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from publisher.engine.release import newsroom_gate
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.site.build import build_site
room = Newsroom(Path(sys.argv[1]))
build_site(room, room.channels.channels["website"], newsroom_gate(room), now=datetime.now(UTC))
"""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def set_gate(allowed: set[str]) -> Gate:
    """Lets out exactly these revisions, reading nothing."""

    def gate(session: object, revision: GateSubject, channel: Channel, now: datetime) -> GateDecision:
        return GateDecision.allow() if revision.id in allowed else GateDecision.deny("not in the set")

    return gate


def median_ms(rounds: int, build: Callable[[], float]) -> tuple[float, float]:
    times = sorted(build() for _ in range(rounds))
    return statistics.median(times) * 1000, (times[-1] - times[0]) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--database-url", help="default: SQLite under the newsroom's var/")
    ap.add_argument("--keep", type=Path, help="work here and keep it")
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="publisher-site-gate-"))
    root = work / "newsroom"
    try:
        say(f"seeding {args.articles} articles with their review chains in {root} …")
        seed(root, articles=args.articles, deliveries=0, users=20, database_url=args.database_url, quiet=True)
        # This process and the fresh one open the seeded store.
        if args.database_url:
            os.environ["PUBLISHER_DATABASE_URL"] = args.database_url
        else:
            os.environ.pop("PUBLISHER_DATABASE_URL", None)

        room = Newsroom(root)
        channel = room.channels.channels["website"]
        now = datetime.now(UTC)
        built = build_site(room, channel, newsroom_gate(room), now=now)
        shown = len(built.published)
        say("first look: a build in a fresh process …")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", FIRST_LOOK, str(root)], check=True)
        first_look_s = time.perf_counter() - started
        say(f"the gate lets out {shown} of {args.articles}; rebuilding with nothing changed …")

        def with_gate() -> float:
            return build_site(room, channel, newsroom_gate(room), now=now).seconds

        slugs = set(built.published)
        with read_session(room.engine) as session:
            allowed = {
                rid
                for slug, rid in session.exec(select(Article.slug, Article.current_revision_id))
                if slug in slugs and rid is not None
            }
        baseline = set_gate(allowed)

        def without_gate() -> float:
            return build_site(room, channel, baseline, now=now).seconds

        with_gate()
        without_gate()
        gate_ms, gate_spread = median_ms(args.rounds, with_gate)
        set_ms, set_spread = median_ms(args.rounds, without_gate)

        say("rebuilds after a draft is edited …")
        victim = next(p for p in sorted((root / "content").rglob("*.md")) if p.stem not in slugs)
        edited: list[float] = []
        for n in range(args.rounds):
            victim.write_text(
                victim.read_text(encoding="utf-8") + f"\n更正第{n + 1}处（{time.time_ns()}）。\n",
                encoding="utf-8",
            )
            assert len(ingest(room).revised) == 1
            report = build_site(room, channel, newsroom_gate(room), now=now)
            assert victim.stem not in report.published and not report.deployed
            edited.append(report.seconds)
        draft_ms = statistics.median(edited) * 1000
        room.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"articles {args.articles}, on the site {shown} (the rest unapproved or in review)")
    print(f"first look, fresh process (publisher build)  {first_look_s:8.2f} s")
    print(f"rebuild, nothing changed, newsroom gate     {gate_ms:8.1f} ms  (spread {gate_spread:.1f})")
    print(f"rebuild, nothing changed, set of revisions  {set_ms:8.1f} ms  (spread {set_spread:.1f})")
    print(f"the gate's share of a rebuild               {gate_ms / set_ms:8.2f}x the same build without it")
    print(
        f"rebuild after a draft is edited             {draft_ms:8.1f} ms  (its new revision read and proven)"
    )
    print(
        f"RESULT articles={args.articles} shown={shown} first_look_s={first_look_s:.2f} "
        f"rebuild_gate_ms={gate_ms:.1f} rebuild_set_ms={set_ms:.1f} gate_ratio={gate_ms / set_ms:.2f} "
        f"draft_edit_ms={draft_ms:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
