"""E-mail over SMTP (aiosmtplib): host, port, STARTTLS or implicit TLS, auth from settings."""

from __future__ import annotations

import io
from email import policy
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from pdz_notifications.channels.base import Outgoing, SendResult
from pdz_notifications.settings import NotificationsSettings

MESSAGE_ID_DOMAIN = "pdz.example.it"
# Python folds a long Subject right after "Subject:", which some readers show with a leading
# space; RFC 5322 allows lines up to 998 characters, and our subjects are at most 500.
POLICY = policy.SMTP.clone(max_line_length=998)


def build_message(message: Outgoing, sender: str) -> EmailMessage:
    mail = EmailMessage(policy=POLICY)
    mail["From"] = sender
    mail["To"] = message.address or ""
    mail["Subject"] = message.subject or ""
    mail["Date"] = formatdate(usegmt=True)
    # The delivery id is the Message-ID: a resend after a crash is recognisable downstream.
    mail["Message-ID"] = f"<{message.id}@{MESSAGE_ID_DOMAIN}>"
    mail["Content-Language"] = message.language
    mail["X-PDZ-Event-Id"] = message.event_id
    mail["X-PDZ-Event-Type"] = message.event_type
    if message.critical:
        mail["Importance"] = "high"
    mail.set_content(message.body or "")
    return mail


def flatten(mail: EmailMessage) -> bytes:
    """The message as sent (aiosmtplib's own flattening would fold with its default policy)."""
    with io.BytesIO() as out:
        BytesGenerator(out, policy=POLICY).flatten(mail)
        return out.getvalue()


class EmailChannel:
    name = "email"

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings

    async def send(self, message: Outgoing) -> SendResult:
        if not message.address:
            return SendResult(False, "no e-mail address", retryable=False)
        s = self.settings
        mail = build_message(message, s.mail_from)
        try:
            await aiosmtplib.send(
                flatten(mail),
                sender=parseaddr(s.mail_from)[1],
                recipients=[message.address],
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                start_tls=s.smtp_starttls,
                cert_bundle=s.smtp_ca_file,
                use_tls=s.smtp_tls,
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return SendResult(False, f"recipient refused: {exc}", retryable=False)
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is a permanent refusal, 4xx a temporary one.
            return SendResult(False, f"SMTP {exc.code}: {exc.message}", retryable=exc.code < 500)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return SendResult(False, f"SMTP unavailable: {exc!r}")
        return SendResult(True)

    async def close(self) -> None:
        return None
