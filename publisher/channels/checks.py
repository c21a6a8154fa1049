"""The channel-limits hook of the review checks.

Each channel kind may register a factory that, given a channel, returns its `check` of a revision
(title length, image sizes, ...). Review runs the checks of every channel a revision targets, at
submission and at final approval, so staff learn of a limit while the text can still change.
"""

from __future__ import annotations

from collections.abc import Callable

from publisher.channels.registry import Channel
from publisher.channels.wechat.limits import wechat_check
from publisher.review.checks import ChannelCheck

CheckFactory = Callable[[Channel], ChannelCheck]

# kind -> factory of the channel's check.
CHECKERS: dict[str, CheckFactory] = {
    "wechat": wechat_check,
}
