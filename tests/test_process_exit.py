"""A process that imported publisher ends without walking its heap with the cyclic collector.

At exit the interpreter would run the collector over every object still alive (the classes of
SQLAlchemy, pydantic and the store, tens of thousands of objects) only to free memory the OS takes
back: 0.2-0.4 s of CPU at the end of every command and every fresh `publisher build`.
"""

from __future__ import annotations

import subprocess
import sys


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout


def test_the_heap_is_frozen_before_the_interpreter_tears_it_down() -> None:
    # Registered before publisher is imported, so it runs after publisher's handler (LIFO).
    out = run(
        "import atexit, gc\n"
        "atexit.register(lambda: print(gc.get_freeze_count()))\n"
        "import publisher.newsroom\n"
    )
    assert int(out) > 10_000


def test_nothing_alive_is_frozen_while_the_process_works() -> None:
    out = run("import gc\nimport publisher.newsroom\nprint(gc.get_freeze_count())\n")
    assert int(out) == 0
