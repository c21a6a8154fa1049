"""`publisher doctor`: what would stop this newsroom from publishing, found before a release fails.

A missing WeChat secret used to surface only when a release failed, and a review chain with two
proofreaders for three proofreading passes dead-ended at the third one with every queue empty.
Each check here looks at one such precondition and says what to do about it; `blocking(room)`
is the short form the worker can call before it starts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import singledispatch
from pathlib import Path

import httpx
from PIL import ImageFont
from pydantic import BaseModel
from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from publisher.auth.identity import UserKind
from publisher.channels.kinds import PartnerSettings, WechatSettings
from publisher.channels.registry import Channel
from publisher.config import NotifySettings, ReviewStage, UserSeed
from publisher.imaging.fonts import Face, font_path, layout_engine
from publisher.newsroom import Newsroom
from publisher.review.staffing import Person, Severity, person_of
from publisher.review.staffing import staffing as review_staffing
from publisher.schedule.load import RULES_FILE
from publisher.schedule.model import NewsroomRules
from publisher.schedule.workdays import WorkingCalendar
from publisher.store import migrate
from publisher.store.engine import make_engine
from publisher.store.tables import StaffUser
from publisher.timeutil import utc_now

# The blob store keeps every image and rendition; below these a day's releases may not fit.
DISK_WARN_BYTES = 1 << 30
DISK_BLOCK_BYTES = 100 << 20
CALENDAR_DAYS = 365
PROBE_TIMEOUT = 3.0


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BLOCKING = "blocking"


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    level: Level
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "level": self.level.value, "detail": self.detail}


# -- database ----------------------------------------------------------------------------------------
def _sqlite_not_created(room: Newsroom) -> bool:
    """A new newsroom's SQLite file appears on first use; connecting now would only make it empty."""
    url = make_url(room.database_url)
    return url.get_backend_name() == "sqlite" and bool(url.database) and not Path(str(url.database)).exists()


def check_database(room: Newsroom) -> list[Finding]:
    if _sqlite_not_created(room):
        return [
            Finding(
                "数据库 / database",
                Level.OK,
                "SQLite 数据库将在首次使用时创建 / the SQLite database is created on first use",
            )
        ]
    engine = make_engine(room.database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = migrate.current_revision(engine)
    except SQLAlchemyError as exc:
        first = str(exc).splitlines()[0]
        return [
            Finding(
                "数据库 / database",
                Level.BLOCKING,
                f"无法连接 / unreachable: {first}; 检查 database_url 或 PUBLISHER_DATABASE_URL 与数据库服务",
            )
        ]
    finally:
        engine.dispose()
    if current == migrate.HEAD:
        return [
            Finding("数据库 / database", Level.OK, f"可连接，结构为最新 / reachable, schema at {current}")
        ]
    if current is None or current < migrate.HEAD:
        return [
            Finding(
                "数据库 / database",
                Level.WARNING,
                f"结构版本 {current or '无'}，首次使用时自动升级；也可运行 publisher db upgrade / "
                f"schema at {current or 'none'}: migrated on first use, or run `publisher db upgrade`",
            )
        ]
    return [
        Finding(
            "数据库 / database",
            Level.BLOCKING,
            f"数据库结构 {current} 比本程序（{migrate.HEAD}）新，请升级 publisher / "
            f"the database is at {current}, newer than this publisher ({migrate.HEAD}): upgrade publisher",
        )
    ]


# -- channels ----------------------------------------------------------------------------------------
def _secret_names(settings: BaseModel) -> list[str]:
    """Every `*_env` field names the variable holding a secret; the convention of channels/kinds.py."""
    names: list[str] = []
    for field in type(settings).model_fields:
        value = getattr(settings, field)
        if field.endswith("_env") and isinstance(value, str):
            names.append(value)
    return names


def check_secrets(channels: Iterable[Channel]) -> list[Finding]:
    found: list[Finding] = []
    for channel in channels:
        missing = [name for name in _secret_names(channel.settings) if not os.environ.get(name)]
        if missing:
            found.append(
                Finding(
                    f"密钥 / secrets: {channel.name}",
                    Level.BLOCKING,
                    f"环境变量未设置 / not set in the environment: {', '.join(missing)}; "
                    f"请在服务的环境中设置（见 {channel.source}） / set them where publisher runs",
                )
            )
    return found


def check_notify(settings: NotifySettings, known: Iterable[str]) -> list[Finding]:
    """Notices cannot go out without their secrets, nor reach a duty editor who is no user: a
    warning, since releases go on without them."""
    found: list[Finding] = []
    outward: list[tuple[str, BaseModel]] = [(w.name, w) for w in settings.webhooks]
    if settings.smtp is not None:
        outward.insert(0, ("smtp", settings.smtp))
    for name, part in outward:
        missing = [env for env in _secret_names(part) if not os.environ.get(env)]
        if missing:
            found.append(
                Finding(
                    f"通知 / notify: {name}",
                    Level.WARNING,
                    f"环境变量未设置 / not set in the environment: {', '.join(missing)}; "
                    "该渠道的通知将发送失败 / its notices will fail",
                )
            )
    unknown = sorted(set(settings.duty_editors) - set(known))
    if unknown:
        found.append(
            Finding(
                "通知 / notify: duty_editors",
                Level.WARNING,
                f"值班编辑不是已知用户 / duty editors who are no users: {', '.join(unknown)}",
            )
        )
    return found


@singledispatch
def probe(settings: BaseModel, timeout: float) -> Finding | None:
    """A dry call to the platform behind a channel, by its settings model: nothing is published.

    None when the kind has no platform to ask; a kind's module may register its own.
    """
    return None


@probe.register
def _probe_wechat(settings: WechatSettings, timeout: float) -> Finding | None:
    # stable_token without force_refresh returns the token in use: it never supersedes the worker's.
    response = httpx.post(
        settings.api_base.rstrip("/") + "/cgi-bin/stable_token",
        json={
            "grant_type": "client_credential",
            "appid": settings.app_id,
            "secret": os.environ.get(settings.app_secret_env, ""),
            "force_refresh": False,
        },
        timeout=timeout,
    )
    data = response.json()
    if "access_token" in data:
        return Finding("接口 / endpoint", Level.OK, "凭据有效 / reachable, credentials accepted")
    return Finding(
        "接口 / endpoint",
        Level.BLOCKING,
        f"微信接口拒绝凭据 / WeChat refused the credentials: errcode {data.get('errcode')} "
        f"{data.get('errmsg', '')}; 核对 app_id 与 {settings.app_secret_env}，以及公众号的 IP 白名单",
    )


@probe.register
def _probe_partner(settings: PartnerSettings, timeout: float) -> Finding | None:
    if settings.endpoint is None:
        return None  # a pull partner calls us
    # Any HTTP answer proves the partner's server is there; only a signed push is a delivery.
    response = httpx.get(settings.endpoint, timeout=timeout)
    return Finding("接口 / endpoint", Level.OK, f"可访问 / reachable (HTTP {response.status_code})")


# An unreachable WeChat account stops every push; a partner's outage is retried delivery by delivery.
UNREACHABLE: dict[type[BaseModel], Level] = {WechatSettings: Level.BLOCKING, PartnerSettings: Level.WARNING}


def check_endpoints(channels: Iterable[Channel], timeout: float = PROBE_TIMEOUT) -> list[Finding]:
    found: list[Finding] = []
    for channel in channels:
        name = f"接口 / endpoint: {channel.name}"
        try:
            problem = probe(channel.settings, timeout)
        except (httpx.HTTPError, ValueError) as exc:
            level = UNREACHABLE.get(type(channel.settings), Level.WARNING)
            found.append(
                Finding(
                    name,
                    level,
                    f"无法访问 / unreachable: {type(exc).__name__}: {exc}; 检查 {channel.source} 中的地址和网络",
                )
            )
            continue
        if problem is not None:
            found.append(Finding(name, problem.level, problem.detail))
    return found


# -- calendar ----------------------------------------------------------------------------------------
def _rules(room: Newsroom) -> NewsroomRules:
    import tomllib

    path = room.schedules_dir / RULES_FILE
    if not path.is_file():
        return NewsroomRules()
    return NewsroomRules.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))


