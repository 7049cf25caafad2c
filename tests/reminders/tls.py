"""TLS for the SMTP tests: a certificate authority made at test time, and aiosmtpd servers on
loopback that speak STARTTLS or implicit SSL (or neither) and check a login.

A client trusts the test CA through SSL_CERT_FILE, which `ssl.create_default_context()` reads:
the code under test builds its TLS context exactly as it does in production.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SmtpSession
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.reminders.support import Mailbox, free_port

USERNAME, PASSWORD = "grupo@example.org", "the-right-password"
PASSWORD_ENV = "FORMSYNC_TEST_SMTP_PASSWORD"

Security = Literal["starttls", "ssl", "none"]


@dataclass(frozen=True)
class CertificateAuthority:
    ca_file: Path  # the CA certificate: what a client must trust
    cert_file: Path  # the server's certificate, for 127.0.0.1 and localhost
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def trust(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make this process's default TLS contexts trust (only) this CA."""
        monkeypatch.setenv("SSL_CERT_FILE", str(self.ca_file))


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: str, public_key: Any) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key),
                           critical=False))


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False,
                         decipher_only=False)


def make_ca(folder: Path) -> CertificateAuthority:
    """A CA and a server certificate it signed (EC keys: fast to make)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (_builder("formsync test CA", "formsync test CA", ca_key.public_key())
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(_usage(ca=True), critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
    cert = (_builder("localhost", "formsync test CA", key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    found = CertificateAuthority(folder / "test-ca.pem", folder / "server.pem",
                                 folder / "server-key.pem")
    found.ca_file.write_bytes(ca_cert.public_bytes(pem))
    found.cert_file.write_bytes(cert.public_bytes(pem))
    found.key_file.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    return found


@dataclass
class TlsMailbox(Mailbox):
    """Also records whether each message arrived over TLS."""

    over_tls: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: SmtpSession,
                          envelope: Envelope) -> str:
        # (session.ssl is set after STARTTLS only, not on an implicit SSL connection)
        self.over_tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return await super().handle_DATA(server, session, envelope)


def _check_login(server: SMTP, session: SmtpSession, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and \
        (auth_data.login, auth_data.password) == (USERNAME.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # unhandled: aiosmtpd answers 535


@contextlib.contextmanager
def smtp_server(mailbox: Mailbox, security: Security,
                ca: CertificateAuthority | None = None) -> Iterator[int]:
    """A server on 127.0.0.1 (its port): STARTTLS or implicit SSL with the CA's certificate,
    AUTH (over TLS only) checking USERNAME and PASSWORD; or plain SMTP without AUTH."""
    options: dict[str, Any] = {}
    if security != "none":
        assert ca is not None, "a TLS server needs a certificate"
        context = ca.server_context()
        # aiosmtpd's auth_require_tls only knows STARTTLS; an SSL connection is TLS already.
        options = {"authenticator": _check_login, "auth_require_tls": security == "starttls",
                   **({"tls_context": context} if security == "starttls" else
                      {"ssl_context": context})}
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def smtp_settings(port: int, security: Security, *, login: bool = True) -> dict[str, Any]:
    """[reminders] values for a server from `smtp_server`."""
    smtp: dict[str, Any] = {"host": "127.0.0.1", "port": port, "security": security,
                            "timeout_seconds": 5, "password_env": PASSWORD_ENV}
    if login:
        smtp["username"] = USERNAME
    return {"transport": "smtp", "smtp": smtp}
