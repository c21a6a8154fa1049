"""A phone-width page that shows a WeChat article as a reader sees it: the sandbox and the preview."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

PHONE_WIDTH = 375

_CSS = f"""
body {{ margin: 0; background: #ededed; font-family: -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif; }}
.phone {{ width: {PHONE_WIDTH}px; margin: 24px auto; background: #fff; border: 10px solid #1f1f1f;
  border-radius: 36px; overflow: hidden; box-shadow: 0 8px 30px rgba(0,0,0,.25); }}
.bar {{ height: 44px; background: #f7f7f7; border-bottom: 1px solid #e5e5e5; display: flex;
  align-items: center; justify-content: center; font-size: 15px; color: #111; }}
.page {{ padding: 20px 16px 32px; }}
.title {{ font-size: 22px; line-height: 1.4; font-weight: bold; color: #191919; margin: 0 0 12px; }}
.meta {{ font-size: 15px; color: #8c8c8c; margin-bottom: 22px; }}
.meta .account {{ color: #576b95; margin-right: 8px; }}
.source {{ margin-top: 28px; font-size: 14px; }}
.source a {{ color: #576b95; text-decoration: none; }}
.notice {{ padding: 60px 20px; text-align: center; color: #8c8c8c; }}
.card {{ border-bottom: 1px solid #eee; padding: 12px 16px; }}
.card a {{ color: #191919; text-decoration: none; font-size: 16px; }}
.card .sub {{ font-size: 13px; color: #8c8c8c; margin-top: 4px; }}
.head img {{ width: 100%; display: block; aspect-ratio: 2.35 / 1; object-fit: cover; }}
.state {{ font-size: 12px; padding: 1px 6px; border-radius: 3px; background: #f2f2f2; color: #666; }}
"""


@dataclass(frozen=True, slots=True)
class PhoneArticle:
    title: str
    author: str
    account: str
    date: str
    content: str  # WeChat-safe HTML, shown as is
    source_url: str = ""
    deleted: bool = False


def _frame(bar: str, inner: str, title: str) -> str:
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width={PHONE_WIDTH}">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f'<body><div class="phone"><div class="bar">{html.escape(bar)}</div>{inner}</div></body></html>\n'
    )


def article_page(article: PhoneArticle) -> str:
    if article.deleted:
        inner = '<div class="notice">此内容已被发布者删除</div>'
        return _frame(article.account, inner, article.title)
    source = (
        f'<div class="source"><a href="{html.escape(article.source_url)}">阅读原文</a></div>'
        if article.source_url
        else ""
    )
    author = f"{html.escape(article.author)} " if article.author else ""
    inner = (
        f'<div class="page"><h1 class="title">{html.escape(article.title)}</h1>'
        f'<div class="meta">{author}<span class="account">{html.escape(article.account)}</span>'
        f"{html.escape(article.date)}</div>"
        f'<div class="content" id="js_content">{article.content}</div>{source}</div>'
    )
    return _frame(article.account, inner, article.title)


@dataclass(frozen=True, slots=True)
class ListEntry:
    title: str
    url: str
    sub: str
    cover: str = ""
    state: str = ""


def list_page(account: str, heading: str, entries: Iterable[ListEntry]) -> str:
    cards = []
    for entry in entries:
        cover = (
            f'<div class="head"><img src="{html.escape(entry.cover)}" alt=""></div>' if entry.cover else ""
        )
        state = f' <span class="state">{html.escape(entry.state)}</span>' if entry.state else ""
        cards.append(
            f'<div class="card">{cover}<a href="{html.escape(entry.url)}">{html.escape(entry.title)}</a>{state}'
            f'<div class="sub">{html.escape(entry.sub)}</div></div>'
        )
    body = "".join(cards) or '<div class="notice">还没有发表内容</div>'
    return _frame(
        account, f'<div class="page"><h1 class="title">{html.escape(heading)}</h1></div>{body}', heading
    )
