"""`publisher demo`: the whole pipeline as far as it exists, on the embedded defaults, explained briefly.

The demo works on a copy of the newsroom under `var/demo/` (reset on every run), so it can play an
author who edits a rejected article without touching the real `content/`.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from publisher import articles
from publisher.auth.identity import Identity, UserKind
from publisher.auth.signin import AuthError, sign_in
from publisher.demo_campaign import WALL_SECONDS, run_campaign
from publisher.errors import ConfigError, NotFound
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review import integrity, walk
from publisher.review.service import ReviewService
from publisher.review.users import get_user, list_users, set_password, sync_users
from publisher.review.workflow import ReviewRefused
from publisher.store.engine import read_session, write_session
from publisher.timeutil import utc_now

SANDBOX = "demo"
COPIED = ("content", "channels", "schedules", "review", "bulletins")
# The demo's scripted cases: a wrong term sent back and fixed, a draft carrying a secrecy marking.
REJECTED = "wang-zhenhua-engineer"
WRONG, RIGHT = "一府两院", "一府一委两院"
SUBMITTER = "liangyu"
# Every demo staff member's password in the demo copy (documented in README and printed at the end):
# the demo signs each person in with it before they act, and staff sign in to the console with it.
DEMO_PASSWORD = "jianglan-demo-2026"
# The editor who schedules and supplies, and the logins the demo points to for the console.
DEMO_EDITOR = "zhouwb"
CONSOLE_LOGINS = (("zhouwb", "编辑 / editor"), ("hejing", "校对 / proofreader"), ("wangjh", "领导 / leader"))
# Signs the bulletins off for printing (签发付印), as the last review stage signs articles.
DEMO_LEADER = "wangjh"


class DemoStaff:
    """The demo copy's staff, each signed in once with the demo password (like a console session
    kept for the run): every act the demo makes is made by a person who has authenticated."""

    def __init__(self, room: Newsroom) -> None:
        self.room = room
        self._signed: dict[str, Identity] = {}

    def seed(self) -> None:
        """One argon2 hash of the demo password for every person (hashing is slow by design)."""
        with write_session(self.room.engine) as session:
            people = [u for u in list_users(session) if u.kind == UserKind.PERSON]
            if not people:
                return
            set_password(session, people[0].username, DEMO_PASSWORD, actor="demo")
            first = get_user(session, people[0].username)
            for user in people[1:]:
                user.password_hash = first.password_hash
                session.add(user)

    def act_as(self, username: str) -> str:
        """Sign `username` in (once) and return the authenticated name to act as."""
        if username not in self._signed:
            result = sign_in(self.room.engine, self.room.settings.auth, username, DEMO_PASSWORD, where="demo")
            if not result.complete:
                raise AuthError(
                    f"演示用户 {username} 需要动态验证码 / demo user {username} needs a second factor"
                )
            self._signed[username] = result.identity
        return self._signed[username].username


def prepare_sandbox(room: Newsroom) -> Path:
    target = room.var_dir / SANDBOX
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy(room.root / "publisher.toml", target / "publisher.toml")
    for name in COPIED:
        source = room.root / name
        if source.is_dir():
            shutil.copytree(source, target / name)
    return target


def _source_of(room: Newsroom, slug: str) -> Path | None:
    with read_session(room.engine) as session:
        try:
            return room.root / articles.get_article(session, slug).article.source
        except NotFound:  # a newsroom without this article simply skips the scene
            return None


def run_demo(room: Newsroom, console: Console, wall_seconds: float = WALL_SECONDS) -> bool:
    """The whole pipeline on a copy under var/demo; `wall_seconds`: how long the campaign week takes
    to watch (a test asks for less)."""
    name = room.settings.newsroom.full_name or room.settings.newsroom.name
    console.rule(f"[bold]{name} · 演示 / demo")
    sandbox = Newsroom(prepare_sandbox(room))
    shown = sandbox.root.relative_to(room.root) if sandbox.root.is_relative_to(room.root) else sandbox.root
    console.print(f"演示副本 / demo copy: {shown}（数据库 {sandbox.database_url}）")

    # 1. 采 — ingest
    report = ingest(sandbox, actor="demo")
    console.print(
        f"[bold]1. 采 · 入库[/] {report.files} 篇稿件，新增 {len(report.created)} 篇不可变版本，"
        f"有问题 {len(report.skipped)} 个。"
    )
    for problem in report.problems:
        console.print(f"   [red]{escape(str(problem))}[/]")

    # 2. 审 — the review chain
    with write_session(sandbox.engine) as session:
        sync_users(session, sandbox.settings.users, "demo")
    staff = DemoStaff(sandbox)
    staff.seed()
    service = ReviewService(sandbox)
    console.print(
        "[bold]2. 审 · 三审三校[/] 审核链：" + " → ".join(s.name for s in sandbox.settings.review.stages)
    )
    with read_session(sandbox.engine) as session:
        slugs = [v.article.slug for v in articles.list_articles(session)]
    signed: dict[str, list[walk.Signature]] = {}
    blocked: list[tuple[str, str]] = []
    for slug in sorted(slugs):
        try:
            service.submit(slug, staff.act_as(SUBMITTER))
        except ReviewRefused as exc:
            lines = str(exc).splitlines()
            blocked.append((slug, lines[1].strip(" -") if len(lines) > 1 else lines[0]))
            continue
        if slug == REJECTED:
            continue
        signed[slug] = walk.sign_through(service, slug, acknowledge=True, sign_in=staff.act_as)

    fixed = _reject_and_fix(sandbox, service, staff, console)
    if fixed:
        signed[REJECTED] = fixed

    table = Table(title="谁签署了什么 / who approved what", title_justify="left", show_lines=False)
    table.add_column("稿件 / article", overflow="fold")
    table.add_column("签署 / signatures", overflow="fold")
    for slug, signatures in sorted(signed.items()):
        table.add_row(slug, "，".join(f"{s.stage} {s.name}" for s in signatures))
    console.print(table)
    for slug, why in blocked:
        console.print(f"   [red]拦截 / blocked[/] {slug}：{escape(why)}")

    # 3. 存 — audit
    with read_session(sandbox.engine) as session:
        chain = integrity.verify(session)  # the chain, and the review acts proven against it
        views = articles.list_articles(session)
    console.print(
        f"[bold]3. 存 · 审计[/] 哈希链 {chain.events} 条事件，"
        + ("[green]校验通过[/]" if chain.ok else f"[red]发现 {len(chain.breaks)} 处断裂[/]")
    )
    per_column = Counter(v.revision.column for v in views)
    console.print(
        "   栏目 / columns: "
        + "，".join(f"{c.name} {per_column.get(c.key, 0)}" for c in sandbox.settings.columns)
    )

    # 4. 发 — the campaign released by the engine: website, feeds, WeChat (sandbox)
    console.print("[bold]4. 发 · 排期与发布[/]")
    released = run_campaign(sandbox, console, staff.act_as(DEMO_EDITOR), wall_seconds)
    console.print(f"   发出 {released.done} 项，尚在排期 {released.pending} 项（日期在本周之后）。")
    for slug, url in released.wechat_urls:
        console.print(f"   微信 / WeChat {slug}: {url}")
    console.print(f"   网站在 {sandbox.root / 'public'}/index.html")
    supplied = run_supply_demo(sandbox, console, staff.act_as(DEMO_EDITOR))
    printed = run_bulletin_demo(sandbox, console, staff.act_as(DEMO_EDITOR), staff.act_as(DEMO_LEADER))

    console.print()
    console.print("接下来可以看 / where to look next:")
    console.print(
        f"  [bold]publisher console -N {shown}[/]    →  http://127.0.0.1:8740/  工作台（网页控制台）"
    )
    logins = "，".join(f"{name}（{role}）" for name, role in CONSOLE_LOGINS)
    console.print(f"    演示登录 / demo logins: {logins}；密码 / password: [bold]{DEMO_PASSWORD}[/]")
    console.print(f"  publisher preview --newsroom {shown}    →  http://127.0.0.1:8000/  演示网站")
    console.print(f"  publisher review show {REJECTED} --newsroom {shown}    退回、修改、重新审核的全过程")
    console.print(
        f"  publisher login --as zhouwb --newsroom {shown}    命令行登录（密码同上） / sign in (same password)"
    )
    console.print(f"  publisher review queue --as zhouwb --newsroom {shown}")
    console.print(f"  publisher review stats --newsroom {shown}")
    console.print(f"  publisher audit log --newsroom {shown}")
    console.print(
        f"  publisher inspect --newsroom {shown}    定期清查（按演示的时间评判，报告写入 {shown}/var/inspection/latest.html）"
    )
    month = utc_now().astimezone(room.settings.tz).strftime("%Y-%m")
    console.print(f"  publisher report supply --month {month} --newsroom {shown}    供稿与采用月报")
    console.print(f"  publisher supply holdings --newsroom {shown}")
    console.print("  publisher check | publisher ingest | publisher articles    （在真实新闻室）")
    if printed is not None:
        console.print(f"  publisher bulletin list --newsroom {shown}    印刷版公报各期")
    ok = report.ok and chain.ok and bool(signed) and bool(blocked) and supplied and printed is not False
    return ok and released.done > 0 and bool(released.wechat_urls)


def _reject_and_fix(
    room: Newsroom, service: ReviewService, staff: DemoStaff, console: Console
) -> list[walk.Signature]:
    """Send one article back for a wrong term, play its author fixing the file, and review it again."""
    path = _source_of(room, REJECTED)
    if path is None:
        return []
    signer = walk.next_signer(service, REJECTED)
    if signer is None:
        return []
    comment = f"请将“{WRONG}”改为“{RIGHT}”"
    service.reject(REJECTED, staff.act_as(signer[0]), comment=comment)
    console.print(f"   退回 / rejected {REJECTED}：{signer[1]}（初审）—— {comment}")
    path.write_text(re.sub(WRONG, RIGHT, path.read_text(encoding="utf-8")), encoding="utf-8")
    ingest(room, actor="demo")
    service.submit(REJECTED, staff.act_as(SUBMITTER), comment="已按初审意见修改")
    console.print(f"   修改后重新提交 / fixed and resubmitted {REJECTED}：第 2 版，审核链从初审重新开始")
    return walk.sign_through(service, REJECTED, acknowledge=True, sign_in=staff.act_as)


# -- partner supply (供稿) --------------------------------------------------------------------------
DEMO_PUSH, DEMO_PULL = "partner-provincial-daily", "partner-media-centre"


def run_supply_demo(sandbox: Newsroom, console: Console, editor: str) -> bool:
    """Supply the approved demo articles to two sandbox partners (one push, one pull), record what
    they adopted, and print the month's supply report. Everything stays on 127.0.0.1."""
    import os
    from datetime import timedelta

    import httpx

    from publisher.cli.report_cmd import render_table
    from publisher.engine.worker import DeliveryWorker
    from publisher.store.tables import ReviewState
    from publisher.supply import service
    from publisher.supply.report import supply_report
    from publisher.supply.sandbox import SandboxPartner
    from publisher.timeutil import utc_now
    from publisher.web.testing import serving

    push_file = sandbox.channels_dir / f"{DEMO_PUSH}.toml"
    pull_file = sandbox.channels_dir / f"{DEMO_PULL}.toml"
    if not push_file.is_file() or not pull_file.is_file():
        return True  # a newsroom without the demo partners has nothing to supply
    env = str(getattr(sandbox.channels.channels[DEMO_PUSH].settings, "secret_env", ""))
    os.environ.setdefault(env, "demo-shared-secret")
    with SandboxPartner(os.environ[env], prefix="jzrb") as partner:
        text = push_file.read_text(encoding="utf-8")
        push_file.write_text(text.replace("http://127.0.0.1:8720/ingest", partner.url), encoding="utf-8")
        room = Newsroom(sandbox.root)  # the channel files changed: read them again
        with read_session(room.engine) as session:
            approved = [
                v.article.slug
                for v in articles.list_articles(session)
                if (state := session.get(ReviewState, v.revision.id)) is not None
                and state.status == "approved"
            ]
        for slug in approved:
            service.supply_article(room, slug, editor)
        DeliveryWorker(room).run_once()
        console.print(
            f"[bold]5. 供 · 合作媒体[/] {len(approved)} 篇已审核稿件按各媒体的供稿范围发出："
            f"{DEMO_PUSH} 签名推送，收到 {len(partner.received)} 篇（验签失败 {len(partner.rejected)}，重复 {partner.duplicates}）"
        )
        token = service.issue_token(room, DEMO_PULL, editor).token
        with serving(room) as base, httpx.Client(base_url=base) as client:
            auth = {"Authorization": f"Bearer {token}"}
            feed = client.get(f"/partners/{DEMO_PULL}/feed.ninjs", headers=auth)
            again = client.get(
                f"/partners/{DEMO_PULL}/feed.ninjs", headers={**auth, "If-None-Match": feed.headers["ETag"]}
            )
            items = feed.json()["items"]
            console.print(
                f"   {DEMO_PULL} 凭令牌拉取：{len(items)} 篇（HTTP {feed.status_code}；未变化时 HTTP {again.status_code}）"
            )
            # The media centre reports what it ran through the callback; the provincial daily's
            # adoption is recorded by staff.
            for item in items[:2]:
                client.post(
                    f"/partners/{DEMO_PULL}/adoptions",
                    headers=auth,
                    json={
                        "article": item["uri"],
                        "url": f"https://rmt.jianglan.example/news/{item['altids']['slug']}",
                    },
                )
        for slug in [r.package["altids"]["slug"] for r in list(partner.received.values())[:3]]:
            service.record_adoption(
                room,
                DEMO_PUSH,
                slug,
                f"https://jzrb.example/{slug}",
                editor,
                "staff",
                adopted_at=utc_now() + timedelta(hours=1),
            )
        month = utc_now().astimezone(room.settings.tz).strftime("%Y-%m")
        with read_session(room.engine) as session:
            report = supply_report(session, room, month)
        console.print(render_table(month, report.rows))
        room.close()
    return partner.rejected == [] and partner.duplicates == 0


