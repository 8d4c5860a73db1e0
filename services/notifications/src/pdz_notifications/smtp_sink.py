"""A local SMTP sink for development (``make run``) and tests: aiosmtpd, messages kept in memory.

Run it with ``python -m pdz_notifications.smtp_sink --port 1025``: it prints every message it
receives (From, To, Message-ID, Subject and body) and keeps the last ones in memory. Point the
service at it with ``PDZ_NOTIFICATIONS_SMTP_HOST=127.0.0.1 PDZ_NOTIFICATIONS_SMTP_PORT=1025``.

A message is parsed only when a test reads it: printing one reads its headers and, for the
usual single-part text/plain message, its body without the full MIME parser (which costs more
than the rest of receiving it).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import re
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cached_property
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @cached_property
    def message(self) -> EmailMessage:
        parsed: EmailMessage = email.message_from_bytes(self.raw, policy=email.policy.default)
        return parsed

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""

    def render(self) -> str:
        fast = _plain(self.raw)
        if fast is None:
            message_id, subject, text = self.message["Message-ID"], self.subject, self.text
        else:
            message_id, subject, text = fast
        return (
            f"--- mail from {self.mail_from} to {', '.join(self.rcpt_tos)}\n"
            f"Message-ID: {message_id or ''}\n"
            f"Subject: {subject}\n\n{text}\n"
        )


# A subject the parser would return unchanged: words of printable ASCII, single spaces.
_PLAIN_SUBJECT = re.compile(r"(?:[\x21-\x7e]+(?: [\x21-\x7e]+)*)?")


def _plain(raw: bytes) -> tuple[str, str, str] | None:
    """(Message-ID, Subject, text) of a single-part text/plain message in 7bit or 8bit UTF-8 or
    ASCII, read without the MIME parser; None for anything else (then the parser reads it)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return None
    try:
        lines = head.decode("ascii").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            if line[:1] in (" ", "\t"):  # a folded header: the parser handles it
                return None
            name, colon, value = line.partition(":")
            if not colon:
                return None
            headers[name.strip().lower()] = value.lstrip(" \t")
        ctype = headers.get("content-type", "text/plain").replace(" ", "").lower().strip()
        if ctype not in ("text/plain", 'text/plain;charset="utf-8"', "text/plain;charset=utf-8"):
            return None
        if headers.get("content-transfer-encoding", "7bit").strip().lower() not in ("7bit", "8bit"):
            return None
        subject = headers.get("subject", "")
        if "=?" in subject or not _PLAIN_SUBJECT.fullmatch(subject):  # the parser decides
            subject = str(email.policy.default.header_factory("subject", subject))
        text = body.decode("utf-8")
    except (UnicodeDecodeError, LookupError, ValueError):
        return None
    return headers.get("message-id", "").strip(), subject, text


@dataclass
class MemorySink:
    """aiosmtpd handler: accepts every message and keeps it."""

    echo: bool = False
    keep: int = 1000
    messages: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        received = Received(
            str(envelope.mail_from),
            [str(r) for r in envelope.rcpt_tos],
            bytes(envelope.content),
        )
        with self._lock:
            self.messages.append(received)
            del self.messages[: -self.keep]
        if self.echo:
            print(received.render(), flush=True)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if address in m.rcpt_tos]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()


def start(
    host: str = "127.0.0.1", port: int = 1025, *, echo: bool = False
) -> tuple[Controller, MemorySink]:
    """Starts the sink in a background thread; call ``controller.stop()`` to end it."""
    sink = MemorySink(echo=echo)
    controller = Controller(sink, hostname=host, port=port)
    controller.start()
    return controller, sink


def main() -> None:
    parser = argparse.ArgumentParser(description="Local SMTP sink that prints received mail")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    args = parser.parse_args()
    controller, _ = start(args.host, args.port, echo=True)
    print(f"SMTP sink listening on {args.host}:{args.port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
