"""Google credentials from formsync's config, with errors that say how to fix them.

Sources, first found wins: `google.credentials_file` (a service-account key or an
authorized-user token), the same JSON in the environment variable `google.credentials_env`,
Application Default Credentials when GOOGLE_APPLICATION_CREDENTIALS is set (this covers
external_account / Workload Identity Federation), then `google.oauth_token_file` (written by
`formsync auth login`). No message or log ever contains a key, token or secret.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import google.auth
import google.auth.exceptions
import google.oauth2.credentials
from google.auth.credentials import Credentials
from google.oauth2 import service_account

from formsync.config import GOOGLE_TOKEN_URI, Config, Google
from formsync.errors import BackendError, ConfigError
from formsync.local.files import write_atomically

SCOPE_SHEETS = "https://www.googleapis.com/auth/spreadsheets"
SCOPE_CALENDAR = "https://www.googleapis.com/auth/calendar.events"
# drafts.create, drafts.get, drafts.send and drafts.delete all accept this scope (the Gmail
# discovery document lists it for each); gmail.send alone would not allow drafts.
GMAIL_COMPOSE = "https://www.googleapis.com/auth/gmail.compose"

# google-auth has no type annotations; these names make that explicit in one place.
_ServiceAccount: Any = service_account.Credentials
_UserCredentials: Any = google.oauth2.credentials.Credentials

_NO_CREDENTIALS_FIX = (
    "set google.credentials_file to a service-account key file, put the key's JSON in the "
    "environment variable named by google.credentials_env, set GOOGLE_APPLICATION_CREDENTIALS, "
    "or run 'formsync auth login' and set google.oauth_token_file")

# ---------------------------------------------------------------------------------------------
# Redaction

_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.*?(-----END [A-Z ]+-----|$)", re.DOTALL)
_SECRET_FIELD = re.compile(
    r"""(["']?(?:private_key|client_secret|refresh_token|access_token|id_token|token|assertion|
    password)["']?\s*[:=]\s*)(["']?)[^"'&,\s}]+""", re.VERBOSE | re.IGNORECASE)
_TOKEN_SHAPES = re.compile(r"(ya29\.[\w.-]+|1//[\w.-]+|GOCSPX-[\w-]+|eyJ[\w-]+\.[\w-]+\.[\w-]*)")
_REDACTED = "[redacted]"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with private keys, tokens, client secrets and the given values masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, _REDACTED)
    text = _PEM_BLOCK.sub(_REDACTED, text)
    text = _SECRET_FIELD.sub(lambda match: f"{match.group(1)}{match.group(2)}{_REDACTED}", text)
    return _TOKEN_SHAPES.sub(_REDACTED, text)


def _secrets_of(info: Mapping[str, Any]) -> list[str]:
    return [str(info[key]) for key in ("private_key", "client_secret", "refresh_token", "token")
            if info.get(key)]


# ---------------------------------------------------------------------------------------------
# Loading


def run_scopes(config: Config) -> tuple[str, ...]:
    """The OAuth scopes one run needs. One credential holding them all serves every API of
    the run, so a run makes one token exchange, not one per API."""
    scopes = []
    if config.backend.kind == "google":
        scopes.append(SCOPE_SHEETS)
        if config.calendar.enabled:
            scopes.append(SCOPE_CALENDAR)
    if config.reminders.enabled and config.reminders.transport == "gmail":
        scopes.append(GMAIL_COMPOSE)
    return tuple(scopes)


def load_credentials(cfg: Google, scopes: Sequence[str], *, base_dir: Path | None = None,
                     environ: Mapping[str, str] | None = None) -> Credentials:
    """The credentials the config points at, scoped, with `subject` and `token_uri` applied.

    Relative paths are relative to `base_dir` (the config file's folder).
    """
    env = os.environ if environ is None else environ
    if cfg.credentials_file:
        path = _resolve(cfg.credentials_file, base_dir)
        info = _read_json_file(path, "google.credentials_file")
        return _from_info(info, cfg, scopes, source=f"google.credentials_file ({path})")
    if cfg.credentials_env and env.get(cfg.credentials_env, "").strip():
        info = _parse_json(env[cfg.credentials_env], "google.credentials_env",
                           f"environment variable {cfg.credentials_env}")
        return _from_info(info, cfg, scopes, source=f"${cfg.credentials_env}")
    if env.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return _application_default(cfg, scopes)
    if cfg.oauth_token_file:
        path = _resolve(cfg.oauth_token_file, base_dir)
        info = _read_json_file(path, "google.oauth_token_file",
                               missing_fix="run 'formsync auth login' to create it")
        return _from_info(info, cfg, scopes, source=f"google.oauth_token_file ({path})")
    raise ConfigError("google.credentials_file", "no Google credentials are configured",
                      fix=_NO_CREDENTIALS_FIX)


def _resolve(name: str, base_dir: Path | None) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() or base_dir is None else base_dir / path


def _read_json_file(path: Path, key: str, missing_fix: str = "") -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(key, f"file {path} does not exist",
                          fix=missing_fix or f"check the path in {key}") from None
    except OSError as error:
        raise ConfigError(key, f"cannot read {path}: {error.strerror}",
                          fix="check the file's permissions") from None
    return _parse_json(text, key, str(path))


def _parse_json(text: str, key: str, where: str) -> dict[str, Any]:
    try:
        info = json.loads(text)
    except ValueError as error:
        # Only the position: the text itself may be a key.
        position = (f" (line {error.lineno}, column {error.colno})"
                    if isinstance(error, json.JSONDecodeError) else "")
        raise ConfigError(key, f"{where} is not valid JSON{position}",
                          fix="download the key file again from the Google Cloud console "
                              "(IAM → Service accounts → Keys), or run 'formsync auth login'"
                          ) from None
    if not isinstance(info, dict):
        raise ConfigError(key, f"{where} does not hold a JSON object",
                          fix="use the JSON key file exactly as Google issued it")
    return info


def _from_info(info: dict[str, Any], cfg: Google, scopes: Sequence[str], *,
               source: str) -> Credentials:
    # Credentials.to_json() (what `formsync auth login` saves) writes no "type".
    kind = info.get("type") or ("authorized_user" if "refresh_token" in info else None)
    if kind not in _USABLE_TYPES:
        # Before the subject check: the file, not google.subject, is what needs fixing.
        raise _unusable_type(kind, source)
    if kind == "service_account":
        return _service_account(info, cfg, scopes, source)
    if cfg.subject:
        raise ConfigError("google.subject", f"is set, but {source} is not a service account",
                          fix="remove google.subject (it needs a service account with "
                              "domain-wide delegation)")
    if kind == "authorized_user":
        return _authorized_user(info, cfg, scopes, source)
    return _external_account(info, scopes, source)


_USABLE_TYPES = ("service_account", "authorized_user", "external_account")


def _unusable_type(kind: object, source: str) -> ConfigError:
    shown = f'has "type" {str(kind)[:60]!r}' if kind else 'has no "type"'
    return ConfigError(_key_of(source), f"{source} {shown}, which formsync cannot use",
                       fix="point it at a service-account key (type 'service_account'), a "
                           "token written by 'formsync auth login' (type 'authorized_user') "
                           "or a Workload Identity Federation configuration (type "
                           "'external_account')")


def _key_of(source: str) -> str:
    return source.split(" ")[0] if source.startswith("google.") else "google.credentials_env"


def _token_uri(cfg: Google, info: Mapping[str, Any]) -> str:
    # The config wins when it says something other than Google's default.
    if cfg.token_uri != GOOGLE_TOKEN_URI:
        return cfg.token_uri
    return str(info.get("token_uri") or GOOGLE_TOKEN_URI)


def _service_account(info: dict[str, Any], cfg: Google, scopes: Sequence[str],
                     source: str) -> Credentials:
    try:
        credentials = _ServiceAccount.from_service_account_info(
            {**info, "token_uri": _token_uri(cfg, info)}, scopes=list(scopes))
    except (ValueError, TypeError, KeyError) as error:
        reason = redact(str(error) or type(error).__name__, _secrets_of(info))
        raise ConfigError(_key_of(source), f"{source} is not a usable service-account key: "
                          f"{reason}",
                          fix="download a new JSON key for the service account from the "
                              "Google Cloud console (IAM → Service accounts → Keys)") from None
    if cfg.subject:
        credentials = credentials.with_subject(cfg.subject)
    return cast(Credentials, credentials)


def _authorized_user(info: dict[str, Any], cfg: Google, scopes: Sequence[str],
                     source: str) -> Credentials:
    try:
        credentials = _UserCredentials.from_authorized_user_info(
            info, scopes=list(scopes))
    except (ValueError, TypeError, KeyError) as error:
        reason = redact(str(error) or type(error).__name__, _secrets_of(info))
        raise ConfigError(_key_of(source), f"{source} is not a usable OAuth token: {reason}",
                          fix="run 'formsync auth login' again") from None
    # from_authorized_user_info always sets Google's token URI; put the real one back.
    return cast(Credentials, credentials.with_token_uri(_token_uri(cfg, info)))


def _external_account(info: dict[str, Any], scopes: Sequence[str], source: str
                      ) -> Credentials:
    """Workload Identity Federation. Built by type: google.auth's generic loader calls the
    network (to find the project) and accepts any credential type."""
    from google.auth import aws, identity_pool, pluggable

    source_info = info.get("credential_source") or {}
    if "executable" in source_info:
        factory: Any = pluggable.Credentials
    elif str(source_info.get("environment_id", "")).startswith("aws"):
        factory = aws.Credentials
    else:
        factory = identity_pool.Credentials
    try:
        credentials = factory.from_info(info, scopes=list(scopes))
    except (ValueError, TypeError, KeyError, google.auth.exceptions.GoogleAuthError) as error:
        raise ConfigError(_key_of(source), f"{source} is not usable: "
                          f"{redact(str(error), _secrets_of(info))}",
                          fix="regenerate the credential configuration with gcloud") from None
    return cast(Credentials, credentials)


def _application_default(cfg: Google, scopes: Sequence[str]) -> Credentials:
    try:
        credentials, _ = google.auth.default(scopes=list(scopes))
    except google.auth.exceptions.GoogleAuthError as error:
        raise ConfigError("GOOGLE_APPLICATION_CREDENTIALS",
                          f"Application Default Credentials are not usable: "
                          f"{redact(str(error))}",
                          fix="point GOOGLE_APPLICATION_CREDENTIALS at a valid credential "
                              "file, or unset it and set google.credentials_file") from None
    if isinstance(credentials, service_account.Credentials):
        if cfg.token_uri != GOOGLE_TOKEN_URI:
            credentials = credentials.with_token_uri(cfg.token_uri)
        if cfg.subject:
            credentials = credentials.with_subject(cfg.subject)
    elif cfg.subject:
        raise ConfigError("google.subject", "is set, but the Application Default Credentials "
                          "are not a service-account key", fix="remove google.subject")
    return credentials


# ---------------------------------------------------------------------------------------------
# Refresh failures


def explain_refresh_error(error: google.auth.exceptions.RefreshError,
                          credentials: Credentials) -> BackendError:
    """A refused token request, said in words a person can act on."""
    reason = redact(str(error.args[0]) if error.args else str(error))
    account = _account_of(credentials)
    who = f"Google refused the credentials of {account}" if account else \
        "Google refused the credentials"
    if "Invalid JWT Signature" in reason or "account not found" in reason:
        fix = ("the key was deleted, disabled or rotated: create a new JSON key for the "
               "service account (Google Cloud console → IAM → Service accounts → Keys) and "
               "update google.credentials_file")
    elif "short-lived token" in reason or "iat and exp" in reason:
        fix = "this computer's clock is off: synchronise it (NTP) and run again"
    elif "unauthorized_client" in reason:
        fix = ("authorize the service account's client id for these scopes in the Workspace "
               "admin console (domain-wide delegation), or remove google.subject")
    elif "expired or revoked" in reason or "invalid_client" in reason:
        fix = "run 'formsync auth login' again to renew the saved token"
    else:
        fix = "check the credentials in google.credentials_file / google.oauth_token_file"
    return BackendError(f"{who}: {reason}", fix=fix)


def _account_of(credentials: Credentials) -> str:
    email = getattr(credentials, "service_account_email", None)
    subject = getattr(credentials, "_subject", None)
    if isinstance(email, str) and email:
        return f"{email} acting as {subject}" if subject else email
    return ""


# ---------------------------------------------------------------------------------------------
# `formsync auth login`

FlowRunner = Callable[[Any], Credentials]


def _run_local_server(flow: Any) -> Credentials:
    credentials: Credentials = flow.run_local_server(port=0, open_browser=True)
    return credentials


def login(client_secrets_path: Path, token_path: Path, scopes: Sequence[str], *,
          run_flow: FlowRunner = _run_local_server) -> Path:
    """Run the installed-app OAuth flow and save the authorized-user token (mode 0600)."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(client_secrets_path),
                                                         scopes=list(scopes))
    except FileNotFoundError:
        raise ConfigError("", f"OAuth client file {client_secrets_path} does not exist",
                          fix="download the OAuth client JSON (type 'Desktop app') from the "
                              "Google Cloud console → APIs & Services → Credentials") from None
    except ValueError as error:
        raise ConfigError("", f"{client_secrets_path} is not an OAuth client file: "
                          f"{redact(str(error))}",
                          fix="download the OAuth client JSON of a 'Desktop app' client") from None
    credentials = run_flow(flow)
    to_json = getattr(credentials, "to_json", None)
    if to_json is None:
        raise BackendError("the OAuth flow did not return user credentials",
                           fix="run 'formsync auth login' again")
    write_atomically(token_path, str(to_json()), mode=0o600)  # a token: for this user only
    return token_path
