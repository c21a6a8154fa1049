"""The files `publisher init` writes, as templates filled from the newsroom's answers.

They live in the package, not in the repository's demo, so a newsroom made anywhere is complete
and owes nothing to a checkout. Every file is commented for the staff member who edits it first;
placeholders are `str.format` fields ({name}, {city}, ...), so literal braces are doubled.
"""

from __future__ import annotations

from typing import NamedTuple


class SampleColumn(NamedTuple):
    key: str
    name: str
    description: str
    department: str
    weekday: str
    time: str
    title: str
    body: str


COLUMNS: tuple[SampleColumn, ...] = (
    SampleColumn(
        key="news",
        name="工作动态",
        description="常委会会议、重要活动和工作动态",
        department="办公室",
        weekday="mon",
        time="10:00",
        title="{city}人大常委会新闻发布平台启用",
        body=(
            "{city}人民代表大会常务委员会新闻发布平台今日启用。稿件经三审三校后，"
            "按排期同时发布到门户网站、订阅源、微信公众号和合作媒体。\n\n"
            "这是一篇示例稿件：请在 content/news/ 中用本单位的真实稿件替换它。\n"
        ),
    ),
    SampleColumn(
        key="legislation",
        name="立法工作",
        description="法规草案征求意见、审议和新法规解读",
        department="法制工作委员会",
        weekday="tue",
        time="10:00",
        title="{city}地方性法规草案公开征求意见的途径",
        body=(
            "法规草案提请常委会审议前，通过门户网站和基层立法联系点公开征求意见。"
            "市民可以在线提交意见，也可以到就近的联系点当面反映。\n\n"
            "这是一篇示例稿件：请在 content/legislation/ 中用本单位的真实稿件替换它。\n"
        ),
    ),
    SampleColumn(
        key="supervision",
        name="监督工作",
        description="执法检查、专题询问、工作评议和整改跟踪",
        department="办公室",
        weekday="wed",
        time="10:00",
        title="{city}人大常委会年度监督工作计划发布",
        body=(
            "年度监督工作计划安排了听取和审议专项工作报告、执法检查和专题询问等项目，"
            "每个项目的进展将在本栏目持续报道。\n\n"
            "这是一篇示例稿件：请在 content/supervision/ 中用本单位的真实稿件替换它。\n"
        ),
    ),
    SampleColumn(
        key="deputies",
        name="代表风采",
        description="人大代表履职故事",
        department="代表工作委员会",
        weekday="thu",
        time="10:00",
        title="走进{city}人大代表联络站",
        body=(
            "代表联络站是人大代表联系群众的平台。每月固定接待日，代表们在这里听取群众意见，"
            "梳理后形成建议，推动问题解决。\n\n"
            "这是一篇示例稿件：请在 content/deputies/ 中用本单位的真实稿件替换它。\n"
        ),
    ),
)


