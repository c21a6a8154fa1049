"""The import graph of `publisher/` follows the flow: no cycle between packages, and no import from
a later stage into an earlier one (content → review → render → schedule → engine → faces). And a
command loads only what it uses: what `publisher --help`, `publisher articles` and `publisher queue`
import is checked in a fresh process (`sys.modules`, never a time), so an eager import that slows
every command down fails here.

Written with `ast` (import-linter is not on the package mirror): every `import` counts, at module
level or inside a function (a lazy import is an import all the same), except those under
`if TYPE_CHECKING:`, which name a type for mypy and load nothing at run time. An exception is
allowed only in ALLOWED, with the reason it is there.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import pytest

from publisher.ingest import ingest
from publisher.newsroom import Newsroom

PACKAGE = Path(__file__).resolve().parent.parent / "publisher"

FOUNDATION, CONTENT, REVIEW, RENDER, SCHEDULE, ENGINE, FACES = range(7)

# Each module belongs to the unit of the longest prefix it matches; a unit has a stage.
UNITS: dict[str, int] = {
    # Read by every stage, reading none of them: errors, time, settings, the store, the audit
    # chain, the delivery contract, and the channel declarations (channels/*.toml, like settings).
    "publisher": FOUNDATION,
    "publisher.__version__": FOUNDATION,
    "publisher.errors": FOUNDATION,
    "publisher.timeutil": FOUNDATION,
    "publisher.numerals": FOUNDATION,
    "publisher.config": FOUNDATION,
    "publisher.scaffold": FOUNDATION,
    "publisher.store": FOUNDATION,
    "publisher.audit": FOUNDATION,
    "publisher.articles": FOUNDATION,
    "publisher.delivery": FOUNDATION,
    "publisher.channels.registry": FOUNDATION,
    "publisher.channels.kinds": FOUNDATION,
    "publisher.content": CONTENT,
    "publisher.ingest": CONTENT,
    "publisher.ingest_writer": CONTENT,  # ingest's batched store writes
    "publisher.newsroom": CONTENT,
    "publisher.review": REVIEW,
    # Public consultation: taking comments screens them with review's checks, staff handle them
    # (the permission table, personal-data masking); the site shows the forms, the inspection and
    # the engine's purge job read them. Reading the `consultation:` front matter and the 第X条 clauses is content's own work.
    "publisher.consultation": REVIEW,
    "publisher.consultation.declare": CONTENT,
    "publisher.auth": REVIEW,  # who is acting: sign-in, sessions, tokens, the permission table
    # Notices: written by review acts and the engine, sent by the engine, read by the console.
    "publisher.notify": REVIEW,
    "publisher.site": RENDER,
    # Markdown to HTML (and the images it shows) is the body's own rendered form: review checks
    # the text as rendered (promise 8), so the renderer sits with content, below review.
    "publisher.site.render": CONTENT,
    "publisher.site.quick_markdown": CONTENT,
    "publisher.site.plain_markdown": CONTENT,
    "publisher.site.media": CONTENT,
    "publisher.channels": RENDER,
    "publisher.imaging": RENDER,  # long images and covers: read by the channels and the site
    # Which characters the shipped fonts can draw: review warns of one they cannot (a reading of
    # the installed font files' cmaps, without Pillow, nothing rendered).
    "publisher.imaging.glyphs": CONTENT,
    "publisher.supply": RENDER,  # packaging and the partner performer: a channel kind
    "publisher.schedule": SCHEDULE,
    # The quiet-hours rule (a pure module of times and windows): the schedules and a channel's own
    # quiet hours (a WeChat account's) both ask it, so it sits below every stage.
    "publisher.schedule.windows": FOUNDATION,
    "publisher.engine.scheduling": SCHEDULE,
    "publisher.supply.service": SCHEDULE,  # staff actions that schedule supply
    "publisher.engine": ENGINE,
    "publisher.backup": ENGINE,  # 存: archives what every earlier stage stored
    # 印: an issue of a printed bulletin, compiled through the engine's publication gate, typeset
    # with the images' fonts and line breaking.
    "publisher.bulletin": ENGINE,
    "publisher.supply.report": ENGINE,  # reads what the engine delivered
    "publisher.inspection": ENGINE,  # 清查: reads what every earlier stage stored and the live channels
    "publisher.standing": FACES,  # where an article stands: reads review and the engine's deliveries
    "publisher.cli": FACES,
    # Services of the faces that read every stage: `publisher check`, `doctor`, `config-docs`.
    "publisher.checkup": FACES,
    "publisher.doctor": FACES,
    "publisher.configdoc": FACES,
    "publisher.web": FACES,
    "publisher.console": FACES,  # the staff console and the read models its pages render
    "publisher.demo": FACES,
    "publisher.demo_campaign": FACES,
    "publisher.__main__": FACES,
}


class Allowed(NamedTuple):
    importer: str  # unit
    imported: str  # unit
    reason: str


ALLOWED = [
    Allowed(
        "publisher.audit",
        "publisher.content",
        "canonical_json is the one canonical encoding, of revision ids and of the audit chain alike: "
        "a pure function with no state, which the audit chain must share byte for byte",
    ),
    Allowed(
        "publisher.ingest",
        "publisher.schedule",
        "ingest reports every problem of the newsroom's input files at once, schedules/ included; "
        "it reads them with the schedule package's checker and plans nothing",
    ),
    Allowed(
        "publisher.review",
        "publisher.channels",
        "submission runs each channel's own limits (lint: title length, image size) as review "
        "checks; the channels register them in channels/checks.py",
    ),
    Allowed(
        "publisher.demo",
        "publisher.cli",
        "the demo is a face itself and prints its report with the CLI's table",
    ),
]


def unit_of(module: str) -> str:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in UNITS:
            return prefix
    raise AssertionError(f"{module} belongs to no unit: add it to UNITS with its stage")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def type_checking_nodes(tree: ast.Module) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skipped


def imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every run-time import of publisher modules in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = type_checking_nodes(tree)
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            # `from publisher.engine import scheduling` imports the submodule when there is one.
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                is_module = (PACKAGE.parent / Path(*candidate.split("."))).with_suffix(".py").is_file()
                found.append((candidate if is_module else base, node.lineno))
    return [(name, line) for name, line in found if name == "publisher" or name.startswith("publisher.")]


def graph() -> dict[tuple[str, str], list[str]]:
    """(importer unit, imported unit) -> where, for edges between different units."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        source = unit_of(module_name(path))
        for name, line in imports(path):
            target = unit_of(name)
            if target != source:
                edges[(source, target)].append(f"{path.relative_to(PACKAGE.parent)}:{line}")
    return edges


