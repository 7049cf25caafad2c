"""SMTP over STARTTLS and implicit SSL against a real aiosmtpd server on 127.0.0.1, with a
certificate made at test time: sending, and the login check of `formsync doctor`."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from tests.reminders.support import Mailbox
from tests.reminders.tls import (
    PASSWORD,
    PASSWORD_ENV,
    USERNAME,
    Security,
    TlsMailbox,
    make_ca,
    smtp_server,
    smtp_settings,
)

from formsync.config import Smtp
from formsync.doctor import check_smtp, render_checks
from formsync.errors import BackendError
from formsync.reminders.transports import SmtpTransport

TLS_MODES: list[Security] = ["starttls", "ssl"]
RIGHT = {PASSWORD_ENV: PASSWORD}


def settings(port: int, security: Security, *, login: bool = True) -> Smtp:
    return Smtp(**smtp_settings(port, security, login=login)["smtp"])


def message() -> EmailMessage:
    email = EmailMessage()
    email["From"], email["To"] = USERNAME, "ana@example.org"
    email["Subject"], email["Message-ID"] = "Session 1", "<s1.ana@formsync.test>"
    email.set_content("See you on Tuesday.")
    return email


@pytest.mark.parametrize("security", TLS_MODES)
def test_a_message_goes_out_over_tls_after_the_login(
        security: Security, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = make_ca(tmp_path)
    ca.trust(monkeypatch)
    mailbox = TlsMailbox()
    with smtp_server(mailbox, security, ca) as port:
        transport = SmtpTransport.from_config(settings(port, security), RIGHT)
        with transport.connect() as connection:
            sent_id = connection.send(message())
    [received] = mailbox.received
    assert mailbox.over_tls == [True]
    assert received.rcpt_tos == ["ana@example.org"]
    assert received.message["Message-ID"] == sent_id == "<s1.ana@formsync.test>"


def test_a_certificate_from_an_untrusted_ca_stops_before_the_login(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = make_ca(tmp_path)
    (tmp_path / "other").mkdir()
    make_ca(tmp_path / "other").trust(monkeypatch)
    mailbox = TlsMailbox()
    with smtp_server(mailbox, "starttls", ca) as port:
        transport = SmtpTransport.from_config(settings(port, "starttls"), RIGHT)
        with pytest.raises(BackendError, match="CERTIFICATE_VERIFY_FAILED"), \
                transport.connect():
            pass
        check = check_smtp(settings(port, "starttls"), RIGHT)
    assert not check.ok and "certificate is not trusted" in check.detail
    assert "reminders.smtp.host" in check.fix
    assert mailbox.received == []


@pytest.mark.parametrize("security", TLS_MODES)
def test_doctor_logs_in_over_tls_and_sends_nothing(
        security: Security, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = make_ca(tmp_path)
    ca.trust(monkeypatch)
    mailbox = TlsMailbox()
    with smtp_server(mailbox, security, ca) as port:
        check = check_smtp(settings(port, security), RIGHT)
    assert check.ok, check
    assert f"logged in as {USERNAME}" in check.detail and "TLSv1." in check.detail
    assert "nothing sent" in check.detail and mailbox.received == []


@pytest.mark.parametrize("security", TLS_MODES)
def test_doctor_names_the_username_and_password_variable_when_the_login_is_refused(
        security: Security, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = make_ca(tmp_path)
    ca.trust(monkeypatch)
    with smtp_server(TlsMailbox(), security, ca) as port:
        check = check_smtp(settings(port, security), {PASSWORD_ENV: "a-wrong-password"})
    assert not check.ok
    assert f"refused the login of {USERNAME!r}: 535" in check.detail
    assert "reminders.smtp.username" in check.fix and PASSWORD_ENV in check.fix
    shown = "\n".join(render_checks([check]))
    assert "a-wrong-password" not in shown and PASSWORD not in shown


def test_doctor_fails_when_starttls_is_configured_but_not_offered() -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, "none") as port:
        check = check_smtp(settings(port, "starttls"), RIGHT)
    assert not check.ok
    assert "does not offer STARTTLS" in check.detail
    assert 'security = "ssl"' in check.fix and "587" in check.fix and "465" in check.fix
    assert mailbox.received == []


def test_doctor_fails_when_ssl_is_configured_for_a_plain_port() -> None:
    with smtp_server(Mailbox(), "none") as port:
        check = check_smtp(settings(port, "ssl", login=False), {})
    assert not check.ok and "TLS handshake failed" in check.detail
    assert 'security = "starttls"' in check.fix


def test_doctor_names_the_variable_when_the_password_is_not_set() -> None:
    check = check_smtp(settings(2525, "starttls"), {})
    assert not check.ok and "reminders.smtp.password_env" in check.detail
    assert f"export {PASSWORD_ENV}=" in check.fix


def test_doctor_says_when_a_server_never_greets_a_plain_connection(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = make_ca(tmp_path)
    ca.trust(monkeypatch)
    with smtp_server(TlsMailbox(), "ssl", ca) as port:  # waits for a TLS hello
        slow = settings(port, "starttls").model_copy(update={"timeout_seconds": 0.5})
        check = check_smtp(slow, RIGHT)
    assert not check.ok and "did not answer within 0.5 s" in check.detail
    assert 'security = "ssl"' in check.fix