PUBLISHER_TOML = """\
# {name}：新闻室设置 / newsroom settings.
# 参考：publisher config-docs 生成的 docs/configuration.md 列出每个键、类型和默认值。
# Paths are relative to this folder; runtime state (database, blobs, builds) goes to var/.

# 稿件 front matter 只能使用这里声明的部门和专门委员会 / the names front matter may use.
departments = ["办公室", "研究室", "法制工作委员会", "代表工作委员会"]
committees = ["法制委员会", "财政经济委员会"]

[newsroom]
name = "{name}"
full_name = "{full_name}"
city = "{city}"
# 所有时间按此时区显示和排期，数据库中存 UTC / times are shown and planned in this zone.
timezone = "{timezone}"
language = "zh-CN"

[database]
# 默认使用 var/publisher.db（SQLite）。多进程或生产环境请用 PostgreSQL，例如：
# url = "postgresql+psycopg://publisher@127.0.0.1:5432/publisher"
# 环境变量 PUBLISHER_DATABASE_URL 优先于此处。

# 栏目：key 用于文件夹和网址，name 是读者看到的名称 / columns: key for paths, name for readers.
{columns}
# 审核流程（三审三校）。按顺序执行；when 取 always、committee（稿件涉及专门委员会）、
# meeting_report（会议报道）、sensitive。最后一个阶段须为领导终审。
# The review chain; the last stage must be a leader's sign-off.
[[review.stages]]
key = "first-review"
name = "初审"
role = "editor"

[[review.stages]]
key = "proof-1"
name = "一校"
role = "proofreader"

[[review.stages]]
key = "second-review"
name = "复审"
role = "department_head"

[[review.stages]]
key = "committee-review"
name = "专委会审核"
role = "committee_reviewer"
when = "committee"

[[review.stages]]
key = "proof-2"
name = "二校"
role = "proofreader"

[[review.stages]]
key = "procedure-check"
name = "程序符合性校验"
role = "editor"
when = "meeting_report"

[[review.stages]]
key = "proof-3"
name = "三校"
role = "proofreader"

[[review.stages]]
key = "final-review"
name = "终审"
role = "leader"
role_when_sensitive = "principal_leader"

# 发布引擎（publisher run），单位：秒。默认值适合大多数新闻室 / engine tuning, in seconds.
# [engine]
# poll_seconds = 2
# grace_seconds = 3600

# 用户示例：每个角色至少一人；三校需要三名不同的校对。运行 publisher users sync 创建，
# 先用 publisher users passwd admin 设置管理员密码（此时无需登录），管理员登录后再为其他人设置。
# 请换成本单位的真实人员。
# Example staff, one or more per role (three proofreaders for the three proofreading passes).
[[users]]
username = "author1"
name = "示例作者"
roles = ["author"]

[[users]]
username = "editor1"
name = "示例编辑"
roles = ["editor"]

# 程序符合性校验（会议报道）也由编辑签署，与初审不能是同一人，所以需要两名编辑。
[[users]]
username = "editor2"
name = "示例编辑二"
roles = ["editor"]

[[users]]
username = "proof1"
name = "示例校对一"
roles = ["proofreader"]

[[users]]
username = "proof2"
name = "示例校对二"
roles = ["proofreader"]

[[users]]
username = "proof3"
name = "示例校对三"
roles = ["proofreader"]

[[users]]
username = "depthead1"
name = "示例部门负责人"
roles = ["department_head"]

[[users]]
username = "committee1"
name = "示例专委会审核人"
roles = ["committee_reviewer"]
committees = ["法制委员会"]

[[users]]
username = "committee2"
name = "示例专委会审核人二"
roles = ["committee_reviewer"]
committees = ["财政经济委员会"]

[[users]]
username = "leader1"
name = "示例分管领导"
roles = ["leader"]

[[users]]
username = "principal1"
name = "示例主要领导"
roles = ["principal_leader"]

[[users]]
username = "admin"
name = "系统管理员"
roles = ["admin"]
"""

COLUMN_ENTRY = """\
[[columns]]
key = "{key}"
name = "{name}"
description = "{description}"
"""

WEBSITE_TOML = """\
# 门户网站 / the website. `publisher site build` writes it to `output`; `publisher preview` shows it.
kind = "website"
title = "{name}网站"
description = "门户网站：栏目页、文章页"

[settings]
# 网站对外地址，用于链接、订阅源和站点地图 / the public address.
base_url = "https://{domain}"
output = "public"
page_size = 20
# scheduled：稿件在排定的发布时间由 publisher run 上线；approved：终审通过后下次构建即上线。
# scheduled: an article goes live when its release falls due; approved: on the next build.
release = "scheduled"
"""

FEED_TOML = """\
# 订阅源 / feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 for the whole site and each column.
kind = "feed"
title = "{name}订阅源"
description = "全站及各栏目的订阅源"

[settings]
site = "website"  # 订阅源链接到的网站渠道 / the website channel the items link to
formats = ["rss", "atom", "json"]
items = 30
per_column = true
"""

WECHAT_TOML = """\
# 微信公众号 / the WeChat official account.
# 在配置真实账号前，它指向本地沙箱（publisher sandbox wechat），可以完整演练发布流程。
# Until configured it points at the local sandbox. To go live: set app_id, remove api_base and
# sandbox, and put the AppSecret in the environment variable named by app_secret_env.
kind = "wechat"
title = "{name}（微信公众号）"
description = "官方微信公众号"

[settings]
app_id = "wx-sandbox-jianglan"  # 沙箱默认接受的 AppID / the sandbox's default AppID
app_secret_env = "PUBLISHER_WECHAT_SECRET"
api_base = "http://127.0.0.1:8710"
sandbox = true
pushes_per_day = 1
mass_send = false
# 静默时段（本地时间）是一个列表 / quiet hours are a LIST of "HH:MM-HH:MM" windows.
quiet_hours = ["23:00-06:30"]
max_articles = 8
# 草稿须有封面；稿件没有封面时按标题和栏目生成封面（generated_cover = false 则用这张）。
# An article without a cover gets covers drawn from its title and column; with
# generated_cover = false this one stands in.
default_cover = "channels/assets/wechat-default-cover.jpg"
generated_cover = true
# 长图分段的最大高度（像素），每段为 1 MB 以内的 JPEG / a long image goes up in segments this tall.
long_image_height = 4000
source_url = "https://{domain}/articles/{{slug}}.html"
"""

