"""Newsroom settings: `publisher.toml`, overridable by `PUBLISHER_*` environment variables."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from publisher.errors import ConfigError, Problem
from publisher.tomlproblems import TomlSource, did_you_mean, validation_problems

CONFIG_FILE = "publisher.toml"
_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NewsroomInfo(Strict):
    name: str = Field(min_length=1)
    full_name: str | None = None
    city: str = ""
    timezone: str = "Asia/Shanghai"
    language: str = "zh-CN"
    # 网站标识码: the government website identifier the site's pages carry (meta SiteIDCode).
    site_id_code: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"未知时区 / unknown timezone {value!r}") from exc
        return value


class Column(Strict):
    key: str
    name: str = Field(min_length=1)
    description: str = ""
    # The inspection checklist's column class: 动态/要闻 ("news", stale after 2 weeks), 通知公告/
    # 政策文件 ("notice", stale after 6 months) or anything else ("other": blank is still a finding).
    category: Literal["news", "notice", "other"] = Field(
        default="other", description="news (动态/要闻) | notice (通知公告/政策文件) | other"
    )

    @field_validator("key")
    @classmethod
    def _ascii_key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError(
                "栏目 key 须为小写 ASCII 单词以连字符连接 / key must be lower-case ASCII words joined by '-'"
            )
        return value


class Paths(Strict):
    content: str = "content"
    schedules: str = "schedules"
    channels: str = "channels"
    review: str = "review"  # the newsroom-editable terminology and secrecy-marking lists
    bulletins: str = "bulletins"  # printed bulletins (公报) and their issues: publisher bulletin
    var: str = "var"


Role = Literal[
    "author",
    "editor",
    "proofreader",
    "department_head",
    "committee_reviewer",
    "leader",
    "principal_leader",
    "admin",
]
ROLES: tuple[str, ...] = get_args(Role)
Condition = Literal["always", "committee", "meeting_report", "sensitive"]


class ReviewStage(Strict):
    key: str
    name: str = Field(min_length=1)
    role: Role
    when: Condition = "always"
    role_when_sensitive: Role | None = None

    @field_validator("key")
    @classmethod
    def _ascii_key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError(
                "阶段 key 须为小写 ASCII 单词以连字符连接 / key must be lower-case ASCII words joined by '-'"
            )
        return value


# 三审三校: three review levels, three proofreading passes, the conditional checks, leader sign-off.
DEFAULT_STAGES = (
    ReviewStage(key="first-review", name="初审", role="editor"),
    ReviewStage(key="proof-1", name="一校", role="proofreader"),
    ReviewStage(key="second-review", name="复审", role="department_head"),
    ReviewStage(key="committee-review", name="专委会审核", role="committee_reviewer", when="committee"),
    ReviewStage(key="proof-2", name="二校", role="proofreader"),
    ReviewStage(key="procedure-check", name="程序符合性校验", role="editor", when="meeting_report"),
    ReviewStage(key="proof-3", name="三校", role="proofreader"),
    ReviewStage(key="final-review", name="终审", role="leader", role_when_sensitive="principal_leader"),
)
SIGN_OFF_ROLES = frozenset({"leader", "principal_leader"})


class ReviewSettings(Strict):
    stages: list[ReviewStage] = list(DEFAULT_STAGES)

    @model_validator(mode="after")
    def _sound_chain(self) -> ReviewSettings:
        if not self.stages:
            raise ValueError("审核流程至少需要一个阶段 / the review chain needs at least one stage")
        keys = [stage.key for stage in self.stages]
        if len(set(keys)) != len(keys):
            raise ValueError(f"阶段 key 重复 / duplicate stage keys: {keys}")
        last = self.stages[-1]
        if last.when != "always" or last.role not in SIGN_OFF_ROLES:
            raise ValueError(
                "最后一个阶段须为领导终审（always, leader/principal_leader） / the last stage must always apply "
                "and be signed off by a leader: every external release is approved by a leader"
            )
        return self


class EngineSettings(Strict):
    """How `publisher run` behaves. Durations in seconds."""

    lease_seconds: float = Field(default=60, gt=0)  # a dead worker's claims return after this
    poll_seconds: float = Field(default=2, gt=0)  # how often a worker looks for new or changed work
    horizon_seconds: float = Field(default=600, gt=0)  # clock jobs are kept only this far ahead
    grace_seconds: float = Field(default=3600, ge=0)  # a worker back from downtime still sends this late
    max_attempts: int = Field(default=5, ge=1)
    backoff_base_seconds: float = Field(default=30, gt=0)
    backoff_max_seconds: float = Field(default=3600, gt=0)
    batch: int = Field(default=50, ge=1)  # deliveries claimed per round
    claim_ahead_seconds: float = Field(default=0.25, ge=0)  # claim this early, perform on the dot
    heartbeat_seconds: float = Field(default=5, gt=0)


class AuthSettings(Strict):
    """How staff sign in (console sessions, command-line tokens) and what locks an account."""

    session_idle_minutes: int = Field(default=30, ge=1)  # a console session unused this long ends
    session_absolute_hours: int = Field(default=12, ge=1)  # and every session ends this long after login
    max_failures: int = Field(default=5, ge=1)  # failed logins in a row before the account is locked
    lockout_minutes: int = Field(default=15, ge=1)
    token_days: int = Field(default=90, ge=1)  # a `publisher login` token expires after this
    # Roles whose holders must use a second factor (TOTP) to sign in, e.g. ["leader", "admin"].
    totp_roles: list[Role] = []


class UserSeed(Strict):
    username: str = Field(pattern=r"^[a-z][a-z0-9_.-]{1,63}$")
    name: str = Field(min_length=1)
    roles: list[Role] = Field(min_length=1)
    committees: list[str] = []
    departments: list[str] = []
    email: str | None = None  # where e-mail notifications to this person go

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else check_email(value)


_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")


def check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"不是有效的电子邮件地址 / not an e-mail address: {value!r}")
    return value


def _env_name(value: str | None) -> str | None:
    """Secrets stay out of the file: a setting names the environment variable that holds one."""
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(
            f"须为环境变量名（大写字母、数字、下划线），不是密钥本身 / must name an environment variable "
            f"(A-Z, 0-9, _), not hold the secret itself: {value[:4]}…"
        )
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"须为 http(s) 网址 / must be an http(s) URL: {value!r}")
    return value


class SmtpSettings(Strict):
    """The mail server notifications go out through (stdlib smtplib)."""

    host: str = Field(min_length=1)
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False  # upgrade the connection with STARTTLS before logging in
    username: str | None = None  # log in as this user (none: send without logging in)
    password_env: str | None = None  # the environment variable holding the password
    from_address: str  # the From: of every message
    timeout_seconds: float = Field(default=10, gt=0)  # a server slower than this is tried again later

    @field_validator("password_env")
    @classmethod
    def _password_env(cls, value: str | None) -> str | None:
        return _env_name(value)

    @field_validator("from_address")
    @classmethod
    def _from(cls, value: str) -> str:
        return check_email(value)


class WebhookSettings(Strict):
    """A group robot that announces notices: WeCom (企业微信) or DingTalk (钉钉)."""

    name: str  # how the outbox and the audit log name it
    kind: Literal["wecom", "dingtalk"]  # 企业微信 or 钉钉 group robot
    url: str | None = None  # the robot's webhook address
    url_env: str | None = None  # or: the environment variable holding it (its key is a secret too)
    secret_env: str | None = None  # DingTalk's signing secret (加签), by environment variable name
    roles: list[Role] = []  # announce notices addressed to people with these roles
    usernames: list[str] = []  # and notices addressed to these people

    @field_validator("name")
    @classmethod
    def _ascii_key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError(
                "名称须为小写 ASCII 单词以连字符连接 / name must be lower-case ASCII words joined by '-'"
            )
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @field_validator("url_env", "secret_env")
    @classmethod
    def _envs(cls, value: str | None) -> str | None:
        return _env_name(value)

    @model_validator(mode="after")
    def _complete(self) -> WebhookSettings:
        if (self.url is None) == (self.url_env is None):
            raise ValueError(
                f"机器人 {self.name} 须给出 url 或 url_env 之一 / give exactly one of url, url_env"
            )
        if self.secret_env is not None and self.kind != "dingtalk":
            raise ValueError("secret_env 只用于钉钉加签 / secret_env is for DingTalk's signed robot only")
        if not self.roles and not self.usernames:
            raise ValueError(
                f"机器人 {self.name} 须指定 roles 或 usernames / name the roles or usernames it announces to"
            )
        return self


class NotifySettings(Strict):
    """Who hears of what, and the outward channels notices also go through."""

    duty_editors: list[str] = []  # usernames told of failed, held and missed releases
    console_url: str | None = None  # the console's address, to make links in outward messages whole
    smtp: SmtpSettings | None = None  # e-mail to each person's `email` (see [[users]])
    webhooks: list[WebhookSettings] = []  # group robots (WeCom, DingTalk)
    max_attempts: int = Field(default=5, ge=1)  # an outward message is given up after this many
    backoff_base_seconds: float = Field(default=30, gt=0)  # the first retry's wait, doubled each time
    backoff_max_seconds: float = Field(default=3600, gt=0)  # the longest wait between retries
    batch: int = Field(default=20, ge=1)  # outward messages sent per round of the engine
    lease_seconds: float = Field(default=60, gt=0)  # a dead sender's claims return after this

    @field_validator("duty_editors")
    @classmethod
    def _usernames(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not _USERNAME.match(v)]
        if bad:
            raise ValueError(f"不是用户名 / not usernames: {bad}")
        return value

    @field_validator("console_url")
    @classmethod
    def _console(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value).rstrip("/")

    @model_validator(mode="after")
    def _unique_webhooks(self) -> NotifySettings:
        names = [w.name for w in self.webhooks]
        if len(set(names)) != len(names):
            raise ValueError(f"机器人名称重复 / duplicate webhook names: {names}")
        return self


class ConsultationSettings(Strict):
    """Public consultation (征求意见): where the website's comment forms post, and the limits on
    what a comment may be and how often one may be sent."""

    # `publisher serve`'s public address as the website reaches it; without it, no form.
    api_base: str | None = None
    # Origins whose pages may call the API from a script (default: every website's base_url).
    allowed_origins: list[str] = []
    max_chars: int = Field(default=5000, ge=100)  # the longest comment text, in characters
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)  # the largest attachment
    per_address_per_hour: int = Field(default=30, ge=1)  # comments from one client address per hour
    per_contact_per_day: int = Field(default=20, ge=1)  # comments with one phone or e-mail per day
    # Contacts are deleted this many days after the feedback report is published.
    contact_retention_days: int = Field(default=180, ge=1)

    @field_validator("api_base")
    @classmethod
    def _api_base(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value).rstrip("/")

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [_http_url(v).rstrip("/") for v in value]


# Settings that the environment may override. Others (the taxonomy, paths) belong to the newsroom's
# files alone; PUBLISHER_NEWSROOM, for one, names a folder and must not be read as [newsroom].
ENV_PREFIX = "PUBLISHER_"
ENV_OVERRIDABLE = frozenset({"database_url"})


def environment_overrides() -> dict[str, str]:
    """The overridable settings the environment sets (`PUBLISHER_DATABASE_URL`, its name in any
    case), which outrank the file so that one checkout can point at PostgreSQL in CI.

    Read here rather than through pydantic-settings: importing it (its sources for dotenv, cloud
    secrets, CLI parsing) cost every command about 3% of `publisher articles` (callgrind) for
    this one variable."""
    wanted = {ENV_PREFIX.lower() + name: name for name in ENV_OVERRIDABLE}
    return {wanted[key.lower()]: value for key, value in os.environ.items() if key.lower() in wanted}


class NewsroomSettings(BaseModel):
    """Everything `publisher.toml` declares; `PUBLISHER_DATABASE_URL` wins over the file."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    newsroom: NewsroomInfo
    database_url: str | None = None
    paths: Paths = Paths()
    columns: list[Column] = Field(min_length=1)
    departments: list[str] = Field(min_length=1)
    committees: list[str] = []
    review: ReviewSettings = ReviewSettings()
    engine: EngineSettings = EngineSettings()
    auth: AuthSettings = AuthSettings()
    users: list[UserSeed] = []
    notify: NotifySettings = NotifySettings()
    consultation: ConsultationSettings = ConsultationSettings()

    @model_validator(mode="before")
    @classmethod
    def _environment_wins(cls, data: Any) -> Any:
        # Every construction, not only load_settings, as when these were pydantic-settings.
        overrides = environment_overrides()
        if overrides and isinstance(data, dict):
            return {**data, **overrides}
        return data

    @model_validator(mode="after")
    def _users_name_declared_committees(self) -> NewsroomSettings:
        declared = set(self.committees)
        for seed in self.users:
            unknown = [c for c in seed.committees if c not in declared]
            if unknown:
                raise ValueError(
                    f"用户 {seed.username} 的专门委员会未声明 / undeclared committees: {unknown}"
                    f"{did_you_mean(unknown[0], declared)}"
                )
        names = [seed.username for seed in self.users]
        if len(set(names)) != len(names):
            raise ValueError("用户名重复 / duplicate usernames in [[users]]")
        return self

    @model_validator(mode="after")
    def _unique_columns(self) -> NewsroomSettings:
        seen: set[str] = set()
        for column in self.columns:
            for ident in (column.key, column.name):
                if ident in seen:
                    raise ValueError(f"栏目重复 / duplicate column {ident!r}")
                seen.add(ident)
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.newsroom.timezone)

    def column(self, name_or_key: str) -> Column | None:
        for column in self.columns:
            if name_or_key in (column.name, column.key):
                return column
        return None


