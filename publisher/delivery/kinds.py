"""The registry of channel kinds: one entry-point group, `publisher.channel_kinds`.

A kind is added by declaring, in its distribution's pyproject.toml,

    [project.entry-points."publisher.channel_kinds"]
    weibo = "weibo_publisher.kind:WEIBO"

where `WEIBO` is a `ChannelKind`. The built-in kinds (website, feed, wechat, partner, sink) are
registered the same way in this project's pyproject.toml, so a third party's kind is no
second-class citizen and the engine never lists kinds by name.

Loading the group imports only the modules that define the `ChannelKind` values (light: settings
models). A kind's performer is named as "module:factory" and imported the first time the engine
drives a channel of that kind, so the WeChat stack loads only for a newsroom that delivers to WeChat.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points

from pydantic import BaseModel

from publisher.delivery.contract import PerformerFactory

GROUP = "publisher.channel_kinds"


class KindError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class ChannelKind:
    name: str
    settings: type[BaseModel]  # the model of a channel file's [settings] table
    performer: str  # "module:factory", a PerformerFactory
    # A site build shows every article its gate allows, delivered or not: a retraction takes every
    # channel of such a kind down, not only the ones a delivery went to.
    shows_undelivered: bool = False

    def performer_factory(self) -> PerformerFactory:
        module, _, name = self.performer.partition(":")
        factory: PerformerFactory = getattr(importlib.import_module(module), name)
        return factory


@cache
def channel_kinds() -> Mapping[str, ChannelKind]:
    found: dict[str, ChannelKind] = {}
    for point in entry_points(group=GROUP):
        kind = point.load()
        if not isinstance(kind, ChannelKind) or kind.name != point.name:
            raise KindError(
                f"入口 {point.name} = {point.value} 不是同名的 ChannelKind / entry point {point.name} "
                "must name a ChannelKind of the same name"
            )
        found[point.name] = kind
    if not found:
        raise KindError(
            "没有登记任何渠道类型，请重新安装 publisher / no channel kinds registered: "
            "reinstall the package (pip install -e .)"
        )
    return found


def channel_kind(name: str) -> ChannelKind | None:
    return channel_kinds().get(name)
