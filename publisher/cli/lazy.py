"""A command group that imports a command's module only when that command runs.

Every `publisher ...` used to import all 25 command modules, and with them the store, FastAPI,
Pillow, Markdown and wechatpy, before doing anything (0.9 s for `--help`). The top-level group
now knows each command by a `Listed` entry (name, module, one-line help) and shows those in
`publisher --help`; the module is imported, and its commands built by Typer as before, only when
click resolves the command to run it (or to show its own help, or to complete its arguments).
`tests/test_cli_catalog.py` holds the entries equal to what the modules declare.
"""

from __future__ import annotations

import gc
import importlib
from typing import Any, Literal, NamedTuple, Protocol, cast

import typer
import typer.main
from typer._click import Command, Context  # Typer vendors click; these are its classes
from typer.core import TyperCommand, TyperGroup


class Listed(NamedTuple):
    """One top-level command as `publisher --help` lists it, and where it lives."""

    name: str
    module: str  # under publisher.cli
    help: str  # the command's own docstring, or its group's help=
    group: bool = False  # a sub-app added as `module.app`; otherwise `module.register` adds it


class Registers(Protocol):
    """A command module that adds its top-level commands to the root app."""

    def register(self, app: typer.Typer) -> None: ...


class HasApp(Protocol):
    """A command module whose commands form a sub-app, added under its name."""

    app: typer.Typer


PACKAGE = "publisher.cli"

# Typer settings the real root app uses, so commands built apart render as they did.
RICH_MARKUP: Literal["rich"] = "rich"

_built: dict[tuple[str, bool], dict[str, Command]] = {}


def build(entry: Listed) -> Command:
    """The real click command for an entry: its module imported and its commands made by Typer."""
    key = (entry.module, entry.group)
    commands = _built.get(key)
    if commands is None:
        module = _import_quietly(f"{PACKAGE}.{entry.module}")
        holder = typer.Typer(rich_markup_mode=RICH_MARKUP, pretty_exceptions_enable=False)
        if entry.group:
            holder.add_typer(cast(HasApp, module).app, name=entry.name)
        else:
            cast(Registers, module).register(holder)
        commands = dict(typer.main.get_group(holder).commands)
        _built[key] = commands
    return commands[entry.name]


def _import_quietly(name: str) -> object:
    """Import with the cyclic garbage collector paused: a command's imports (the store, pydantic)
    allocate hundreds of thousands of objects that all stay alive, and the collections they
    trigger find nothing to free; pausing them cuts about a tenth of the import time.

    What the import left alive is then frozen (moved to the collector's permanent generation): in
    the young generation the first collections after the import would walk all of it again to free
    nothing, about 25 ms of CPU in `publisher articles`. A cycle the import dropped stays allocated,
    once, for the life of the process."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return importlib.import_module(name)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


class ListedCommand(TyperCommand):
    """What `publisher --help` shows for a command not loaded yet: its name and help only."""

    def __init__(self, entry: Listed) -> None:
        super().__init__(name=entry.name, help=entry.help, rich_markup_mode=RICH_MARKUP)
        self.entry = entry


class LazyGroup(TyperGroup):
    """The root group: every entry listed at once, a module imported when its command resolves."""

    catalog: tuple[Listed, ...] = ()

    def __init__(self, **attrs: Any) -> None:  # Typer passes TyperGroup's own settings
        super().__init__(**attrs)
        for entry in self.catalog:
            self.commands[entry.name] = ListedCommand(entry)

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Command | None, list[str]]:
        listed = self.commands.get(args[0]) if args else None
        if isinstance(listed, ListedCommand):
            self.commands[listed.entry.name] = build(listed.entry)
        return super().resolve_command(ctx, args)


def lazy_group(catalog: tuple[Listed, ...]) -> type[LazyGroup]:
    """A LazyGroup class that lists `catalog` (Typer takes a class, not an instance)."""
    return type("PublisherGroup", (LazyGroup,), {"catalog": catalog})
