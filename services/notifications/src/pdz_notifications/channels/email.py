"""E-mail over SMTP (aiosmtplib): host, port, STARTTLS or implicit TLS, auth from settings."""

from __future__ import annotations

import contextlib
import io
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache

import aiosmtplib

from pdz_notifications.channels.base import Outgoing, SendResult
from pdz_notifications.settings import NotificationsSettings

MESSAGE_ID_DOMAIN = "pdz.example.it"
# Python folds a long Subject right after "Subject:", which some readers show with a leading
# space; RFC 5322 allows lines up to 998 characters, and our subjects are at most 500.
MAX_LINE = 998
POLICY = policy.SMTP.clone(max_line_length=MAX_LINE)


def build_message(message: Outgoing, sender: str) -> EmailMessage:
    mail = EmailMessage(policy=POLICY)
    mail["From"] = sender
    mail["To"] = message.address or ""
    mail["Subject"] = message.subject or ""
    mail["Date"] = _now()
    # The delivery id is the Message-ID: a resend after a crash is recognisable downstream.
    mail["Message-ID"] = f"<{message.id}@{MESSAGE_ID_DOMAIN}>"
    mail["X-PDZ-Event-Id"] = message.event_id
    mail["X-PDZ-Event-Type"] = message.event_type
    if message.critical:
        mail["Importance"] = "high"
    mail.set_content(message.body or "")
    mail["Content-Language"] = message.language  # after set_content, which drops Content-*
    return mail


def _now() -> str:
    return format_datetime(datetime.now(UTC))


def flatten(mail: EmailMessage) -> bytes:
    """The message as sent (aiosmtplib's own flattening would fold with its default policy)."""
    with io.BytesIO() as out:
        BytesGenerator(out, policy=POLICY).flatten(mail)
        return out.getvalue()


# A header value written as is: printable ASCII, no line break, short enough not to be folded.
_VERBATIM = re.compile(r"[\x20-\x7e]{0,900}")


def _header(name: str, value: str) -> bytes:
    if _VERBATIM.fullmatch(value) and not value.startswith(" ") and "=?" not in value:
        return f"{name}: {value}\r\n".encode("ascii")
    return _folded(name, value)


@lru_cache(maxsize=2048)
def _folded(name: str, value: str) -> bytes:
    """The header as the e-mail policy writes it (encoded words, folding, address syntax)."""
    mail = EmailMessage(policy=POLICY)
    mail[name] = value
    return flatten(mail).partition(b"\r\n\r\n")[0] + b"\r\n"


_TEXT_HEAD = (
    b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: %s\r\n'
    b"MIME-Version: 1.0\r\n\r\n"
)


def _text_part(body: str) -> bytes:
    """Content headers and body of a text/plain part, as ``set_content`` makes them."""
    encoded = body.encode("utf-8", "surrogateescape")
    lines = encoded.splitlines()
    if max((len(line) for line in lines), default=0) <= MAX_LINE:
        cte = b"7bit" if encoded.isascii() else b"8bit"
        return _TEXT_HEAD % cte + b"\r\n".join(lines) + b"\r\n"
    return _slow_text_part(body)


@lru_cache(maxsize=256)
def _slow_text_part(body: str) -> bytes:
    mail = EmailMessage(policy=POLICY)
    mail.set_content(body)
    return flatten(mail)


def message_bytes(message: Outgoing, sender: str, date: str | None = None) -> bytes:
    """The bytes of ``build_message(message, sender)`` flattened, without building it: the
    headers that recur (From, Subject, event type) are encoded once, the others written as is
    when plain ASCII (else encoded as the policy does), the text part as ``set_content``
    writes it."""
    parts = [
        _folded("From", sender),
        _header("To", message.address or ""),
        _folded("Subject", message.subject or ""),
        _header("Date", date or _now()),
        _header("Message-ID", f"<{message.id}@{MESSAGE_ID_DOMAIN}>"),
        _header("X-PDZ-Event-Id", message.event_id),
        _folded("X-PDZ-Event-Type", message.event_type),
    ]
    if message.critical:
        parts.append(b"Importance: high\r\n")
    head, _, body = _text_part(message.body or "").partition(b"\r\n\r\n")
    parts += [head, b"\r\n", _folded("Content-Language", message.language), b"\r\n", body]
    return b"".join(parts)


@dataclass
class _Connection:
    smtp: aiosmtplib.SMTP
    sent: int = 0
    idle_since: float = 0.0


class EmailChannel:
    """Sends over a small pool of open SMTP connections (one per send in flight at most).

    A connection goes back to the pool only after a send that succeeded; any error closes it,
    so a connection in an unknown state (half-finished envelope, server gone) is never reused.
    A connection idle for longer than ``smtp_pool_idle_seconds``, or that has carried
    ``smtp_pool_max_messages`` e-mails, is closed instead of reused. ``smtp_pool_size = 0``
    opens one connection per e-mail.
    """

    name = "email"

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self._idle: list[_Connection] = []

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls,
            cert_bundle=s.smtp_ca_file,
            use_tls=s.smtp_tls,
            timeout=s.smtp_timeout_seconds,
        )

    async def _checkout(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if (
                conn.smtp.is_connected
                and now - conn.idle_since < self.settings.smtp_pool_idle_seconds
            ):
                return conn
            _discard(conn)
        smtp = self._client()
        await smtp.connect()
        return _Connection(smtp)

    async def _checkin(self, conn: _Connection) -> None:
        conn.sent += 1
        s = self.settings
        if (
            len(self._idle) < s.smtp_pool_size
            and conn.sent < s.smtp_pool_max_messages
            and conn.smtp.is_connected
        ):
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            await _quit(conn)

    async def send(self, message: Outgoing) -> SendResult:
        if not message.address:
            return SendResult(False, "no e-mail address", retryable=False)
        s = self.settings
        data = message_bytes(message, s.mail_from)
        conn: _Connection | None = None
        sent = False
        try:
            conn = await self._checkout()
            await conn.smtp.sendmail(parseaddr(s.mail_from)[1], [message.address], data)
            sent = True
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return SendResult(False, f"recipient refused: {exc}", retryable=False)
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is a permanent refusal, 4xx a temporary one.
            return SendResult(False, f"SMTP {exc.code}: {exc.message}", retryable=exc.code < 500)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return SendResult(False, f"SMTP unavailable: {exc!r}")
        finally:
            if conn is not None and not sent:
                _discard(conn)  # never reused after an error: its state is unknown
        assert conn is not None
        await self._checkin(conn)
        return SendResult(True)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await _quit(conn)


async def _quit(conn: _Connection) -> None:
    with contextlib.suppress(Exception):
        await conn.smtp.quit()
    _discard(conn)


def _discard(conn: _Connection) -> None:
    with contextlib.suppress(Exception):
        conn.smtp.close()
