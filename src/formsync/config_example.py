"""`formsync.example.toml`, generated from the config model: every key, its default and its meaning.

The keys and defaults come from formsync.config; only the one-line meanings live here. A test
renders this and compares it with the shipped file (as sqlite-utils checks its generated docs),
and fails when a key has no meaning written, so the example can never drift from the model.

    .venv/bin/python -m formsync.config_example > src/formsync/data/formsync.example.toml
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from formsync.config import Config

HEADER = """\
# formsync configuration. Every key is optional; the values shown are the defaults.
# Paths are relative to this file. Generated from the config model (formsync/config_example.py).
"""

# Sections shown commented out: they only matter with another choice made elsewhere.
COMMENTED = {"google": 'only with backend.kind = "google" (README: "Google set-up")',
             "reminders.smtp": 'only with reminders.transport = "smtp"'}

MEANINGS: dict[str, str] = {
    "group.name": "in event titles and emails; renaming updates the events in place",
    "group.timezone": "an IANA zone name: Europe/Madrid, America/Bogota, ...",
    "group.language": '"es" or "en": README headers and emails',
    "group.cadence_days": "days between sessions (14: every two weeks)",
    "group.session_minutes": "length of a session with no End time",
    "group.default_start": "start time of proposed dates when none is known",
    "group.organizers": 'e.g. ["ana@example.org"]: "no guide yet" alerts and problem digests',
    "group.skip_dates": "e.g. [2020-12-29]: proposed dates never land on these",
    "backend.kind": '"local": CSV files in `folder`; "google": Google Sheets',
    "backend.folder": "the local backend's folder of CSV worksheets",
    "google.responses_spreadsheet": "id or URL of the spreadsheet the Google Form writes to",
    "google.responses_worksheet": 'blank: "Form Responses 1" / "Respuestas de formulario 1"',
    "google.master_spreadsheet": "id or URL of the spreadsheet with Sessions and Members",
    "google.credentials_file": "a service-account key file (or leave blank, see below)",
    "google.credentials_env": "an environment variable holding the same JSON",
    "google.oauth_token_file": "a token made by 'formsync auth login' (plain Gmail groups)",
    "google.subject": "Workspace user to act as (domain-wide delegation); Gmail needs it",
    "google.token_uri": "Google's token endpoint (tests point it at the emulator)",
    "google.sheets_base_url": "Sheets API address (tests point it at the emulator)",
    "google.calendar_base_url": "Calendar API address (tests point it at the emulator)",
    "google.gmail_base_url": "Gmail API address (tests point it at the emulator)",
    "google.timeout_seconds": "how long one request may take",
    "google.retry_deadline_seconds": "one retry budget for the whole run (429s, 5xx)",
    "readme.enabled": "keep the calendar table in the README",
    "readme.path": "the README whose table formsync keeps (between its markers)",
    "form.date_order": '"auto", "MDY" (10/20/2020) or "DMY" (20/10/2020)',
    "form.email_column": "the email question's header, if formsync cannot find it",
    "form.name_column": "the name question's header, likewise",
    "form.guide_column": "the 'would you guide a session?' question's header, likewise",
    "form.language_column": "the language question's header, likewise",
    "columns": 'another header for a column formsync looks for, e.g. Guide = "Persona guía"',
    "calendar.enabled": "keep one event per session",
    "calendar.calendar_id": "Google Calendar id (the Google backend), e.g. ...@group.calendar"
                            ".google.com",
    "calendar.ics_path": "the .ics feed written beside the README",
    "calendar.publish_tentative": "also publish sessions that only have a proposed date",
    "calendar.meeting_link": "the video call link, in every event and email",
    "calendar.location": "a place, if the group meets in person",
    "calendar.invite_members": "add active members as guests (needs a subject or OAuth)",
    "calendar.send_updates": '"all", "externalOnly" or "none": who Google emails on changes',
    "reminders.enabled": "send reminder emails",
    "reminders.transport": '"outbox" (.eml files), "smtp" or "gmail"',
    "reminders.from_address": 'e.g. "Grupo D2L <grupo@example.org>"',
    "reminders.send_time": "reminders fall due at this local time on their day",
    "reminders.homework_days_before": "homework reminder, days before the session it is due",
    "reminders.reading_days_before": "reading reminder, days before the session",
    "reminders.guide_days_before": "guide reminder, days before their session",
    "reminders.no_guide_days_before": "alert organizers when a session has no guide",
    "reminders.welcome_since": "welcome members registered after this (blank: from set-up)",
    "reminders.daily_cap": "at most this many emails a day; the rest go the next day",
    "reminders.outbox_folder": "where the outbox transport writes .eml files",
    "reminders.templates_folder": "your own Jinja2 templates (blank: the built-in ones)",
    "reminders.unsubscribe_address": "mailto for List-Unsubscribe (blank: from_address)",
    "reminders.unsubscribe_url": "https one-click unsubscribe (RFC 8058); {email}: the address",
    "reminders.calendar_link": 'welcome emails link it; blank: calendar.ics on GitHub; "none"',
    "homework.enabled": "read the homework Form and keep the Homework sheet",
    "homework.responses_spreadsheet": "id or URL of the homework Form's sheet (local: "
                                      "submissions.csv)",
    "homework.worksheet": 'blank: "Form Responses 1" / "Respuestas de formulario 1"',
    "homework.guide_days_before": "days before a session its guide gets the submissions to review",
    "homework.readme_counts": "README: submissions per session between their markers, no names",
    "announce.enabled": "post session announcements in the chat channels below",
    "announce.urls": 'apprise URLs without secrets, e.g. ["folder://announcements"] (files)',
    "announce.urls_env": 'names of variables holding secret URLs, e.g. ["DISCORD_WEBHOOK"]',
    "announce.send_time": "announcements fall due at this local time on their day",
    "announce.announce_days_before": "the next session is announced this many days before",
    "announce.no_guide_days_before": "call for a volunteer guide when a session has none",
    "announce.readme_url": "where a readings list cut for length continues (blank: README)",
    "reminders.smtp.host": "the SMTP submission server",
    "reminders.smtp.port": "587 for STARTTLS, 465 for SSL",
    "reminders.smtp.security": '"starttls", "ssl", or "none" (loopback only)',
    "reminders.smtp.username": "the SMTP login",
    "reminders.smtp.password_env": "the environment variable holding the SMTP password",
    "reminders.smtp.timeout_seconds": "how long the server may take to answer",
}


def keys(model: type[BaseModel] = Config, prefix: str = "") -> list[str]:
    """Every config key, dotted, in model order (sections by their own keys)."""
    found: list[str] = []
    for name, field in model.model_fields.items():
        if name == "root":
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += keys(annotation, f"{prefix}{name}.")
        else:
            found.append(f"{prefix}{name}")
    return found


def render() -> str:
    parts = [HEADER]
    defaults = Config()
    for name in Config.model_fields:
        if name == "root":
            continue
        value = getattr(defaults, name)
        parts.append(_section(name, value) if isinstance(value, BaseModel) else
                     _mapping_section(name))
    return "\n".join(parts)


def _section(name: str, section: BaseModel) -> str:
    off = "# " if name in COMMENTED else ""
    head = f"{off}[{name}]"
    lines = [f"{head:<34} # {COMMENTED[name]}" if off else head]
    nested = []
    for key in type(section).model_fields:
        value = getattr(section, key)
        if isinstance(value, BaseModel):
            nested.append(_section(f"{name}.{key}", value))
        else:
            lines.append(_line(key, value, MEANINGS[f"{name}.{key}"], off))
    return "\n".join(["\n".join(lines) + "\n", *nested])


def _mapping_section(name: str) -> str:
    return f"[{name}]\n# {MEANINGS[name]}\n"


def _line(key: str, value: Any, meaning: str, off: str) -> str:
    """`key = default  # meaning`; commented out in an optional section or with no default."""
    if value is None:
        off = "# "
    assignment = f"{off}{key} = {_toml(value)}" if value is not None else f"{off}{key} ="
    return f"{assignment:<34} # {meaning}"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, Path):
        return json.dumps(value.as_posix())
    return json.dumps(str(value), ensure_ascii=False)


if __name__ == "__main__":
    print(render(), end="")
