"""The official account's limits, checked at review time as the channel's `check()`.

Staff learn of a violation while the text can still change, with the field and the limit named.
Images are not limited here: delivery converts body images to JPEG/PNG under 1 MB itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from publisher.channels.kinds import WECHAT_BODY_IMAGE_MAX_BYTES, WechatSettings
from publisher.channels.registry import Channel
from publisher.channels.wechat.html import UnhostedImage
from publisher.channels.wechat.render import PLACEHOLDER, ImageRef, author_of, body_html
from publisher.content.assets import find_image_refs
from publisher.errors import Problem
from publisher.review.checks import ChannelCheck, Subject

TITLE_MAX = 32
AUTHOR_MAX = 16
DIGEST_MAX = 128
CONTENT_MAX_CHARS = 20_000  # the content must be under this
CONTENT_MAX_BYTES = 1024 * 1024
BODY_IMAGE_MAX_BYTES = WECHAT_BODY_IMAGE_MAX_BYTES
BODY_IMAGE_FORMATS = frozenset({"JPEG", "PNG"})
# An uploaded image's address is about this long; the check counts content as WeChat will see it.
_TYPICAL_URL = "https://mmbiz.qpic.cn/mmbiz_jpg/" + "x" * 88 + "/0?wx_fmt=jpeg"


def check_article(
    subject: Subject, settings: WechatSettings, *, source: str = "", images: Iterable[ImageRef] | None = None
) -> list[Problem]:
    meta = subject.meta
    problems: list[Problem] = []

    def over(field: str, label: str, value: str, limit: int) -> None:
        if len(value) > limit:
            problems.append(
                Problem(
                    source,
                    f"{label}超出微信限制：{len(value)} 字，最多 {limit} 字 / {field} is {len(value)} characters, "
                    f"the limit is {limit}",
                    field=field,
                )
            )

    over("title", "标题", subject.title, TITLE_MAX)
    over("author", "作者", author_of(meta), AUTHOR_MAX)
    over("digest", "摘要", str(meta.get("summary") or ""), DIGEST_MAX)

    refs = (
        list(images)
        if images is not None
        else [ImageRef(r.ref, "inline", f"{i:064x}") for i, r in enumerate(find_image_refs(subject.body))]
    )
    try:
        content, _ = body_html(subject.body, refs)
    except UnhostedImage as exc:
        problems.append(
            Problem(source, f"{exc}（请把图片放在稿件旁边） / put the image beside the article", "body")
        )
        return problems
    for ref in refs:
        content = content.replace(f"{PLACEHOLDER}{ref.sha256}", _TYPICAL_URL)
    if len(content) >= CONTENT_MAX_CHARS:
        problems.append(
            Problem(
                source,
                f"正文排版后 {len(content)} 字符，须少于 {CONTENT_MAX_CHARS} / the WeChat content is "
                f"{len(content)} characters, it must stay under {CONTENT_MAX_CHARS}",
                field="content",
            )
        )
    size = len(content.encode("utf-8"))
    if size >= CONTENT_MAX_BYTES:
        problems.append(
            Problem(
                source,
                f"正文排版后 {size} 字节，须小于 1 MB / the WeChat content is {size} bytes, it must stay under 1 MB",
                field="content",
            )
        )
    if not meta.get("cover") and not settings.default_cover:
        problems.append(
            Problem(
                source,
                "微信图文须有封面（永久图片素材），稿件没有 cover，渠道也没有 default_cover / "
                "a WeChat article needs a cover: set cover, or default_cover in the channel file",
                field="cover",
            )
        )
    return problems


def wechat_check(channel: Channel) -> ChannelCheck:
    settings = channel.settings
    assert isinstance(settings, WechatSettings)

    def check(subject: Subject) -> list[Problem]:
        return check_article(subject, settings, source=channel.source)

    return check