LONG_IMAGE_TEMPLATE_TOML = """\
# 长图模板 / the long-image template (publisher image long SLUG; kind: long_image articles).
# 另建 channels/templates/NAME.toml 并写 columns = ["栏目键"] 即为某栏目专用。
# Another file here with columns = ["key"] serves those columns; this one serves the rest.
title = "默认长图"
width = 1080
margin = 72
banner_text = "{{column}}"
source = "{full_name}办公厅"
# 可用 / fields: {{source}} {{editor}} {{authors}} {{date}} {{url}} {{review}}; 值为空的行不显示。
footer = ["来源：{{source}}", "责任编辑：{{editor}}", "{{review}}"]
review_line = "本文经三审三校后发布"
qr = true
qr_caption = "扫码阅读全文"

[colours]
background = "#fffdf8"
text = "#1f1f1f"
heading = "#7d1212"
accent = "#a61b1b"
muted = "#5c5c5c"
banner = "#a61b1b"
banner_text = "#ffffff"

[fonts]
# sans = Noto Sans SC, serif = Noto Serif SC (随软件安装 / installed with publisher)
body = "sans"
heading = "serif"
title = "serif"
body_size = 34
"""

PARTNER_PUSH_TOML = """\
# 合作媒体（推送）/ a partner we push signed ninjs packages to.
# 请改为对方提供的接收地址，并把共享密钥放入 secret_env 指定的环境变量。
# Set endpoint to the partner's address and the shared secret in the variable secret_env names.
kind = "partner"
title = "合作媒体（推送供稿）"
description = "签名推送稿件到合作媒体的接收接口"

[limits]
max_in_flight = 4

[settings]
outlet = "合作媒体（推送）"
mode = ["push"]
endpoint = "http://127.0.0.1:8720/ingest"
secret_env = "PUBLISHER_PARTNER_PUSH_SECRET"
columns = []  # 空列表表示全部栏目 / empty: every column
full_text = true
images = "url"
trusted_for_embargo = false
timeout_seconds = 10
"""

PARTNER_PULL_TOML = """\
# 合作媒体（拉取）/ a partner that pulls feeds with a token (publisher supply token issue partner-pull).
kind = "partner"
title = "合作媒体（拉取供稿）"
description = "凭令牌拉取订阅源"

[settings]
outlet = "合作媒体（拉取）"
mode = ["pull"]
columns = []  # 空列表表示全部栏目 / empty: every column
full_text = false
images = "url"
formats = ["ninjs", "atom", "rss", "json"]
feed_items = 50
"""

KEY_DATES_TOML = """\
# 关键日期：专题排期以它们为锚点。日期为本地日期 / key dates campaigns anchor on (local dates).
# [[annual]] 每年重复（MM-DD）；[[dated]] 只发生一次（start，可选 end）。
# 引用方式：key、name 或别名，可加偏移，如 `宪法日 - 7d`、`npc-session-{next_year}.end + 1d`。

[[annual]]
key = "constitution-day"
name = "国家宪法日"
date = "12-04"
aliases = ["宪法日"]

[[annual]]
key = "npc-founding"
name = "全国人民代表大会成立纪念日"
date = "09-15"

# 全国人民代表大会会议：示例日期，以正式公布的为准 / example dates: use the announced ones.
[[dated]]
key = "npc-session-{next_year}"
name = "十四届全国人大第{npc_session}次会议"
kind = "congress-session"
start = {next_year}-03-05
end = {next_year}-03-11
aliases = ["全国两会"]

# 本级人民代表大会会议和常委会会议：先在 meetings.toml 登记，再在此按 id 引用，例如：
# Your own congress's sessions: register them in meetings.toml, then refer to them by id:
# [[dated]]
# key = "local-congress-{next_year}"
# meeting = "congress-18-1"
# aliases = ["市人代会"]
"""

