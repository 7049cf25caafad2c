"""Credentials the emulator accepts, in the exact shapes Google hands out, for tests and demos."""

from __future__ import annotations

import functools
import secrets
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from formsync.emulator.server import Emulator

DEFAULT_CLIENT_EMAIL = "formsync-test@formsync-emulator.iam.gserviceaccount.com"
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"


@functools.cache
def _shared_key_pem() -> tuple[str, str]:
    return _new_key_pem()


def _new_key_pem() -> tuple[str, str]:
    """(private PKCS#8 PEM, public PEM) of a fresh 2048-bit RSA key, as Google issues."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    return private, public


def make_service_account(emulator: Emulator, *, client_email: str = DEFAULT_CLIENT_EMAIL,
                         fresh_key: bool = False, register: bool = True,
                         allow_delegation: bool = True) -> dict[str, str]:
    """A service-account key file's JSON (Google's shape) whose token_uri is the emulator's.

    The key pair is shared within the process unless `fresh_key` (RSA generation is slow).
    Unless `register` is False, the emulator is told to accept it.
    """
    private_pem, public_pem = _new_key_pem() if fresh_key else _shared_key_pem()
    private_key_id = secrets.token_hex(20)
    if register:
        emulator.oauth.add_service_account(client_email, public_pem, private_key_id,
                                           allow_delegation=allow_delegation)
    project_id = client_email.partition("@")[2].partition(".")[0] or "formsync-emulator"
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": private_key_id,
        "private_key": private_pem,
        "client_email": client_email,
        "client_id": str(int(secrets.token_hex(8), 16)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": emulator.token_url,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
                                + urllib.parse.quote(client_email),
        "universe_domain": "googleapis.com",
    }


def make_authorized_user(emulator: Emulator, *, user_email: str = "organizer@example.com",
                         scopes: tuple[str, ...] = (SHEETS_SCOPE,)) -> dict[str, Any]:
    """OAuth authorized-user JSON (what `formsync auth login` saves) that the emulator accepts."""
    client_id = f"{secrets.token_hex(6)}.apps.googleusercontent.com"
    client_secret = "GOCSPX-" + secrets.token_urlsafe(20)
    refresh_token = "1//emulator-" + secrets.token_urlsafe(30)
    emulator.oauth.add_oauth_client(client_id, client_secret, refresh_token=refresh_token,
                                    user_email=user_email, scopes=scopes)
    return {"type": "authorized_user", "client_id": client_id, "client_secret": client_secret,
            "refresh_token": refresh_token, "token_uri": emulator.token_url,
            "scopes": list(scopes), "account": user_email, "universe_domain": "googleapis.com"}


@dataclass
class FakeTime:
    """A clock that moves only when the code under test sleeps: pass `.sleep` and `.clock`
    to formsync.google.transport.RetryPolicy to run retries and deadlines without waiting."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def google_settings(emulator: Emulator, **overrides: Any) -> dict[str, Any]:
    """The `[google]` config values that point formsync at this emulator."""
    return {"token_uri": emulator.token_url, "sheets_base_url": emulator.base_url,
            "calendar_base_url": emulator.base_url, "gmail_base_url": emulator.base_url,
            **overrides}
