"""The e-mail bytes written without the email package's object model are the ones it writes."""

import itertools
import uuid

import pytest

from pdz_notifications.channels import email as em
from pdz_notifications.channels.base import Outgoing
from pdz_notifications.smtp_sink import Received

SENDER = "Piano di Zona <notifiche@pdz.example.it>"
SUBJECTS = [
    "Dimissione protetta in arrivo (AMBITO-05-SEBINO / 017085)",
    "Scadenza è superata " * 30,  # encoded words, folded
    "=?utf-8?q?not-encoded?=",
    "",
]
BODIES = ["Vedi il caso.", "Riga 1\nè più così\n\nFine  \n", "." * 1200 + "\n.punto", "a\r\nb\rc"]
ADDRESSES = ["anna@sebino.it", "Anna Bianchi <anna@sebino.it>", "lucìa@sebino.it"]


def _outgoing(subject: str, body: str, address: str, critical: bool, event_id: str) -> Outgoing:
    return Outgoing(
        id=uuid.uuid4(),
        event_id=event_id,
        event_type="it.pdz.casework.discharge.received",
        recipient="op-anna",
        channel="email",
        attempt=1,
        language="it",
        critical=critical,
        address=address,
        subject=subject,
        body=body,
    )


@pytest.mark.parametrize(
    ("subject", "body", "address", "critical", "event_id"),
    list(itertools.product(SUBJECTS, BODIES, ADDRESSES, [True, False], ["e-1", "évent"])),
)
def test_message_bytes_equal_the_email_package_output(
    monkeypatch: pytest.MonkeyPatch,
    subject: str,
    body: str,
    address: str,
    critical: bool,
    event_id: str,
) -> None:
    date = em._now()
    monkeypatch.setattr(em, "_now", lambda: date)
    message = _outgoing(subject, body, address, critical, event_id)
    expected = em.flatten(em.build_message(message, SENDER))
    assert em.message_bytes(message, SENDER) == expected
    parsed = Received("x", [address], expected).message
    assert parsed["Message-ID"] == f"<{message.id}@{em.MESSAGE_ID_DOMAIN}>"
    assert parsed["Content-Language"] == "it"


@pytest.mark.parametrize(
    ("subject", "body"),
    list(
        itertools.product(
            [*SUBJECTS, "Scadenza è superata ", "Two  spaces (x) ", "=?x", "a=?b?=c"], BODIES
        )
    ),
)
def test_the_sink_prints_what_the_parser_reads(subject: str, body: str) -> None:
    from pdz_notifications import smtp_sink

    message = _outgoing(subject, body, ADDRESSES[0], False, "e-1")
    received = Received("x", [ADDRESSES[0]], em.message_bytes(message, SENDER))
    if len(subject) < 100 and "\n." not in body:  # one-line header, short body lines
        assert smtp_sink._plain(received.raw) is not None
    fast = received.render()
    received.__dict__.pop("message", None)
    original = smtp_sink._plain
    try:
        smtp_sink._plain = lambda raw: None  # type: ignore[assignment]
        slow = received.render()
    finally:
        smtp_sink._plain = original
    assert fast == slow
