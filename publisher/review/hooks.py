"""What follows a final approval, declared instead of imported: the entry-point group
`publisher.after_approval`.

An approved correction must reach every channel that carries an older revision (partners get the
next version with its 更正 ednote; the website, feeds and WeChat follow their correction policy).
Those are later stages: review must not import them, so each registers a listener
`(newsroom, slug, actor) -> None` in pyproject.toml and review calls whatever is registered. A
listener that fails is logged and never undoes the approval, which is already committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publisher.newsroom import Newsroom

GROUP = "publisher.after_approval"

log = logging.getLogger("publisher.review")

Listener = Callable[["Newsroom", str, str], None]


@cache
def listeners() -> tuple[tuple[str, Listener], ...]:
    # In name order, so partners and channels are followed in the same order on every install.
    return tuple(
        (point.name, point.load()) for point in sorted(entry_points(group=GROUP), key=lambda p: p.name)
    )


def after_approval(room: Newsroom, slug: str, actor: str) -> None:
    for name, listener in listeners():
        try:
            listener(room, slug, actor)
        except Exception:  # the approval stands; the listener's work is redone by its own follow-up
            log.exception("after-approval listener %s failed for %s", name, slug)
