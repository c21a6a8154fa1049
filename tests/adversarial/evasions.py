"""The table of evasion classes: for each, variants of a secrecy marking an article may carry.

A variant is a body, or front-matter fields, or both. Every one must be blocked at submission and
must never appear in what any channel shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Variant:
    label: str
    body: str = "正文。\n"
    meta: dict[str, Any] = field(default_factory=dict)


def _in_body(*bodies: str) -> tuple[Variant, ...]:
    return tuple(Variant(repr(body), f"{body}\n\n正文。\n") for body in bodies)


EVASIONS: dict[str, tuple[Variant, ...]] = {
    "another star-like character": _in_body(
        "机密✭", "绝密✮5年", "秘密✯", "机密✰", "机密⭐", "机密✱", "秘密✲", "绝密✳", "机密⁎", "机密∗", "机密﹡",
        "机密＊", "秘密✦", "机密✶",
    ),
    "an asterisk": _in_body("机密*", "秘密\\*", "绝密 * 长期", "机密**"),
    "an ascii space": _in_body("机 密★", "绝 密 ★", "秘密 ★", "机  密  ★", "内部资料  注意保存"),
    "an ideographic space": _in_body("机\u3000密★", "绝密\u3000★", "秘\u3000密\u3000★", "内部\u3000资料 注意保存"),
    "a no-break space": _in_body("机\u00a0密★", "绝密\u00a0★", "机\u202f密★"),
    "an invisible format character": _in_body(
        "机\u200b密★", "机\u200c密★", "绝\u200d密★", "秘\u2060密★", "机\ufeff密★", "机\u00ad密★", "内部\u200b资料注意保存"
    ),
    "character references": _in_body(
        "&#26426;&#23494;★", "&#x673A;&#x5BC6;★", "机密&#9733;", "机密&starf;", "&#x79D8;&#x5BC6;&#x2605;"
    ),
    "markdown emphasis or tags inside the word": _in_body(
        "机*密*★", "**机**密★", "机__密__★", "<em>机</em>密★", "机<span>密</span>★", "机<!-- x -->密★",
        "`机`密★", "~~机~~密★",
    ),
    "a line break": _in_body("机\n密★", "机密\n★", "内部资料\n注意保存", "绝  \n密★", "秘\n\u3000密★"),
    "a field other than the body": (
        Variant("title", meta={"title": "机密★关于某事项的通报"}),
        Variant("summary", meta={"summary": "绝密\u200b★导语。"}),
        Variant("tags", meta={"tags": ["立法", "机密★"]}),
        Variant("series title", meta={"series": {"id": "hh", "title": "秘密★系列", "part": 1}}),
        Variant("regulation name", meta={"regulation": {"name": "机密✭条例"}}),
        Variant("image alt text and caption", "导语。\n\n![机密★](images/inline.png)\n\n正文。\n"),
        Variant("inline image alt text", "导语![秘 密★](images/inline.png)正文。\n"),
        Variant("table cell", "| 密级 | 事项 |\n|---|---|\n| 机密★ | 某事 |\n"),
        Variant("heading", "## 绝密★\n\n正文。\n"),
        Variant("footnote", "正文[^1]。\n\n[^1]: 机密★5年\n"),
    ),
    "the newsroom's own marking in disguise": _in_body(
        "【内部\u200b传阅】", "**内部**传阅", "[ 内部\u3000传阅 ]", "&#20869;&#37096;&#20256;&#38405;"
    ),
}  # fmt: skip


# Prose about secrecy, which no check may take for a marking.
PROSE = (
    "机关举办保密法培训，强调保守国家秘密是每个公民的义务。",
    "带有密级标志的稿件一律不得公开发布，内部资料也要妥善管理。",
    "会议审议了《江澜市机密文件管理办法》。",
    "**机密**文件须专人保管。",
    "本报记者在现场看到五星★评价的服务窗口。",
)
