"""`formsync doctor` run as a person would: the installed command on a temporary workspace,
against a real aiosmtpd server (STARTTLS with a test CA) or the loopback Google emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import SPANISH_FORM
from tests.reminders.support import Mailbox
from tests.reminders.tls import (
    PASSWORD,
    PASSWORD_ENV,
    USERNAME,
    CertificateAuthority,
    TlsMailbox,
    make_ca,
    smtp_server,
)

from formsync.doctor import check_outbox
from formsync.emulator import Emulator
from formsync.emulator.testing import DEFAULT_CLIENT_EMAIL, google_settings, make_service_account
from formsync.model import MEMBER_HEADER, REMINDER_HEADER, SESSION_HEADER

FORMSYNC = str(Path(sys.executable).parent / "formsync")


def doctor(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("FORMSYNC_", "GOOGLE_", "SSL_")) and "PROXY" not in k.upper()}
    result = subprocess.run([FORMSYNC, "doctor"], cwd=cwd, capture_output=True, text=True,
                            timeout=120, env={**clean, **env}, check=False)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def failures(result: subprocess.CompletedProcess[str]) -> list[str]:
    """Each FAIL line with its fix line."""
    lines = result.stdout.splitlines()
    return [f"{line}\n{lines[i + 1]}" for i, line in enumerate(lines) if line.startswith("FAIL")]


# ---------------------------------------------------------------------------------------------
# The local backend: SMTP and outbox


def local_workspace(folder: Path, reminders: str) -> Path:
    (folder / "responses.csv").write_text(",".join(SPANISH_FORM) + "\n", encoding="utf-8")
    (folder / "Sessions.csv").write_text(",".join(SESSION_HEADER) + "\n", encoding="utf-8")
    (folder / "formsync.toml").write_text(f"[readme]\nenabled = false\n\n{reminders}",
                                          encoding="utf-8")
    return folder


def smtp_reminders(port: int) -> str:
    return f"""[reminders]
transport = "smtp"
from_address = "{USERNAME}"

[reminders.smtp]
host = "127.0.0.1"
port = {port}
security = "starttls"
username = "{USERNAME}"
password_env = "{PASSWORD_ENV}"
timeout_seconds = 5
"""


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    (tmp_path / "ca").mkdir()
    return make_ca(tmp_path / "ca")


@pytest.fixture
def starttls_server(ca: CertificateAuthority) -> Iterator[tuple[TlsMailbox, int]]:
    mailbox = TlsMailbox()
    with smtp_server(mailbox, "starttls", ca) as port:
        yield mailbox, port


def test_doctor_logs_in_over_starttls_and_sends_nothing(
        tmp_path: Path, ca: CertificateAuthority,
        starttls_server: tuple[TlsMailbox, int]) -> None:
    mailbox, port = starttls_server
    folder = local_workspace(tmp_path, smtp_reminders(port))
    result = doctor(folder, SSL_CERT_FILE=str(ca.ca_file), **{PASSWORD_ENV: PASSWORD})
    assert result.returncode == 0, result.stdout
    assert f"ok   smtp: 127.0.0.1:{port}: STARTTLS (TLSv1." in result.stdout
    assert result.stdout.splitlines()[-1] == "all checks passed"
    assert mailbox.received == []


def test_doctor_fails_a_wrong_smtp_password_with_the_keys_to_fix(
        tmp_path: Path, ca: CertificateAuthority,
        starttls_server: tuple[TlsMailbox, int]) -> None:
    _, port = starttls_server
    folder = local_workspace(tmp_path, smtp_reminders(port))
    result = doctor(folder, SSL_CERT_FILE=str(ca.ca_file), **{PASSWORD_ENV: "not-the-password"})
    assert result.returncode == 1
    [failure] = failures(result)
    assert failure.startswith(f"FAIL smtp: 127.0.0.1:{port} refused the login of "
                              f"'{USERNAME}': 535")
    assert "fix: check reminders.smtp.username and the password in the environment variable " \
           f"{PASSWORD_ENV}" in failure
    assert "not-the-password" not in result.stdout + result.stderr


def test_doctor_fails_a_server_without_starttls_when_starttls_is_configured(
        tmp_path: Path) -> None:
    with smtp_server(Mailbox(), "none") as port:
        folder = local_workspace(tmp_path, smtp_reminders(port))
        result = doctor(folder, **{PASSWORD_ENV: PASSWORD})
    assert result.returncode == 1
    [failure] = failures(result)
    assert "does not offer STARTTLS" in failure
    assert 'fix: in reminders.smtp, use the server\'s TLS settings: security = "starttls"' \
           in failure


def test_doctor_fails_an_outbox_folder_that_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder", encoding="utf-8")
    folder = local_workspace(tmp_path, '[reminders]\noutbox_folder = "taken/outbox"\n')
    result = doctor(folder)
    assert result.returncode == 1
    [failure] = failures(result)
    assert failure.startswith("FAIL outbox:") and "reminders.outbox_folder" in failure


def test_the_outbox_check_leaves_no_file_behind(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    later = check_outbox(outbox)
    assert later.ok and "not there yet" in later.detail and not outbox.exists()
    outbox.mkdir()
    now = check_outbox(outbox)
    assert now.ok and "no email written" in now.detail
    assert list(outbox.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# The Google backend: Gmail as a service account


def google_workspace(emulator: Emulator, folder: Path, **google: str) -> Path:
    emulator.sheets.create_spreadsheet("form-id", {"Form Responses 1": [list(SPANISH_FORM)]})
    emulator.sheets.create_spreadsheet("master-id", {"Sessions": [list(SESSION_HEADER)],
                                                     "Members": [list(MEMBER_HEADER)],
                                                     "Reminders": [list(REMINDER_HEADER)]})
    (folder / "key.json").write_text(json.dumps(make_service_account(emulator)),
                                     encoding="utf-8")
    settings = google_settings(emulator, responses_spreadsheet="form-id",
                               master_spreadsheet="master-id", credentials_file="key.json",
                               timeout_seconds=5, retry_deadline_seconds=10, **google)
    lines = "\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items())
    (folder / "formsync.toml").write_text(
        f'[backend]\nkind = "google"\n\n[google]\n{lines}\n\n[calendar]\nenabled = false\n\n'
        '[reminders]\ntransport = "gmail"\nfrom_address = "organizer@example.org"\n',
        encoding="utf-8")
    return folder


def test_doctor_fails_gmail_for_a_service_account_without_subject(tmp_path: Path) -> None:
    with Emulator() as emulator:
        result = doctor(google_workspace(emulator, tmp_path))
        sent = emulator.counts()["gmail.users.drafts.create"]
    assert result.returncode == 1
    [failure] = failures(result)
    assert failure.startswith(f"FAIL gmail: Gmail API refused the mailbox of service account "
                              f"{DEFAULT_CLIENT_EMAIL}: HTTP 400 Precondition check failed.")
    assert "fix: set [google] subject to the mailbox to send from" in failure
    assert "formsync auth login" in failure
    assert sent == 0


def test_doctor_passes_gmail_as_the_delegated_subject(tmp_path: Path) -> None:
    with Emulator() as emulator:
        result = doctor(google_workspace(emulator, tmp_path, subject="organizer@example.org"))
    assert result.returncode == 0, result.stdout
    assert "ok   gmail: the mailbox of organizer@example.org answers drafts.list" \
           in result.stdout
