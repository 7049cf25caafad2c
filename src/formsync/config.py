"""formsync.toml: loading and validation. Every mistake names its key, the bad value and the fix."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
import zoneinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from formsync.errors import ConfigError

CONFIG_NAME = "formsync.toml"
EMAIL_PLACEHOLDER = "{email}"  # in reminders.unsubscribe_url
# An https URL of RFC 3986 characters only: it goes into a header between <>, as it is.
_ONE_CLICK_URL = re.compile(
    r"https://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[\w\-.~:/?#\[\]@!$&'()*+,;=%]*)?", re.ASCII)
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Group(_Section):
    name: str = "Study group"
    timezone: str = "America/Mexico_City"
    language: Literal["es", "en"] = "es"
    cadence_days: int = Field(14, ge=1, le=366)
    session_minutes: int = Field(120, ge=1, le=24 * 60)
    default_start: dt.time = dt.time(17, 0)
    organizers: tuple[str, ...] = ()
    skip_dates: tuple[dt.date, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "unknown IANA time zone; use a name such as 'America/Mexico_City' or "
                "'Europe/Madrid'") from None
        return value

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Backend(_Section):
    kind: Literal["local", "google"] = "local"
    folder: Path = Path()


class Google(_Section):
    responses_spreadsheet: str = ""
    responses_worksheet: str = ""  # blank: "Form Responses 1" in any case, else the first
    master_spreadsheet: str = ""
    credentials_file: str = ""
    credentials_env: str = "FORMSYNC_GOOGLE_CREDENTIALS"
    oauth_token_file: str = ""
    subject: str = ""  # Workspace user to act as (domain-wide delegation)
    # Overridable so tests and `formsync demo --google` reach the loopback emulator.
    token_uri: str = GOOGLE_TOKEN_URI
    sheets_base_url: str = "https://sheets.googleapis.com"
    calendar_base_url: str = "https://www.googleapis.com"
    gmail_base_url: str = "https://gmail.googleapis.com"
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    retry_deadline_seconds: float = Field(120.0, gt=0, le=3600)


class Readme(_Section):
    enabled: bool = True
    path: Path = Path("README.md")


class Form(_Section):
    date_order: Literal["auto", "MDY", "DMY"] = "auto"
    email_column: str = ""
    name_column: str = ""
    guide_column: str = ""
    language_column: str = ""


class Calendar(_Section):
    enabled: bool = True
    calendar_id: str = "primary"
    ics_path: Path = Path("calendar.ics")
    publish_tentative: bool = False
    meeting_link: str = ""
    location: str = ""
    invite_members: bool = False
    send_updates: Literal["all", "externalOnly", "none"] = "none"


class Smtp(_Section):
    host: str = "smtp.gmail.com"
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password_env: str = "FORMSYNC_SMTP_PASSWORD"  # noqa: S105 (a variable name)
    timeout_seconds: float = Field(30.0, gt=0, le=600)


class Reminders(_Section):
    enabled: bool = True
    transport: Literal["outbox", "smtp", "gmail"] = "outbox"
    from_address: str = ""
    send_time: dt.time = dt.time(9, 0)
    homework_days_before: int = Field(2, ge=0, le=60)
    reading_days_before: int = Field(2, ge=0, le=60)
    guide_days_before: int = Field(7, ge=0, le=60)
    no_guide_days_before: int = Field(10, ge=0, le=60)
    welcome_since: dt.datetime | None = None
    daily_cap: int = Field(1500, ge=1, le=100_000)
    outbox_folder: Path = Path("outbox")
    templates_folder: Path | None = None
    unsubscribe_address: str = ""
    # An https page or endpoint to unsubscribe ("{email}" becomes the recipient's address):
    # sent as the one-click List-Unsubscribe (RFC 8058) beside the mailto, and in the footer.
    unsubscribe_url: str = ""
    # The calendar feed welcome emails link to; blank: in a GitHub Action, the raw URL of
    # calendar.ics in the repository, else the file is attached; "none": neither.
    calendar_link: str = ""
    smtp: Smtp = Smtp()

    @field_validator("unsubscribe_url")
    @classmethod
    def _one_click_url(cls, value: str) -> str:
        value = value.strip()
        bare = value.replace(EMAIL_PLACEHOLDER, "")
        if value and (len(value) > 500 or not _ONE_CLICK_URL.fullmatch(bare)):
            raise ValueError(
                "use an https:// URL of plain URL characters (no spaces, quotes or <>), "
                "at most 500 characters; {email} stands for the recipient's address")
        return value


class Homework(_Section):
    enabled: bool = True
    # The homework Form's spreadsheet (Google); blank: the master spreadsheet, if `worksheet`
    # is set, else no homework form. Locally the form's CSV is submissions.csv.
    responses_spreadsheet: str = ""
    worksheet: str = ""  # blank: "Form Responses 1" (any language), else the first
    guide_days_before: int = Field(1, ge=0, le=60)
    readme_counts: bool = False  # README: submissions per session, between their own markers

    def configured(self, backend: str) -> bool:
        """A homework form to read: always locally (submissions.csv may be absent)."""
        if not self.enabled:
            return False
        return backend == "local" or bool(self.responses_spreadsheet.strip()
                                           or self.worksheet.strip())


class Announce(_Section):
    """Session announcements in chat channels, through apprise URLs (formsync.announce)."""

    enabled: bool = True
    # apprise URLs without secrets (json://, form://, folder://announcements for local files).
    urls: tuple[str, ...] = ()
    # Names of environment variables, each holding one URL with its secret (a webhook token).
    urls_env: tuple[str, ...] = ()
    send_time: dt.time = dt.time(9, 0)
    announce_days_before: int = Field(2, ge=0, le=60)
    no_guide_days_before: int = Field(10, ge=0, le=60)
    readme_url: str = ""  # where a readings list cut for length continues

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            scheme, _, rest = url.strip().partition("://")
            if not (scheme.isascii() and scheme.isalpha() and rest) or any(
                    c.isspace() for c in url.strip()):
                raise ValueError("each URL needs a scheme, e.g. 'discord://…' or 'json://…'")
        return tuple(url.strip() for url in value)

    @field_validator("urls_env")
    @classmethod
    def _env_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not (name.isascii() and name.isidentifier()):
                raise ValueError("give environment variable names, e.g. 'DISCORD_WEBHOOK'")
        return value

    def configured(self) -> bool:
        return self.enabled and bool(self.urls or self.urls_env)


class Config(_Section):
    group: Group = Group()
    backend: Backend = Backend()
    google: Google = Google()
    readme: Readme = Readme()
    form: Form = Form()
    columns: dict[str, str] = {}
    calendar: Calendar = Calendar()
    reminders: Reminders = Reminders()
    announce: Announce = Announce()
    homework: Homework = Homework()
    # Folder of the config file; relative paths in the config are relative to it.
    root: Path = Path()

    def path(self, relative: Path) -> Path:
        return relative if relative.is_absolute() else self.root / relative

    @property
    def workspace(self) -> Path:
        return self.path(self.backend.folder)


def _key(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _known_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [name for name in model.model_fields if name != "root"]


def _explain(error: ValidationError) -> ConfigError:
    first = error.errors()[0]
    loc = tuple(first["loc"])
    key = _key(loc)
    if first["type"] == "extra_forbidden":
        known = _known_keys(Config, loc)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known keys here: {', '.join(known)}"
        return ConfigError(key, "unknown key", fix=f"remove it or rename it; {hint}")
    value = first.get("input")
    message = first["msg"].removeprefix("Value error, ")
    shown = repr(value) if not isinstance(value, dict) else "a table"
    return ConfigError(key, f"{shown} is not accepted: {message}",
                       fix=f"edit '{key}' in {CONFIG_NAME}")


def parse_config(data: dict[str, Any], root: Path) -> Config:
    try:
        return Config.model_validate({**data, "root": root})
    except ValidationError as error:
        raise _explain(error) from None


def find_config(explicit: Path | None, cwd: Path | None = None) -> Path | None:
    if explicit is not None:
        return explicit
    candidate = (cwd or Path.cwd()) / CONFIG_NAME
    return candidate if candidate.exists() else None


def load_config(explicit: Path | None = None, cwd: Path | None = None) -> Config:
    """Read formsync.toml (from --config or the current folder); defaults when there is none."""
    path = find_config(explicit, cwd)
    if path is None:
        raise ConfigError("", f"no {CONFIG_NAME} in {cwd or Path.cwd()}",
                          fix="run 'formsync init' here, or pass --config PATH")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("", f"config file {path} does not exist",
                          fix="check the --config path, or run 'formsync init'") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("", f"{path} is not valid TOML: {error}",
                          fix="fix the line it names (strings need quotes)") from None
    return parse_config(data, path.parent.resolve())
