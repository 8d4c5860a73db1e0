"""A local SMTP sink for development (``make run``) and tests: aiosmtpd, messages kept in memory.

Run it with ``python -m pdz_notifications.smtp_sink --port 1025``: it prints every message it
receives (From, To, Subject and body) and keeps the last ones in memory. Point the service at it
with ``PDZ_NOTIFICATIONS_SMTP_HOST=127.0.0.1 PDZ_NOTIFICATIONS_SMTP_PORT=1025``.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""

    def render(self) -> str:
        return (
            f"--- mail from {self.mail_from} to {', '.join(self.rcpt_tos)}\n"
            f"Message-ID: {self.message['Message-ID'] or ''}\n"
            f"Subject: {self.subject}\n\n{self.text}\n"
        )


@dataclass
class MemorySink:
    """aiosmtpd handler: accepts every message and keeps it."""

    echo: bool = False
    keep: int = 1000
    messages: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        received = Received(
            str(envelope.mail_from),
            [str(r) for r in envelope.rcpt_tos],
            parsed,
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