MEETINGS_TOML = """\
# 会议登记簿：会议报道据此核对名称、届次、日期和表决结果（程序符合性校验）。
# The meeting register meeting reports are checked against. One [[meeting]] per meeting, e.g.:
#
# [[meeting]]
# id = "congress-18-1"
# body = "congress"                 # congress（人民代表大会）或 standing-committee（常委会）
# name = "{city}第十八届人民代表大会第一次会议"
# term = 18
# session = 1
# start = {next_year}-01-10
# end = {next_year}-01-13
#
# [[meeting.items]]
# title = "关于政府工作报告的决议"
# voted = true
# result = {{ for = 400, against = 0, abstain = 2, passed = true }}
"""

RULES_TOML = """\
# 全新闻室的排期规则，时间为本地时间 / newsroom-wide scheduling rules, local times.

# 紧急暂停：为 true 时任何渠道都不发布 / the emergency pause.
paused = false
pause_reason = ""

[calendar]
# chinese-calendar 尚未收录的年份按此推测工作日：weekdays 或 every-day。
fallback = "weekdays"

# 国务院通知公布后、库更新前，在此补充 / days decided before the library knows them, e.g.
# [[calendar.override]]
# date = {next_year}-01-01
# working = false
# name = "元旦"

[plan]
# publisher plan 提醒这么多天内尚无稿件的时段 / warn of empty slots this many days ahead.
horizon_days = 7

[[quiet_hours]]
start = "22:00"
end = "07:30"
channels = ["wechat"]
reason = "公众号夜间不推送"
"""

CAMPAIGN_TOML = """\
# 「{column_name}」栏目的常规节奏 / the column's regular cadence.
name = "{column_name}"
description = "{description}"
column = "{key}"
channels = ["website", "site-feed", "wechat", "partner-pull"]
# 遇节假日顺延到下一个工作日：shift；照常：publish；跳过：skip。
non_working_day = "shift"

[window]
start = {start}
end = {end}

[cadence]
kind = "weekly"
weekdays = ["{weekday}"]
times = ["{time}"]
"""

SECRECY_TOML = """\
# 密级和内部标志：带有这些标志的稿件不得进入任何对外渠道（提交、终审、发布时各查一次）。
# Secrecy markings: a revision carrying one never reaches an external channel.
# pattern 为正则表达式；scope = "anywhere" 在正文任何位置匹配；"standalone" 只在独立成行、
# 括号内或标题开头时匹配，以免误伤“保守国家秘密”之类的正常表述。

[[marking]]
name = "密级标志（绝密/机密/秘密★）"
pattern = '(?:绝密|机密|秘密)\\s*[★☆]\\s*(?:\\d+\\s*[年月]|长期)?'
scope = "anywhere"

[[marking]]
name = "内部资料 注意保存"
pattern = '内部资料[\\s，,、]*注意保存'
scope = "anywhere"

[[marking]]
name = "不得公开"
pattern = '不得公开'
scope = "standalone"

[[marking]]
name = "内部传阅"
pattern = '内部传阅'
scope = "standalone"
"""

TERMINOLOGY_TOML = """\
# 规范用语：错误写法 -> 规范写法。每处出现都是一条警告，审核人须按名称确认后才能签署。
# Terminology: each occurrence is a warning a reviewer acknowledges by name before approving.

[[term]]
wrong = "一府两院"
preferred = "一府一委两院"
note = "监察委员会设立后，人大监督对象的规范表述"

[[term]]
wrong = "人大代表大会"
preferred = "人民代表大会"

[[term]]
wrong = "人大议员"
preferred = "人大代表"

[[term]]
wrong = "常委会委员长"
preferred = "常委会主任"
note = "“委员长”仅用于全国人大常委会"

# 领导同志姓名与职务：把常见的错误写法列在这里，例如姓名错字或过时的职务。
# Leaders' names and titles: list the wrong forms staff must not publish, e.g.
# [[term]]
# wrong = "张三副主任"
# preferred = "张三主任"
# note = "{next_year}年1月起任常委会主任"
"""

ARTICLE_MD = """\
---
title: {title}
slug: welcome-{key}
date: {date}
column: {key}
kind: news
authors: [示例作者]
editor: 示例编辑
department: {department}
summary: 示例稿件，演示从入库、审核、排期到发布的完整流程。
---

{body}"""

