"""The root command's catalog (publisher/cli/__init__.py) says what the command modules declare:
`publisher --help` lists from it without importing them, so it must not drift from them."""

from __future__ import annotations

import gc
import importlib
from pathlib import Path

import typer
import typer.main
from typer.testing import CliRunner

from publisher.cli import CATALOG, app
from publisher.cli.lazy import Listed, _built, build

CLI = Path(__file__).resolve().parent.parent / "publisher" / "cli"


def first_paragraph(text: str | None) -> str:
    return (text or "").strip().split("\n\n")[0]


def test_every_catalog_entry_has_the_help_its_module_gives_the_command() -> None:
    wrong = [
        f"{entry.name}: catalog {entry.help!r}, module {first_paragraph(real.help)!r}"
        for entry in CATALOG
        if first_paragraph((real := build(entry)).help) != entry.help or real.hidden
    ]
    assert wrong == []


def test_every_command_a_module_declares_is_in_the_catalog() -> None:
    declared: set[str] = set()
    for path in sorted(CLI.glob("*_cmd.py")):
        module = importlib.import_module(f"publisher.cli.{path.stem}")
        if hasattr(module, "register"):
            holder = typer.Typer()
            module.register(holder)
            declared |= set(typer.main.get_group(holder).commands)
    grouped = {entry.name for entry in CATALOG if entry.group}
    listed = {entry.name for entry in CATALOG}
    assert declared - listed == set()
    assert declared | grouped == listed
    # A sub-app entry names a module that has one.
    assert all(
        hasattr(importlib.import_module(f"publisher.cli.{e.module}"), "app") for e in CATALOG if e.group
    )


def test_root_help_lists_every_command_in_catalog_order_with_its_help() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    lines = [line.strip("│ ").split(" ", 1) for line in result.output.splitlines() if line.startswith("│ ")]
    shown = [
        (parts[0], parts[1].strip()) for parts in lines if len(parts) == 2 and not parts[0].startswith("-")
    ]
    assert shown == [(entry.name, entry.help) for entry in CATALOG]


def test_a_listed_command_runs_and_shows_its_own_help_once_resolved() -> None:
    result = CliRunner().invoke(app, ["articles", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "show" in result.output and "history" in result.output  # the real sub-app's commands
    result = CliRunner().invoke(app, ["queue", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "--all" in result.output


def test_an_unknown_command_is_refused_with_the_nearest_names() -> None:
    result = CliRunner().invoke(app, ["artcles"])
    assert result.exit_code == 2
    assert "No such command" in result.output and "'articles'" in result.output


def test_a_module_that_registers_several_commands_is_imported_once() -> None:
    first = build(Listed("schedule", "engine_cmd", ""))
    assert build(Listed("schedule", "engine_cmd", "")) is first
    assert build(Listed("status", "engine_cmd", "")) is not first


def test_the_garbage_collector_runs_again_once_a_command_module_is_imported() -> None:
    _built.clear()
    build(Listed("report", "report_cmd", "", group=True))
    assert gc.isenabled()


def test_what_a_command_module_import_leaves_alive_is_frozen_out_of_the_collections() -> None:
    _built.clear()
    gc.unfreeze()
    build(Listed("report", "report_cmd", "", group=True))
    assert gc.get_freeze_count() > 0
    assert gc.isenabled()
