"""The `publisher` command: a thin face over the service layer.

The root group lists every command from CATALOG and imports a command's module only when that
command runs (`publisher/cli/lazy.py`), so `publisher --help` loads neither the store nor the web
stack, and `publisher articles` loads what listing articles needs. A new top-level command or
sub-app is one line here; `tests/test_cli_catalog.py` fails until the line matches the module.
"""

from __future__ import annotations

import typer

from publisher.cli.lazy import Listed, lazy_group

# In the order `publisher --help` shows them: single commands, then the sub-apps.
CATALOG: tuple[Listed, ...] = (
    Listed(
        "init",
        "core_cmd",
        "新建完整的新闻室（可立即校验和发布） / create a complete newsroom, ready to publish.",
    ),
    Listed(
        "check",
        "core_cmd",
        "校验全部设置、渠道、排期和稿件文件，不写入任何数据 / validate everything, store nothing.",
    ),
    Listed(
        "config-docs",
        "core_cmd",
        "由设置模型生成配置参考文档 / write the configuration reference from the settings models.",
    ),
    Listed("ingest", "core_cmd", "入库：每次改动生成不可变版本 / ingest content/ into immutable revisions."),
    Listed(
        "channels", "core_cmd", "列出渠道（channels/ 中的文件） / list the channels declared in channels/."
    ),
    Listed("demo", "core_cmd", "运行演示新闻室的完整流程 / run the demo newsroom end to end."),
    Listed("login", "login_cmd", "登录并保存个人令牌 / sign in and keep a personal token for this newsroom."),
    Listed(
        "logout",
        "login_cmd",
        "注销：撤销并删除本机保存的令牌 / sign out: revoke and forget the stored token.",
    ),
    Listed("whoami", "login_cmd", "当前身份 / who the commands act as."),
    Listed("console", "console_cmd", "员工工作台（网页） / the staff web console."),
    Listed(
        "doctor",
        "doctor_cmd",
        "上线前自检：数据库、密钥、接口、日历、审核人员、字体、磁盘 / preflight checks.",
    ),
    Listed("schedule", "engine_cmd", "安排发布 / schedule an article on channels."),
    Listed("unschedule", "engine_cmd", "取消尚未发出的发布 / cancel releases not yet performed."),
    Listed("queue", "queue_cmd", "待发队列（按渠道，本地时间） / what is due, per channel, in local time."),
    Listed(
        "run",
        "engine_cmd",
        "运行发布引擎 / run a delivery worker (SIGTERM finishes in-flight work and releases claims).",
    ),
    Listed("status", "engine_cmd", "引擎与队列状态（默认只列在线引擎） / live workers and delivery counts."),
    Listed("pause", "engine_cmd", "紧急暂停全部发布 / emergency: stop every release, newsroom-wide."),
    Listed("resume", "engine_cmd", "恢复发布 / resume releases."),
    Listed(
        "build",
        "site_cmd",
        "构建网站和订阅源并原子部署到 public/ / build the website and feeds, deploy atomically.",
    ),
    Listed("preview", "site_cmd", "在本机预览已构建的网站（仅 127.0.0.1） / serve public/ on 127.0.0.1."),
    Listed(
        "inspect",
        "inspect_cmd",
        "定期清查：网站与各渠道在线内容对照审定稿件与检查指标 / inspect everything live.",
    ),
    Listed(
        "retract", "supply_cmd", "撤稿：所有渠道撤下，合作媒体收到撤稿通知 / retract an article everywhere."
    ),
    Listed(
        "serve",
        "supply_cmd",
        "HTTP 服务（仅 127.0.0.1）：合作媒体订阅源与采用回执，文档在 /docs / the HTTP service.",
    ),
    Listed(
        "plan",
        "plan_cmd",
        "排期：月历、时段状态、空缺预警、导出日历 / the plan: month grid, slot states, warnings, iCalendar.",
    ),
    Listed(
        "backup",
        "backup_cmd",
        "备份数据库、素材和新闻室文件，附哈希清单 / back up the database, blobs and newsroom files.",
    ),
    Listed(
        "restore",
        "backup_cmd",
        "恢复到空文件夹和空数据库并逐项校验 / restore into an empty folder and database, verified.",
    ),
    Listed(
        "publish",
        "publish_cmd",
        "立即发布（经发布引擎与发布闸门） / publish now, through the engine and its gate.",
    ),
    Listed(
        "restore-article",
        "publish_cmd",
        "解除撤稿：稿件须重新送审，通过后才能再发布 / lift a retraction; the article goes back through review.",
    ),
    Listed("tokens", "login_cmd", "命令行令牌 / command-line tokens."),
    Listed("articles", "articles_cmd", "稿件 / articles and their revisions.", group=True),
    Listed("audit", "audit_cmd", "审计日志 / the hash-chained audit log.", group=True),
    Listed("db", "db_cmd", "数据库 / the database schema.", group=True),
    Listed("users", "users_cmd", "用户与角色 / staff users and roles.", group=True),
    Listed("review", "review_cmd", "三审三校 / the review chain.", group=True),
    Listed("sandbox", "sandbox_cmd", "本地沙箱 / local fakes of the publishing platforms.", group=True),
    Listed("wechat", "wechat_cmd", "微信公众号 / the WeChat official account channel.", group=True),
    Listed("image", "image_cmd", "长图与封面 / long images and generated covers.", group=True),
    Listed("bulletin", "bulletin_cmd", "印刷版公报 / printed bulletins, an issue at a time.", group=True),
    Listed("supply", "supply_cmd", "合作媒体供稿 / partner supply.", group=True),
    Listed("report", "report_cmd", "报表 / reports.", group=True),
    Listed("notify", "notify_cmd", "通知 / notices to staff, in the console and outward.", group=True),
    Listed(
        "consultation", "consultation_cmd", "征求意见 / public consultation on draft regulations.", group=True
    ),
)

app = typer.Typer(
    name="publisher",
    help="多渠道发布与媒体矩阵排期 / multi-channel publishing with a review chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    cls=lazy_group(CATALOG),
)


@app.callback()
def root() -> None:
    # Typer makes a group only for an app with a callback or registered commands; ours has
    # neither until a command resolves, so this empty callback keeps `publisher` a group.
    pass


def main() -> None:
    app()