README_MD = """\
# {name}

这是用 `publisher init` 生成的新闻室，可以立即校验和发布。/ A newsroom made by `publisher init`.

## 先改这些 / Edit these first

1. `publisher.toml`：单位全称、部门、专门委员会、栏目，以及 `[[users]]` 中的人员
   （示例人员覆盖每个角色；三校需要三名不同的校对）。然后运行 `publisher users sync`，
   再运行 `publisher users passwd admin` 设置首个管理员密码：在任何管理员有密码之前无需登录
   （审计记为 bootstrap），此后用户管理须管理员登录。管理员 `publisher login --as admin` 后，
   为每人运行 `publisher users passwd 用户名`；本人可随时用同一命令修改自己的密码。
   The first admin password needs no login (audited as "bootstrap"); after that an admin
   signs in and sets everyone else's, and each person may change their own.
2. `channels/website.toml`：网站地址 `base_url`（现为 https://{domain}）。
3. `channels/wechat.toml`：现在接本地沙箱。演练时在另一个终端运行 `publisher sandbox wechat`，
   并设置任意密钥 `export PUBLISHER_WECHAT_SECRET=sandbox`。上线前填写真实 `app_id`，删除
   `api_base` 和 `sandbox`，把 AppSecret 放入环境变量 `PUBLISHER_WECHAT_SECRET`。
   For a rehearsal run the sandbox and set any secret; to go live, see the comments in the file.
4. `channels/partner-push.toml` 与 `partner-pull.toml`：合作媒体；推送方式的共享密钥放入环境变量
   `PUBLISHER_PARTNER_PUSH_SECRET`（演练：`publisher sandbox partner --channel partner-push`）。
   尚未就绪的渠道写 `enabled = false`（或删除文件），`publisher doctor` 就不再检查它。
   A channel not ready yet: `enabled = false`, and the doctor leaves it alone.
5. `schedules/key-dates.toml` 与 `schedules/meetings.toml`：本级人代会和常委会会议。
6. `review/secrecy.toml` 与 `review/terminology.toml`：密级标志、规范用语、领导同志姓名职务。
7. `content/`：每个栏目一篇示例稿件，换成真实稿件。

## 然后 / Then

```
publisher check          # 校验全部文件 / validate every file
publisher doctor         # 上线前自检：数据库、密钥、接口、日历、审核人员 / preflight
publisher ingest         # 入库 / ingest content
publisher login --as editor1   # 登录并保存个人令牌 / sign in once, keep a personal token
publisher review submit welcome-news --as editor1
publisher plan           # 查看排期 / the plan
publisher run            # 发布引擎 / the worker
```

每个文件、每个键的说明见项目文档 `docs/configuration.md`（`publisher config-docs` 生成）。
"""


