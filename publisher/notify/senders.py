"""The outward channels of notices: e-mail (SMTP), a WeCom group robot, a DingTalk group robot.

Each sender takes one `Outbound` message and either returns (sent) or raises `SendError`, which
says whether trying again later may help (`transient`). The dispatcher decides retries; a sender
never retries on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote_plus

from publisher.config import NotifySettings, SmtpSettings, WebhookSettings
from publisher.errors import PublisherError
from publisher.notify.model import EMAIL

if TYPE_CHECKING:
    import httpx

TIMEOUT = 10.0
ROBOT_BODY_LIMIT = 1500  # characters: both robots refuse a markdown message past about 4 KB
WECOM_RATE_LIMITED = 45009  # too many messages this minute: later
DINGTALK_RATE_LIMITED = 130101


class SendError(PublisherError):
    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message as a sender needs it; `link` is whole when the console's address is known."""

    recipient: str
    title: str
    body: str
    link: str | None
    to: tuple[str, ...]  # the display names of the people it concerns

    def text(self) -> str:
        return self.body + (f"\n\n{self.link}" if self.link else "")

    def markdown(self) -> str:
        body = self.body if len(self.body) <= ROBOT_BODY_LIMIT else self.body[:ROBOT_BODY_LIMIT] + "……"
        lines = [f"**{self.title}**", "", body]
        if self.to:
            lines += ["", "致：" + "、".join(self.to)]
        if self.link:
            lines += ["", f"[查看 / open]({self.link})"]
        return "\n".join(lines)


class Sender(Protocol):
    def send(self, message: Outbound) -> None: ...


def _secret(env: str, what: str) -> str:
    value = os.environ.get(env)
    if not value:
        raise SendError(f"环境变量 {env} 未设置（{what}） / {env} is not set ({what})", transient=False)
    return value


class SmtpSender:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def compose(self, message: Outbound) -> EmailMessage:
        mail = EmailMessage()
        # EmailMessage encodes a Chinese subject and name as RFC 2047 words and the body as UTF-8.
        mail["Subject"] = message.title
        mail["From"] = self.settings.from_address
        mail["To"] = formataddr((message.to[0], message.recipient)) if message.to else message.recipient
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self.settings.from_address.rsplit("@", 1)[-1])
        mail.set_content(message.text())
        return mail

    def send(self, message: Outbound) -> None:
        s = self.settings
        mail = self.compose(message)
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds) as smtp:
                if s.starttls:
                    # smtplib's own default would accept any certificate: verify it like a browser.
                    smtp.starttls(context=ssl.create_default_context())
                if s.username:
                    password = _secret(s.password_env, "SMTP 密码 / SMTP password") if s.password_env else ""
                    smtp.login(s.username, password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise SendError(
                f"收件人被拒 / recipient refused: {exc.recipients}",
                transient=all(400 <= c < 500 for c in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            detail = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else exc.smtp_error
            )
            raise SendError(
                f"邮件服务器拒绝 / SMTP {exc.smtp_code}: {detail}", transient=400 <= exc.smtp_code < 500
            ) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            # Refused connections, timeouts, a server that hung up: the server may be back later.
            raise SendError(
                f"邮件服务器不可达 / SMTP unreachable: {type(exc).__name__}: {exc}", transient=True
            ) from None


def dingtalk_signed(url: str, secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: HMAC-SHA256 over "timestamp\\nsecret" keyed by the secret, base64, URL-encoded."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest))
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={sign}"


class RobotSender:
    """A group robot's webhook: WeCom and DingTalk take a markdown message of their own shape and
    answer `{"errcode": 0}` when it is posted."""

    def __init__(self, settings: WebhookSettings, client: httpx.Client | None = None) -> None:
        # Imported here: httpx (and the command-line extras it loads when installed) would be in
        # every worker's memory and start-up, for a robot that many newsrooms never configure.
        import httpx

        self.settings = settings
        self.client = client or httpx.Client(timeout=TIMEOUT)

    def _url(self) -> str:
        w = self.settings
        url = (
            w.url if w.url is not None else _secret(w.url_env or "", f"机器人 {w.name} 的地址 / webhook URL")
        )
        if w.kind == "dingtalk" and w.secret_env:
            secret = _secret(w.secret_env, f"机器人 {w.name} 的加签密钥 / signing secret")
            return dingtalk_signed(url, secret, int(time.time() * 1000))
        return url

    def payload(self, message: Outbound) -> dict[str, object]:
        if self.settings.kind == "wecom":
            return {"msgtype": "markdown", "markdown": {"content": message.markdown()}}
        return {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.markdown()}}

    def send(self, message: Outbound) -> None:
        import httpx

        name = self.settings.name
        try:
            response = self.client.post(self._url(), json=self.payload(message))
        except httpx.TransportError as exc:
            raise SendError(
                f"机器人 {name} 不可达 / webhook unreachable: {type(exc).__name__}", transient=True
            ) from None
        if response.status_code >= 400:
            raise SendError(
                f"机器人 {name} 返回 HTTP {response.status_code} / webhook answered HTTP {response.status_code}",
                transient=response.status_code >= 500 or response.status_code == 429,
            )
        try:
            answer = response.json()
            code = int(answer.get("errcode", -1))
        except (ValueError, AttributeError, TypeError):
            raise SendError(f"机器人 {name} 的回复无法识别 / unreadable answer", transient=True) from None
        if code != 0:
            raise SendError(
                f"机器人 {name} 拒绝 / webhook refused: errcode {code} {answer.get('errmsg', '')}",
                transient=code in (WECOM_RATE_LIMITED, DINGTALK_RATE_LIMITED, -1),
            )

    def close(self) -> None:
        self.client.close()


def senders_for(settings: NotifySettings) -> dict[str, Sender]:
    """The configured outward channels by outbox channel name ("email", or a webhook's name)."""
    senders: dict[str, Sender] = {}
    if settings.smtp is not None:
        senders[EMAIL] = SmtpSender(settings.smtp)
    for webhook in settings.webhooks:
        senders[webhook.name] = RobotSender(webhook)
    return senders


def close_all(senders: Mapping[str, Sender]) -> None:
    for sender in senders.values():
        if isinstance(sender, RobotSender):
            sender.close()