def check_calendar(room: Newsroom, today: date) -> list[Finding]:
    try:
        rules = _rules(room)
    except ValueError as exc:  # TOMLDecodeError and ValidationError are both ValueErrors
        return [
            Finding(
                "工作日历 / calendar", Level.BLOCKING, f"{RULES_FILE} 有误，请运行 publisher check: {exc}"
            )
        ]
    calendar = WorkingCalendar(rules.calendar)
    guessed = sorted(
        {
            day.year
            for day in (today + timedelta(days=n) for n in range(CALENDAR_DAYS))
            if calendar.day(day).guessed
        }
    )
    if not guessed:
        return [
            Finding("工作日历 / calendar", Level.OK, "未来 12 个月已覆盖 / the next 12 months are covered")
        ]
    years = "、".join(str(y) for y in guessed)
    return [
        Finding(
            "工作日历 / calendar",
            Level.WARNING,
            f"{years} 年尚无国务院节假日安排，按 {rules.calendar.fallback} 推算；请升级 chinesecalendar 或在 "
            f"schedules/{RULES_FILE} 补录 [[calendar.override]] / no holiday data for {years}: "
            "update chinesecalendar or add overrides",
        )
    ]


# -- review staffing ---------------------------------------------------------------------------------
_LEVELS = {Severity.BLOCKING: Level.BLOCKING, Severity.WARNING: Level.WARNING}


def staffing(stages: list[ReviewStage], people: list[Person], committees: list[str]) -> list[Finding]:
    """The review rule's findings (review/staffing.py) as doctor findings. A one-person role is a
    risk the console's user page shows; it does not stop a release, so the doctor leaves it out."""
    found = [
        Finding("审核人员 / review staffing", _LEVELS[f.severity], f.message)
        for f in review_staffing(stages, people, committees)
        if f.severity in _LEVELS
    ]
    if not found:
        found.append(
            Finding(
                "审核人员 / review staffing", Level.OK, "每个环节都有足够的不同人员 / every stage is staffed"
            )
        )
    return found