def allowed(source: str, target: str) -> bool:
    return any(
        (source == a.importer or source.startswith(a.importer + "."))
        and (target == a.imported or target.startswith(a.imported + "."))
        for a in ALLOWED
    )


def test_no_stage_imports_a_later_stage() -> None:
    backwards = [
        f"{source} ({UNITS[source]}) → {target} ({UNITS[target]}) at {', '.join(where)}"
        for (source, target), where in sorted(graph().items())
        if UNITS[target] > UNITS[source] and not allowed(source, target)
    ]
    assert backwards == []


def test_no_cycle_between_packages() -> None:
    succ: dict[str, set[str]] = defaultdict(set)
    for source, target in graph():
        if not allowed(source, target):
            succ[source].add(target)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(succ[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(UNITS):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_every_exception_is_still_needed() -> None:
    edges = graph()
    stale = [
        a
        for a in ALLOWED
        if not any(
            (s == a.importer or s.startswith(a.importer + "."))
            and (t == a.imported or t.startswith(a.imported + "."))
            for s, t in edges
        )
    ]
    assert stale == [], "remove exceptions the code no longer needs"


def test_the_engine_and_the_partner_performer_do_not_import_each_other() -> None:
    edges = graph()
    assert ("publisher.engine", "publisher.supply") not in edges
    assert ("publisher.supply", "publisher.engine") not in edges


# Run a command as `publisher` would in a fresh interpreter, then print the modules it loaded.
LOADED = """
import json, sys
sys.argv = ["publisher", *sys.argv[1:]]
from publisher.cli import main
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
print("\\n" + json.dumps(sorted(sys.modules)))
"""


def loaded_by(*args: str) -> set[str]:
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(done.stdout.rstrip().splitlines()[-1])
    return set(modules)


def among(modules: set[str], *packages: str) -> list[str]:
    """The loaded modules that are one of `packages` or inside one."""
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


# What only some commands use: the web stack, rendering, images, the channels' clients, migrations.
HEAVY = ("fastapi", "starlette", "PIL", "markdown", "jinja2", "nh3", "wechatpy", "httpx", "alembic")


def test_publisher_help_loads_neither_the_store_nor_pydantic_nor_any_command_module() -> None:
    modules = loaded_by("--help")
    assert among(modules, *HEAVY, "sqlalchemy", "sqlmodel", "pydantic", "argon2", "apscheduler") == []
    assert among(modules, "publisher") == ["publisher", "publisher.cli", "publisher.cli.lazy"]


def test_a_group_help_loads_only_its_own_command_module() -> None:
    modules = loaded_by("review", "--help")
    assert [m for m in modules if m.endswith("_cmd")] == ["publisher.cli.review_cmd"]


@pytest.mark.parametrize("command", ["articles", "queue"])
def test_listing_articles_or_the_queue_loads_no_web_render_image_or_worker_code(
    room: Newsroom, command: str
) -> None:
    assert ingest(room, actor="test").ok
    modules = loaded_by(command, "--newsroom", str(room.root))
    assert among(modules, *HEAVY, "apscheduler", "argon2") == []
    # The settings read their one environment variable themselves (config.environment_overrides).
    assert among(modules, "pydantic_settings") == []
    # Neither lists front matter to validate: the article model (and its consultation block) stays out,
    # and the queue reads no channel files (Newsroom imports those when first asked for).
    assert among(modules, "publisher.content.model", "publisher.consultation") == []
    if command == "queue":
        assert among(modules, "publisher.channels") == []
    assert (
        among(
            modules,
            "publisher.site",
            "publisher.channels.wechat",
            "publisher.engine.worker",
            "publisher.schedule",
        )
        == []
    )
    assert among(modules, "publisher.web", "publisher.console", "publisher.review.checks") == []
    assert [m for m in modules if m.endswith("_cmd")] == [f"publisher.cli.{command}_cmd"]


@pytest.mark.parametrize("command", ["articles", "queue"])
def test_listing_reads_plain_rows_without_sqlmodel_the_orm_or_the_table_classes(
    room: Newsroom, command: str
) -> None:
    # Importing SQLModel and defining the table classes cost a fresh process more than the rest of
    # the command: the listings read through SQLAlchemy Core (publisher/store/listings.py).
    assert ingest(room, actor="test").ok
    modules = loaded_by(command, "--newsroom", str(room.root))
    assert among(modules, "sqlmodel", "sqlalchemy.orm", "publisher.store.tables") == []


# `publisher queue` in a fresh interpreter, then whether SQLAlchemy configured the mappers.
CONFIGURED = """
import sys
sys.argv = ["publisher", "queue", *sys.argv[1:]]
from sqlalchemy import inspect
from publisher.cli import main
from publisher.store.tables import Delivery
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
print("\\nconfigured=" + str(inspect(Delivery).configured))
"""


def test_listing_the_queue_builds_no_orm_objects_so_no_mapper_is_configured(room: Newsroom) -> None:
    # An ORM query or object makes SQLAlchemy configure all the mappers first, which costs a fresh
    # `publisher queue` more than its query; the queue is read as plain rows instead.
    assert ingest(room, actor="test").ok
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run(
        [sys.executable, "-c", CONFIGURED, "--newsroom", str(room.root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().splitlines()[-1] == "configured=False"


# A worker started on a newsroom in a fresh interpreter, then what it has loaded.
WORKER_LOADED = """
import json, sys
from pathlib import Path
from publisher.engine.worker import DeliveryWorker
from publisher.newsroom import Newsroom
worker = DeliveryWorker(Newsroom(Path(sys.argv[1])))
worker.start()
worker.request_stop()
worker.shutdown()
print("\\n" + json.dumps(sorted(sys.modules)))
"""


def test_a_started_worker_loads_no_image_http_client_or_terminal_display_code(room: Newsroom) -> None:
    # Every module loaded is memory a worker holds for its whole life (bench/scheduler.py part b:
    # RSS with 100,000 scheduled, most of it imports). The gate renders a body to check its text,
    # so Markdown stays; Pillow (the pixels of derivatives), httpx (the notice robots; httpx also
    # loads rich, click and pygments when they are installed) and the web stack are loaded by the
    # code that uses them, when it does.
    assert ingest(room, actor="test").ok
    done = subprocess.run(
        [sys.executable, "-c", WORKER_LOADED, str(room.root)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(done.stdout.rstrip().splitlines()[-1]))
    assert among(modules, "publisher.engine.worker") == ["publisher.engine.worker"]
    assert among(modules, "PIL", "httpx", "rich", "click", "fastapi", "starlette", "uvicorn", "jinja2") == []
    assert among(modules, "wechatpy", "alembic", "publisher.console", "publisher.web") == []