def _toml_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


# publisher.toml writes the database URL as `[database] url`; the model keeps it flat so the
# environment can override it.
_WRITTEN: dict[tuple[str | int, ...], tuple[str | int, ...]] = {("database_url",): ("database", "url")}


def _read(root: Path) -> tuple[dict[str, Any], TomlSource]:
    path = root / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(
            [
                Problem(
                    CONFIG_FILE,
                    f"找不到配置文件 / no {CONFIG_FILE} in {root}; "
                    "在新闻室目录中运行，或用 -N / PUBLISHER_NEWSROOM 指定，或用 publisher init 新建",
                )
            ]
        )
    try:
        text = path.read_text(encoding="utf-8")
        data: dict[str, Any] = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ConfigError([Problem(CONFIG_FILE, "文件不是 UTF-8 编码 / file is not UTF-8")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            [Problem(CONFIG_FILE, f"TOML 语法错误 / syntax error: {exc}", line=_toml_line(str(exc)))]
        ) from None
    database = data.pop("database", {})
    if isinstance(database, dict) and "url" in database:
        data["database_url"] = database.pop("url")
    return data, TomlSource(CONFIG_FILE, text)


def load_settings(root: Path) -> NewsroomSettings:
    """Read and validate `publisher.toml`; every problem is reported at once as a ConfigError."""
    data, source = _read(root)
    try:
        return NewsroomSettings(**data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, source, NewsroomSettings, written=_WRITTEN)) from None