def _stored_people(room: Newsroom) -> list[Person] | None:
    if _sqlite_not_created(room):
        return None
    engine = make_engine(room.database_url)
    try:
        with Session(engine) as session:
            # The engine's service account (made by the migrations) signs nothing: a newsroom whose
            # people are not created yet has none, whatever else the store holds.
            users = session.exec(
                select(StaffUser).where(col(StaffUser.active).is_(True), StaffUser.kind == UserKind.PERSON)
            ).all()
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    return [person_of(u) for u in users]


def _seeded(seeds: list[UserSeed]) -> list[Person]:
    return [Person(s.username, frozenset(s.roles), frozenset(s.committees)) for s in seeds]


def check_staffing(room: Newsroom) -> list[Finding]:
    settings = room.settings
    stored = _stored_people(room)
    if stored:
        return staffing(settings.review.stages, stored, settings.committees)
    found = staffing(settings.review.stages, _seeded(settings.users), settings.committees)
    if settings.users and all(f.level is not Level.BLOCKING for f in found):
        found.append(
            Finding(
                "审核人员 / review staffing",
                Level.WARNING,
                "[[users]] 中的人员尚未创建，请运行 publisher users sync / the declared users are not created "
                "yet: run `publisher users sync`",
            )
        )
    return found


# -- this machine ------------------------------------------------------------------------------------
def check_previews() -> list[Finding]:
    """Browser previews need a system CJK font and a browser; publishing does not. Long images
    and covers are set in the fonts the install ships, never a system font."""
    found: list[Finding] = [_image_fonts()]
    fonts = ""
    if shutil.which("fc-list"):
        fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=10).stdout
    if fonts.strip():
        found.append(Finding("中文字体 / CJK fonts", Level.OK, "已安装 / installed"))
    else:
        found.append(
            Finding(
                "中文字体 / CJK fonts",
                Level.WARNING,
                "未找到中文字体，浏览器预览会缺字 / no CJK font for browser previews: install e.g. fonts-noto-cjk",
            )
        )
    browsers = ("chromium", "chromium-browser", "google-chrome", "chrome")
    browser = next((b for b in browsers if shutil.which(b)), None)
    if browser is None:
        playwright = Path.home() / ".cache" / "ms-playwright"
        browser = str(playwright) if playwright.is_dir() and any(playwright.glob("chromium*")) else None
    if browser:
        found.append(Finding("浏览器 / browser", Level.OK, f"可用于预览 / for previews: {browser}"))
    else:
        found.append(
            Finding(
                "浏览器 / browser",
                Level.WARNING,
                "未找到 Chromium，手机预览截图不可用 / no Chromium: `playwright install chromium`",
            )
        )
    return found


def _image_fonts() -> Finding:
    missing = [face.value for face in Face if not font_path(face).is_file()]
    if missing:
        return Finding(
            "长图字体 / long-image fonts",
            Level.WARNING,
            f"缺少 {', '.join(missing)}，请重新安装 / missing: reinstall publisher (pylopdf-fonts-zh-cn)",
        )
    engine = "libraqm" if layout_engine() is ImageFont.Layout.RAQM else "basic"
    return Finding(
        "长图字体 / long-image fonts", Level.OK, f"Noto Sans SC / Serif SC，排版 / layout: {engine}"
    )


def check_disk(room: Newsroom) -> list[Finding]:
    where = room.var_dir
    while not where.exists():
        where = where.parent
    free = shutil.disk_usage(where).free
    shown = f"{free / (1 << 30):.1f} GiB"
    if free < DISK_BLOCK_BYTES:
        level = Level.BLOCKING
    elif free < DISK_WARN_BYTES:
        level = Level.WARNING
    else:
        level = Level.OK
    advice = (
        ""
        if level is Level.OK
        else "；请清理磁盘或把 paths.var 指向更大的磁盘 / free space or move paths.var"
    )
    return [Finding("磁盘空间 / disk", level, f"{where} 可用 {shown} / free{advice}")]


def diagnose(room: Newsroom, today: date | None = None, timeout: float = PROBE_TIMEOUT) -> list[Finding]:
    """Every check, in the order a person would fix them."""
    enabled = [c for c in room.channels.channels.values() if c.enabled]
    findings = check_database(room)
    secrets = check_secrets(enabled)
    findings += secrets or [Finding("密钥 / secrets", Level.OK, "全部已设置 / every secret is set")]
    findings += check_endpoints(enabled, timeout)
    findings += check_calendar(room, today or utc_now().astimezone(room.settings.tz).date())
    findings += check_staffing(room)
    people = _stored_people(room) or _seeded(room.settings.users)
    findings += check_notify(room.settings.notify, [p.username for p in people])
    findings += check_previews()
    findings += check_disk(room)
    return findings


def blocking(room: Newsroom) -> list[str]:
    """What must be fixed before `publisher run` may start; empty when nothing blocks."""
    return [f"{f.check}: {f.detail}" for f in diagnose(room) if f.level is Level.BLOCKING]
