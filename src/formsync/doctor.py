"""`formsync doctor`: can `sync` do what the config asks? One line per check, a fix per failure.

Every configured place is really exercised, and nothing is sent or kept: the Google backend's
checks are in formsync.google.doctor (credentials, sheets, calendar, Gmail), the local backend's
files in formsync.workspace.local_checks, and here the reminder transports that need no Google:
an SMTP login (connect, EHLO, TLS, AUTH, QUIT) and a writable outbox folder. A password is never
part of a message.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from formsync.config import Config, Smtp
from formsync.errors import ConfigError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        mark = "ok  " if self.ok else "FAIL"
        head = f"{mark} {self.name}: {self.detail}"
        return [head, f"     fix: {self.fix}"] if self.fix and not self.ok else [head]


def render_checks(checks: Sequence[Check]) -> list[str]:
    lines = [line for check in checks for line in check.lines()]
    failed = sum(not check.ok for check in checks)
    lines.append("all checks passed" if not failed else
                 f"{failed} check{'s' if failed != 1 else ''} failed")
    return lines


def run_checks(config: Config, *, environ: Mapping[str, str] | None = None) -> list[Check]:
    """Every check the backend and the enabled steps call for, in the order a sync uses them."""
    if config.backend.kind == "google":
        from formsync.google.doctor import run_doctor, step_checks

        checks = run_doctor(config, extra=step_checks(config))
    else:
        from formsync.workspace import local_checks

        checks = local_checks(config)
        if config.reminders.enabled and config.reminders.transport == "gmail":
            from formsync.google.doctor import run_gmail_doctor

            checks += run_gmail_doctor(config)
    from formsync.announce.doctor import announce_checks

    return checks + transport_checks(config, environ) + announce_checks(config, environ)


def transport_checks(config: Config, environ: Mapping[str, str] | None = None) -> list[Check]:
    """The reminders' SMTP server or outbox folder (Gmail is checked with the Google ones)."""
    reminders = config.reminders
    if not reminders.enabled:
        return []
    if reminders.transport == "smtp":
        return [check_smtp(reminders.smtp, environ)]
    if reminders.transport == "outbox":
        return [check_outbox(config.path(reminders.outbox_folder))]
    return []


# ---------------------------------------------------------------------------------------------
# SMTP


def check_smtp(settings: Smtp, environ: Mapping[str, str] | None = None) -> Check:
    """Log in to the SMTP server exactly as a send does, then quit without sending."""
    from formsync.reminders.transports import SmtpTransport

    try:
        tls = SmtpTransport.from_config(settings, environ).handshake()
    except ConfigError as error:
        return Check("smtp", False, error.message, error.fix)
    except (smtplib.SMTPException, OSError) as error:  # ssl.SSLError is an OSError
        return _smtp_failure(error, settings)
    how = {"starttls": f"STARTTLS ({tls})", "ssl": f"SSL ({tls})"}.get(settings.security,
                                                                        "no encryption")
    login = f"logged in as {settings.username}" if settings.username else \
        "no login (reminders.smtp.username is empty)"
    return Check("smtp", True, f"{_where(settings)}: {how}, {login}; nothing sent")


def _where(settings: Smtp) -> str:
    return f"{settings.host}:{settings.port}"


_TLS_PORTS_FIX = ("in reminders.smtp, use the server's TLS settings: security = \"starttls\" "
                  "with its submission port (usually 587), or security = \"ssl\" with its SSL "
                  "port (usually 465)")


def _smtp_failure(error: smtplib.SMTPException | OSError, settings: Smtp) -> Check:
    where = _where(settings)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return _login_refused(error, settings)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return _not_supported(str(error), settings)
    if isinstance(error, ssl.SSLError):
        return _tls_failed(error, settings)
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        # smtplib reports a greeting that never came as SMTPServerDisconnected.
        return Check("smtp", False, f"{where} did not answer within "
                                    f"{settings.timeout_seconds:g} s",
                     "check reminders.smtp.host and port; a server that waits for SSL (port "
                     f"465) never greets a plain connection; {_TLS_PORTS_FIX}")
    return Check("smtp", False, f"cannot talk to the SMTP server {where} "
                                f"({type(error).__name__}: {str(error)[:200]})",
                 "check reminders.smtp.host, port and security, and that this network "
                 "allows outgoing SMTP")


def _login_refused(error: smtplib.SMTPAuthenticationError, settings: Smtp) -> Check:
    return Check("smtp", False, f"{_where(settings)} refused the login of "
                                f"{settings.username!r}: "
                                f"{_reply(error.smtp_code, error.smtp_error)}",
                 f"check reminders.smtp.username and the password in the environment "
                 f"variable {settings.password_env} (reminders.smtp.password_env); many "
                 "providers, Gmail among them, want an app password")


def _tls_failed(error: ssl.SSLError, settings: Smtp) -> Check:
    if isinstance(error, ssl.SSLCertVerificationError):
        return Check("smtp", False, f"{_where(settings)}: the server's TLS certificate is not "
                                    f"trusted ({error.verify_message})",
                     "set reminders.smtp.host to the name on the server's certificate (e.g. "
                     "smtp.gmail.com, not an IP address); a private CA must be trusted by "
                     "this computer (its CA store, or SSL_CERT_FILE)")
    return Check("smtp", False, f"{_where(settings)}: the TLS handshake failed "
                                f"({error.reason or error}) with security = "
                                f"{settings.security!r}", _TLS_PORTS_FIX)


def _not_supported(reason: str, settings: Smtp) -> Check:
    where = _where(settings)
    if "STARTTLS" in reason:
        return Check("smtp", False, f"{where} does not offer STARTTLS, which reminders.smtp."
                                    "security = \"starttls\" requires",
                     f"{_TLS_PORTS_FIX}; formsync never sends a password unencrypted to "
                     "another computer")
    return Check("smtp", False, f"{where} offers no login (AUTH) to {settings.username!r} "
                                f"with security = {settings.security!r}",
                 "leave reminders.smtp.username empty if the server needs no login; many "
                 f"servers offer AUTH only over TLS: {_TLS_PORTS_FIX}")


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}"[:200]


# ---------------------------------------------------------------------------------------------
# Outbox


def check_outbox(folder: Path) -> Check:
    """Create and remove a temporary file where the outbox's emails will go."""
    base = next((path for path in (folder, *folder.parents) if path.exists()), folder)
    if not base.is_dir():
        return Check("outbox", False, f"{base} is a file, so the outbox folder {folder} "
                                      "cannot be there",
                     "set reminders.outbox_folder to a folder (it is created if missing)")
    try:
        handle, temp = tempfile.mkstemp(prefix=".formsync-doctor-", dir=base)
        os.close(handle)
        Path(temp).unlink()
    except OSError as error:
        return Check("outbox", False, f"cannot write in {base}: {error.strerror}",
                     "let this user write there, or set reminders.outbox_folder to a folder "
                     "it can write")
    where = f"{folder}" if base == folder else \
        f"{folder} (not there yet: the first reminder creates it in {base})"
    return Check("outbox", True, f"{where} is writable; no email written")


__all__ = ["Check", "check_outbox", "check_smtp", "render_checks", "run_checks",
           "transport_checks"]
