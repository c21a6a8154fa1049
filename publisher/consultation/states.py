"""The named values a consultation comment carries, each with the label staff and citizens read."""

from __future__ import annotations

from enum import StrEnum


class CommenterType(StrEnum):
    INDIVIDUAL = "individual"
    ORGANISATION = "organisation"
    DEPUTY = "deputy"
    OUTREACH_POINT = "outreach_point"

    @property
    def label(self) -> str:
        return {
            CommenterType.INDIVIDUAL: "个人",
            CommenterType.ORGANISATION: "单位",
            CommenterType.DEPUTY: "人大代表",
            CommenterType.OUTREACH_POINT: "基层立法联系点",
        }[self]


class Source(StrEnum):
    """How a comment reached the office: the portal's form, or a spreadsheet of comments gathered
    offline (at an outreach point, by letter or e-mail)."""

    ONLINE = "online"
    IMPORTED = "imported"

    @property
    def label(self) -> str:
        return {Source.ONLINE: "网上提交", Source.IMPORTED: "线下收集导入"}[self]


class Moderation(StrEnum):
    """Whether a comment may appear in public excerpts; every comment is handled whatever this is."""

    PENDING = "pending"
    SHOWN = "shown"
    HIDDEN = "hidden"

    @property
    def label(self) -> str:
        return {Moderation.PENDING: "待审看", Moderation.SHOWN: "可公开摘录", Moderation.HIDDEN: "不公开"}[
            self
        ]


class Disposition(StrEnum):
    ADOPTED = "adopted"
    PARTLY_ADOPTED = "partly_adopted"
    NOT_ADOPTED = "not_adopted"
    FURTHER_STUDY = "further_study"

    @property
    def label(self) -> str:
        return {
            Disposition.ADOPTED: "采纳",
            Disposition.PARTLY_ADOPTED: "部分采纳",
            Disposition.NOT_ADOPTED: "未采纳",
            Disposition.FURTHER_STUDY: "另行研究",
        }[self]
