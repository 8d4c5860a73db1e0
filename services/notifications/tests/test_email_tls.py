"""E-mail over a real SMTP server that demands STARTTLS and authentication."""

import datetime
import ipaddress
import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from pdz_notifications.channels.base import Outgoing
from pdz_notifications.channels.email import EmailChannel
from pdz_notifications.settings import NotificationsSettings
from pdz_notifications.smtp_sink import MemorySink

from .conftest import free_port


def self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "smtp.crt", tmp / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Logins:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.seen.append(data.login.decode())
        ok = (data.login, data.password) == (b"pdz-mailer", b"correct horse battery")
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path, MemorySink, Logins]]:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink, logins, port = MemorySink(), Logins(), free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=logins,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield port, cert, sink, logins
    finally:
        controller.stop()


def message(address: str) -> Outgoing:
    return Outgoing(
        id=uuid.uuid4(),
        event_id="e-1",
        event_type="it.pdz.casework.sla.breached",
        recipient="cm-lucia",
        channel="email",
        attempt=1,
        language="it",
        critical=True,
        address=address,
        subject="Scadenza superata",
        body="La scadenza è stata superata.",
    )


async def test_starttls_and_auth(tls_server: tuple[int, Path, MemorySink, Logins]) -> None:
    port, cert, sink, logins = tls_server
    base = NotificationsSettings(
        smtp_host="127.0.0.1", smtp_port=port, smtp_ca_file=str(cert), smtp_starttls=True
    )
    good = EmailChannel(
        base.model_copy(
            update={
                "smtp_username": "pdz-mailer",
                "smtp_password": SecretStr("correct horse battery"),
            }
        )
    )
    result = await good.send(message("lucia@sebino.it"))
    assert result.ok, result.error
    assert [m.subject for m in sink.to("lucia@sebino.it")] == ["Scadenza superata"]
    assert sink.messages[0].text.strip() == "La scadenza è stata superata."
    assert logins.seen == ["pdz-mailer"]

    wrong = EmailChannel(
        base.model_copy(update={"smtp_username": "pdz-mailer", "smtp_password": SecretStr("guess")})
    )
    refused = await wrong.send(message("lucia@sebino.it"))
    assert not refused.ok and not refused.retryable and "535" in (refused.error or "")

    plain = EmailChannel(base.model_copy(update={"smtp_starttls": False}))
    no_tls = await plain.send(message("lucia@sebino.it"))
    assert not no_tls.ok  # the server demands STARTTLS

    untrusted = EmailChannel(base.model_copy(update={"smtp_ca_file": None}))
    unverified = await untrusted.send(message("lucia@sebino.it"))
    assert not unverified.ok and unverified.retryable  # a certificate we cannot trust
    assert len(sink.messages) == 1


def test_settings_refuse_ambiguous_tls() -> None:
    with pytest.raises(ValueError, match="not both"):
        NotificationsSettings(smtp_tls=True, smtp_starttls=True)