def run_bulletin_demo(sandbox: Newsroom, console: Console, editor: str, leader: str) -> bool | None:
    """5. 印: the bulletins' issues typeset for the printer from the approved articles by the editor,
    and signed off for printing by a leader. None: the newsroom declares no issue (nothing to show)."""
    from publisher.bulletin.build import build_issue, find_issue
    from publisher.bulletin.definitions import issue_files, load_bulletins
    from publisher.bulletin.signoff import sign_off

    folder = sandbox.root / sandbox.settings.paths.bulletins
    bulletins, problems = load_bulletins(folder, sandbox.root)
    issues = [path for bulletin in bulletins.values() for path in issue_files(folder, bulletin)]
    if not issues and not problems:
        return None
    console.print("[bold]5. 印 · 公报[/]")
    for problem in problems:
        console.print(f"   [red]{escape(str(problem))}[/]")
    ok = not problems
    for path in issues:
        try:
            built = build_issue(sandbox, path, editor)
        except ConfigError as exc:
            ok = False
            for problem in exc.problems:
                console.print(f"   [red]{escape(str(problem))}[/]")
            continue
        state = find_issue(sandbox, built.issue.bulletin.key, built.issue.key)
        signature = sign_off(sandbox, state, leader)[0] if state is not None else None
        console.print(
            f"   {built.issue.bulletin.settings.short_title} {built.issue.settings.number}："
            f"{built.pages} 页，{len(built.starts)} 篇稿件，"
            + (f"{signature['by']} 签发付印" if signature else "[red]未能签发[/]")
            + f" → {built.pdf}"
        )
        ok = ok and signature is not None
    return ok