def _has(node: Any, key: str | int) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)


def _drop(data: dict[str, Any], loc: tuple[str | int, ...]) -> tuple[Any, str | int] | None:
    """Where the error at `loc` can be cut out: the innermost list item, else the key itself."""
    path = list(loc)
    if not path:
        return None
    cut = max((i for i, part in enumerate(path) if isinstance(part, int)), default=len(path) - 1)
    node: Any = data
    for part in path[:cut]:
        if not _has(node, part):
            return None
        node = node[part]
    key = path[cut]
    return (node, key) if _has(node, key) else None


def salvage_settings(root: Path) -> tuple[NewsroomSettings | None, list[Problem]]:
    """The settings with every broken entry left out, and the problems; for `publisher check`.

    A mistake in publisher.toml must not hide the mistakes in channel and campaign files: with the
    broken keys and list items cut out (a default takes their place), the other files are still
    checked against what remains. None when a required part cannot be recovered.
    """
    try:
        return load_settings(root), []
    except ConfigError as exc:
        problems = exc.problems
    try:
        data, _source = _read(root)
    except ConfigError:
        return None, problems
    for _round in range(12):
        try:
            return NewsroomSettings(**data), problems
        except ValidationError as exc:
            cuts = [c for c in (_drop(data, tuple(e["loc"])) for e in exc.errors()) if c is not None]
            if not cuts:
                return None, problems
            # Highest index first, so cutting one list item leaves the others' places intact.
            for node, key in sorted(cuts, key=lambda c: c[1] if isinstance(c[1], int) else -1, reverse=True):
                if _has(node, key):
                    del node[key]
    return None, problems