# Shipped with the checklist's values (国办秘函〔2019〕19号); the same as the demo's review/inspection.toml.
INSPECTION_TOML = """\
# 定期清查的规则与阈值，初始为检查指标的要求；可按本单位要求调整（publisher check 校验）。
# Inspection (定期清查): the rules `publisher inspect` applies and their thresholds, shipped with the
# values of the State Council checklist for government websites and new media (国办秘函〔2019〕19号,
# 《政府网站与政务新媒体检查指标》). Edit a value here; `publisher check` validates the file.

# A report scores deductions from 100; below `pass_mark` (or any single-veto finding) it fails.
pass_mark = 60

# Judge as of a fixed moment instead of the clock: only for a newsroom whose story is set at a fixed
# time (`publisher demo` writes it into its copy). A real newsroom leaves it out.
# as_of = 2026-12-04T09:05:00+08:00

[freshness]
homepage_days = 14        # 首页栏目 2 周未更新: single veto
news_days = 14            # 动态、要闻类栏目 (publisher.toml columns with category = "news")
notice_days = 183         # 通知公告、政策文件类栏目 (category = "notice"): 6 个月
stale_columns_veto = 5    # 超过（含）5 个栏目未按要求更新: single veto
unupdated_columns_veto = 10  # 应更新但长期未更新的栏目 10 个以上: single veto
blank_columns_veto = 5    # 空白栏目 5 个以上: single veto
wechat_days = 14          # 政务新媒体 2 周无更新: single veto

[backdate]
# 伪造发稿日期: a page dated this much earlier than its article was first published (its first
# release on any channel; without one on record, its first approval).
grace_hours = 72

[site]
# Domains a page of the website may link to besides its own (anything else is a hidden-link suspect).
allowed_domains = ["www.gov.cn", "www.npc.gov.cn", "www.12377.cn", "beian.miit.gov.cn"]

[links]
per_host = 2              # polite: at most this many requests to one host at a time
timeout_seconds = 15
cache_hours = 24          # a link's result is reused for this long
check_external = true

[uptime]
probes_per_day = 20
timeout_seconds = 15
failure_ratio = 0.05
days = 7

# Each rule: its severity (veto = 单项否决), points deducted per finding, at most `cap` in all, and
# the days a finding has to be fixed in.
[rules]
"site.tampered" = { severity = "veto", deduct = 0, due_days = 1 }
"site.injected" = { severity = "veto", deduct = 0, due_days = 1 }
"site.missing" = { severity = "high", deduct = 2, cap = 10, due_days = 1 }
"site.hidden-link" = { severity = "veto", deduct = 0, due_days = 1 }
"site.retracted-live" = { severity = "veto", deduct = 0, due_days = 1 }
"site.unreachable" = { severity = "veto", deduct = 0, due_days = 1 }
"content.secrecy" = { severity = "veto", deduct = 0, due_days = 1 }
"content.leader-name" = { severity = "veto", deduct = 0, due_days = 1 }
"content.terminology" = { severity = "medium", deduct = 1, cap = 5, due_days = 7 }
"content.personal-data" = { severity = "high", deduct = 5, cap = 20, due_days = 1 }
"content.backdated" = { severity = "veto", deduct = 0, due_days = 3 }
"freshness.homepage" = { severity = "veto", deduct = 0, due_days = 3 }
"freshness.column" = { severity = "medium", deduct = 2, cap = 10, due_days = 7 }
"freshness.columns" = { severity = "veto", deduct = 0, due_days = 7 }
"freshness.blank-column" = { severity = "medium", deduct = 2, cap = 10, due_days = 7 }
"freshness.blank-columns" = { severity = "veto", deduct = 0, due_days = 7 }
"wechat.stale" = { severity = "veto", deduct = 0, due_days = 3 }
"wechat.foreign-post" = { severity = "veto", deduct = 0, due_days = 1 }
"wechat.tampered" = { severity = "veto", deduct = 0, due_days = 1 }
"wechat.retracted-live" = { severity = "veto", deduct = 0, due_days = 1 }
"wechat.missing" = { severity = "high", deduct = 5, cap = 20, due_days = 1 }
"wechat.unreachable" = { severity = "high", deduct = 5, cap = 5, due_days = 1 }
"partner.retracted-live" = { severity = "veto", deduct = 0, due_days = 1 }
"partner.unapproved" = { severity = "veto", deduct = 0, due_days = 1 }
"partner.outdated" = { severity = "medium", deduct = 1, cap = 5, due_days = 3 }
"links.broken" = { severity = "medium", deduct = 1, cap = 10, due_days = 7 }
"meta.missing" = { severity = "low", deduct = 1, cap = 5, due_days = 14 }
"a11y.issue" = { severity = "low", deduct = 0.5, cap = 5, due_days = 30 }
"""

LEADERS_TOML = """\
# 领导同志姓名、职务：`publisher inspect` 据此复查在线内容（姓名写错为单项否决的严重错别字）。
# Leaders' names and titles: the inspection re-reads everything live against this list.
# wrong 列出易错写法（同音、形近字）；名字前出现不属于该同志的职务也会报出。
#
# [[leader]]
# name = "张三"
# titles = ["主任", "常委会主任"]
# wrong = ["张叁"]
"""


BULLETIN_TOML = """\
# 印刷版公报：一期一个文件，放在 bulletins/gazette/ 下，如 2026-06.toml（见 docs/configuration.md）。
# 编印：publisher bulletin check / build bulletins/gazette/2026-06.toml
title = "{full_name}公报"
short_title = "{city}人大常委会公报"
publisher = "{full_name}办公厅"
# 内部资料准印证号（印在封面下方）；没有可留空
permit = ""
page = "A4"
"""

BULLETIN_ISSUE_TOML = """\
# 一期公报：每篇稿件须已终审通过、未撤稿、无密级标志，编印时逐篇核对。
number = "{next_year}年第1期"
serial = 1
date = {next_year}-01-10

[[sections]]
title = "工作动态"
articles = ["welcome-news"]
"""
