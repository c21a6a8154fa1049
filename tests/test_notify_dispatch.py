"""Outward notices: a real SMTP server and group robot webhooks on 127.0.0.1; retries with backoff,
a permanent failure, leases, and an outward channel that is down never holds up an act."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from publisher.cli import app
from publisher.config import SmtpSettings, load_settings
from publisher.doctor import Level, check_notify
from publisher.engine import scheduling
from publisher.engine.clock import FixedClock
from publisher.engine.worker import DeliveryWorker
from publisher.errors import ConfigError
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.notify import Announcement, Dispatcher, NoticeKind, OutboxState, announce, senders_for
from publisher.notify.dispatch import Result, claim, record
from publisher.notify.model import OutboxStep
from publisher.notify.senders import Outbound, SendError, SmtpSender, dingtalk_signed
from publisher.review.service import ReviewService
from publisher.store.engine import write_session
from publisher.store.tables import AuditEvent, NoticeOutbox, StaffUser
from tests.notify_support import Mailbox, Robot, free_port, smtp_server
from tests.review_helpers import seed_users, sign_through
from tests.sink import Sink

T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
SECRET = "SECtest-dingtalk-secret"
EMAILS = {"wangxm": "王晓明", "zhouwb": "周文博", "liangyu": "梁宇", "hejing": "何静"}


def configure(root: Path, *, smtp_port: int, wecom_url: str, dingtalk_url: str, extra: str = "") -> None:
    """Give four people an address and the newsroom a mail server and two robots."""
    path = root / "publisher.toml"
    text = path.read_text(encoding="utf-8")
    for username, name in EMAILS.items():
        text = text.replace(
            f'username = "{username}"\nname = "{name}"\n',
            f'username = "{username}"\nname = "{name}"\nemail = "{username}@example.org"\n',
        )
    text += f"""
{extra}
[notify.smtp]
host = "127.0.0.1"
port = {smtp_port}
from_address = "newsroom@example.org"
timeout_seconds = 2

[[notify.webhooks]]
name = "proofreaders"
kind = "wecom"
url = "{wecom_url}"
roles = ["proofreader"]

[[notify.webhooks]]
name = "duty"
kind = "dingtalk"
url = "{dingtalk_url}"
secret_env = "NOTIFY_DINGTALK_SECRET"
usernames = ["liangyu"]
"""
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def wecom() -> Iterator[Robot]:
    with Robot() as robot:
        yield robot


@pytest.fixture
def dingtalk() -> Iterator[Robot]:
    with Robot(secret=SECRET) as robot:
        yield robot


@pytest.fixture
def nroom(
    newsroom_dir: Path,
    db_url: str,
    mail: tuple[Mailbox, int],
    wecom: Robot,
    dingtalk: Robot,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Newsroom]:
    """The test newsroom (SQLite and PostgreSQL) with e-mail and both robots configured."""
    configure(newsroom_dir, smtp_port=mail[1], wecom_url=wecom.url, dingtalk_url=dingtalk.url)
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    monkeypatch.setenv("NOTIFY_DINGTALK_SECRET", SECRET)
    room = Newsroom(newsroom_dir)
    assert ingest(room).ok
    seed_users(room)
    yield room
    room.close()


def outbox(room: Newsroom) -> list[NoticeOutbox]:
    with Session(room.engine) as s:
        return list(s.exec(select(NoticeOutbox).order_by(col(NoticeOutbox.id))))


def actions(room: Newsroom, prefix: str) -> list[str]:
    with Session(room.engine) as s:
        events = s.exec(select(AuditEvent).order_by(col(AuditEvent.seq)))
        return [e.action for e in events if e.action.startswith(prefix)]


def dispatcher(room: Newsroom, owner: str = "test", **changes: object) -> Dispatcher:
    settings = room.settings.notify.model_copy(update=changes)
    return Dispatcher(room.engine, settings, owner, senders_for(settings))


def test_user_addresses_come_from_publisher_toml(nroom: Newsroom) -> None:
    with Session(nroom.engine) as s:
        users = {u.username: u.email for u in s.exec(select(StaffUser))}
    assert users["zhouwb"] == "zhouwb@example.org" and users["qianwd"] is None


def test_a_submission_goes_out_by_mail_and_to_the_robots_that_concern_it(
    nroom: Newsroom, mail: tuple[Mailbox, int], wecom: Robot, dingtalk: Robot
) -> None:
    ReviewService(nroom).submit("article-1", "zhouwb")
    rows = {(m.channel, m.recipient) for m in outbox(nroom)}
    # The two editors by mail; liangyu's robot once; the proofreaders' robot has nothing to say yet.
    assert rows == {("email", "zhouwb@example.org"), ("email", "liangyu@example.org"), ("duty", "duty")}
    report = dispatcher(nroom).drain(T0)
    assert (report.sent, report.retried, report.failed) == (3, 0, 0)
    mailbox = mail[0]
    assert sorted(r for rs in mailbox.recipients for r in rs) == ["liangyu@example.org", "zhouwb@example.org"]
    message = mailbox.messages[0]
    assert message["Subject"] == "待审：《测试稿件第1篇》等待初审"  # decoded as a mail client shows it
    assert re.search(rb"^Subject: =\?utf-8\?", mailbox.raw[0], re.MULTILINE | re.IGNORECASE)  # RFC 2047
    assert message["From"] == "newsroom@example.org"
    assert "/articles/article-1" in message.get_content()
    [post] = dingtalk.posts
    assert dingtalk.refused_signatures == 0 and dingtalk.queries[0]["timestamp"]
    assert post["msgtype"] == "markdown" and "梁宇" in post["markdown"]["text"]
    assert post["markdown"]["title"] == "待审：《测试稿件第1篇》等待初审"
    assert wecom.posts == []
    assert {m.state for m in outbox(nroom)} == {OutboxState.SENT}
    assert actions(nroom, "notify.") == ["notify.sent"] * 3
    assert dispatcher(nroom).drain(T0 + timedelta(hours=1)).sent == 0  # sent once


def test_the_wecom_robot_gets_markdown_naming_everyone_once(nroom: Newsroom, wecom: Robot) -> None:
    service = ReviewService(nroom)
    service.submit("article-1", "zhouwb")
    service.approve("article-1", "zhouwb")  # the four proofreaders are told; their robot posts once
    dispatcher(nroom).drain(T0)
    [post] = wecom.posts
    assert post["msgtype"] == "markdown"
    content = post["markdown"]["content"]
    assert "一校" in content and all(name in content for name in ("何静", "沈玉兰", "唐亮", "冯晓东"))


def test_a_wrong_dingtalk_signature_is_refused_for_good(nroom: Newsroom, dingtalk: Robot) -> None:
    ReviewService(nroom).submit("article-1", "zhouwb")
    assert dispatcher(nroom).drain(T0).failed == 0 and len(dingtalk.posts) == 1  # the right secret
    signed = dingtalk_signed(dingtalk.url, SECRET, 1_700_000_000_000)
    assert signed.startswith(dingtalk.url + "&timestamp=1700000000000&sign=")
    dingtalk.secret = "the-robot-was-given-a-new-secret"  # and publisher.toml's environment was not
    news = Announcement(NoticeKind.DELIVERY_FAILED, ("liangyu",), "发布失败", "原因", "ref-sig")
    with write_session(nroom.engine) as s:
        announce(s, nroom.settings.notify, news, T0)
    report = dispatcher(nroom).drain(T0)
    assert (report.sent, report.failed) == (1, 1)  # the mail went; the robot refused the signature
    assert dingtalk.refused_signatures == 1 and len(dingtalk.posts) == 1
    [row] = [m for m in outbox(nroom) if m.ref == "ref-sig" and m.channel == "duty"]
    assert row.state == OutboxState.FAILED and "310000" in (row.last_error or "")


def test_transient_errors_back_off_then_give_up(nroom: Newsroom, dingtalk: Robot) -> None:
    ReviewService(nroom).submit("article-1", "zhouwb")
    dingtalk.script = [(503, 0)] * 10
    d = dispatcher(nroom, max_attempts=3, backoff_base_seconds=60)
    now = T0
    for attempt in (1, 2):
        d.run(now)
        [row] = [m for m in outbox(nroom) if m.channel == "duty"]
        assert (
            row.state == OutboxState.PENDING and row.attempts == attempt and "503" in (row.last_error or "")
        )
        wait = (row.next_attempt_at - now).total_seconds()
        assert 60 * 2 ** (attempt - 1) * 0.5 <= wait <= 60 * 2 ** (attempt - 1)
        assert d.run(now + timedelta(seconds=wait / 2)).retried == 0  # not due yet
        now = row.next_attempt_at
    d.run(now)
    [row] = [m for m in outbox(nroom) if m.channel == "duty"]
    assert row.state == OutboxState.FAILED and "after 3 attempts" in (row.last_error or "")
    assert [a for a in actions(nroom, "notify.") if a != "notify.sent"] == [
        "notify.retry",
        "notify.retry",
        "notify.failed",
    ]
    assert dingtalk.posts == []


def test_a_refusal_gives_up_at_once_and_send_again_requeues(nroom: Newsroom, dingtalk: Robot) -> None:
    ReviewService(nroom).submit("article-1", "zhouwb")
    dingtalk.script = [(200, 93000)]  # invalid webhook: trying again will not help
    report = dispatcher(nroom).drain(T0)
    assert report.failed == 1
    [row] = [m for m in outbox(nroom) if m.channel == "duty"]
    assert row.state == OutboxState.FAILED and row.attempts == 1 and "93000" in (row.last_error or "")
    env = {"PUBLISHER_NEWSROOM": str(nroom.root)}
    result = CliRunner().invoke(app, ["notify", "send", "--again"], env=env)
    assert result.exit_code == 0, result.output
    assert "重新排队 1" in result.output and len(dingtalk.posts) == 1
    assert "notify.requeue" in actions(nroom, "notify.")


def test_a_claimed_message_is_sent_by_one_sender(nroom: Newsroom) -> None:
    ReviewService(nroom).submit("article-1", "zhouwb")
    lease = timedelta(seconds=60)
    first = claim(nroom.engine, "a", T0, lease, 10)
    assert len(first) == 3
    assert claim(nroom.engine, "b", T0 + timedelta(seconds=30), lease, 10) == []  # leased to a
    again = claim(nroom.engine, "b", T0 + timedelta(seconds=61), lease, 10)  # a died: its lease ran out
    assert {m.id for m in again} == {m.id for m in first}
    late = [Result(m, OutboxStep.SEND) for m in first]
    assert record(nroom.engine, "a", late, T0 + timedelta(seconds=62)) == 0  # a lost them to b
    assert record(nroom.engine, "b", [Result(m, OutboxStep.SEND) for m in again], T0) == 3


def test_outward_channels_down_never_block_an_act_or_a_release(
    newsroom_dir: Path, db_url: str, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = free_port()  # nothing listens here: every send is refused at once
    configure(
        newsroom_dir,
        smtp_port=closed,
        wecom_url=f"http://127.0.0.1:{closed}/wecom",
        dingtalk_url=f"http://127.0.0.1:{closed}/dingtalk",
    )
    (newsroom_dir / "channels" / "sink.toml").write_text(
        f'kind = "sink"\ntitle = "测试接收端"\n[settings]\nurl = "{sink.url}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    monkeypatch.setenv("NOTIFY_DINGTALK_SECRET", SECRET)
    room = Newsroom(newsroom_dir)
    try:
        assert ingest(room).ok
        seed_users(room)
        service = ReviewService(room)
        service.submit("article-1", "zhouwb")
        sign_through(room, service, "article-1")  # every act of the chain, each with its notices
        scheduling.schedule(room, "article-1", ["sink"], T0, "zhouwb", now=T0 - timedelta(hours=1))
        scheduling.schedule(room, "article-2", ["sink"], T0, "zhouwb", now=T0 - timedelta(hours=1))
        started = time.monotonic()
        assert DeliveryWorker(room, clock=FixedClock(T0), worker_id="w").run_once() == 1
        assert time.monotonic() - started < 30
        assert sink.distinct == 1  # the approved release went out; the unapproved one was held
        rows = outbox(room)
        sent = [m for m in rows if m.state == OutboxState.SENT]
        tried = [m for m in rows if m.attempts == 1]
        assert sent == [] and tried and all("unreachable" in (m.last_error or "") for m in tried)
        assert all(m.state == OutboxState.PENDING for m in rows)  # retried later, not lost
    finally:
        room.close()


def test_notify_list_shows_a_persons_notices(nroom: Newsroom) -> None:
    ReviewService(nroom).submit("article-1", "zhouwb")
    env = {"PUBLISHER_NEWSROOM": str(nroom.root)}
    runner = CliRunner()
    result = runner.invoke(app, ["notify", "list", "--user", "liangyu", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert '"kind": "review_waiting"' in result.output and "/articles/article-1" in result.output
    table = runner.invoke(app, ["notify", "list", "-u", "liangyu"], env=env)
    assert table.exit_code == 0 and "待审" in table.output and "/articles/article-1" in table.output
    unknown = runner.invoke(app, ["notify", "list", "--user", "nobody"], env=env)
    assert unknown.exit_code == 1 and "no user" in unknown.output and "Traceback" not in unknown.output


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('[notify.smtp]\nhost = "m"\nfrom_address = "x"\n', ["from_address", "e-mail"]),
        ('[notify.smtp]\nhost = "m"\nfrom_address = "a@b.cn"\npassword_env = "hunter2"\n', ["password_env"]),
        ('[[notify.webhooks]]\nname = "w"\nkind = "wecom"\nurl = "ftp://x"\nroles = ["leader"]\n', ["url"]),
        (
            '[[notify.webhooks]]\nname = "w"\nkind = "wecom"\nurl = "https://x.cn/h"\nsecret_env = "S"\nroles = ["leader"]\n',
            ["secret_env", "DingTalk"],
        ),
        ('[[notify.webhooks]]\nname = "w"\nkind = "dingtalk"\nurl = "https://x.cn/h"\n', ["usernames"]),
        (
            '[[notify.webhooks]]\nname = "w"\nkind = "slack"\nurl = "https://x.cn/h"\nroles = ["leader"]\n',
            ["kind"],
        ),
    ],
)
def test_bad_notify_settings_are_named(newsroom_dir: Path, table: str, words: list[str]) -> None:
    path = newsroom_dir / "publisher.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + table, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(newsroom_dir)
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "notify" in text and all(w in text for w in words), text


def test_a_running_worker_sends_notices_beside_its_rounds(nroom: Newsroom, mail: tuple[Mailbox, int]) -> None:
    ReviewService(nroom).submit("article-1", "zhouwb")
    worker = DeliveryWorker(nroom, worker_id="running")
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while len(mail[0].messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.request_stop()
        worker.shutdown()
    assert len(mail[0].messages) == 2
    assert {m.state for m in outbox(nroom)} == {OutboxState.SENT}
    with Session(nroom.engine) as s:
        actors = {e.actor for e in s.exec(select(AuditEvent).where(AuditEvent.action == "notify.sent"))}
    assert actors == {"running"}


def outbound(to: str) -> Outbound:
    return Outbound(to, "退回：《立法工作简报》在初审被退回", "意见：请核实数据", "/articles/x", ("王晓明",))


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_logs_in_with_the_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server(login=("robot", "s3cret")) as (mailbox, port):
        settings = SmtpSettings(
            host="127.0.0.1",
            port=port,
            username="robot",
            password_env="NOTIFY_SMTP_PASSWORD",
            from_address="newsroom@example.org",
        )
        monkeypatch.setenv("NOTIFY_SMTP_PASSWORD", "s3cret")
        SmtpSender(settings).send(outbound("wangxm@example.org"))
        assert mailbox.messages[0]["To"] == "王晓明 <wangxm@example.org>"
        monkeypatch.setenv("NOTIFY_SMTP_PASSWORD", "wrong")
        with pytest.raises(SendError) as refused:
            SmtpSender(settings).send(outbound("wangxm@example.org"))
        assert not refused.value.transient and "535" in refused.value.reason
        monkeypatch.delenv("NOTIFY_SMTP_PASSWORD")
        with pytest.raises(SendError, match="NOTIFY_SMTP_PASSWORD is not set") as unset:
            SmtpSender(settings).send(outbound("wangxm@example.org"))
        assert not unset.value.transient
    assert len(mailbox.messages) == 1


def test_a_mail_server_that_is_down_is_a_transient_error() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), from_address="newsroom@example.org")
    with pytest.raises(SendError) as down:
        SmtpSender(settings).send(outbound("wangxm@example.org"))
    assert down.value.transient and "unreachable" in down.value.reason


def test_doctor_warns_of_missing_notify_secrets_and_unknown_duty_editors(
    nroom: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = nroom.settings.notify
    assert check_notify(settings, ["liangyu"]) == []  # NOTIFY_DINGTALK_SECRET is set by the fixture
    monkeypatch.delenv("NOTIFY_DINGTALK_SECRET")
    [finding] = check_notify(settings, ["liangyu"])
    assert (
        finding.level is Level.WARNING
        and "NOTIFY_DINGTALK_SECRET" in finding.detail
        and "duty" in finding.check
    )
    [stranger] = check_notify(settings.model_copy(update={"duty_editors": ["ghost"]}), ["liangyu", "x"])[1:]
    assert "ghost" in stranger.detail


def test_two_senders_at_once_send_each_message_once(nroom: Newsroom, mail: tuple[Mailbox, int]) -> None:
    service = ReviewService(nroom)
    service.submit("article-1", "zhouwb")
    service.approve("article-1", "zhouwb")
    rows = len(outbox(nroom))
    senders = [dispatcher(nroom, owner=f"s{i}", batch=1) for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda d: d.drain(T0), senders))
    assert sum(r.sent for r in reports) == rows and all(r.failed == 0 for r in reports)
    assert len(mail[0].messages) == len([m for m in outbox(nroom) if m.channel == "email"])
    assert actions(nroom, "notify.") == ["notify.sent"] * rows
