"""`formsync demo`: a sample workspace built from bundled data (a real group's calendar)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from formsync.config import CONFIG_NAME, Config, load_config
from formsync.errors import ConfigError
from formsync.local.files import write_if_changed
from formsync.local.sheets import LocalSheets, render_csv
from formsync.model import SESSIONS, SUBMISSIONS

if TYPE_CHECKING:
    from formsync.emulator import Emulator

SAMPLE_GROUP = """\
[group]
name = "Deep Learning Study Group"
timezone = "America/Mexico_City"
language = "es"
cadence_days = 14
session_minutes = 150
organizers = ["{organizer}"]
skip_dates = [2020-12-29]
"""

DEMO_CONFIG = """\
# A sample group: a Spanish-speaking "Dive into Deep Learning" study group.
""" + SAMPLE_GROUP.format(organizer="organizadores@example.org") + """
[backend]
kind = "local"
folder = "."

[readme]
path = "README.md"

[calendar]
meeting_link = "https://meet.example.org/d2l"

[reminders]
transport = "outbox"
from_address = "Deep Learning Study Group <organizadores@example.org>"

[announce]
# Chat posts land as files in this folder; for a real chat, name an environment variable
# holding its apprise URL (discord://…, slack://…, tgram://…) in urls_env.
urls = ["folder://announcements"]
"""


def _data(name: str) -> str:
    return resources.files("formsync").joinpath(f"data/{name}").read_text(encoding="utf-8")


def build_demo(directory: Path) -> Config:
    from formsync.readme import import_table

    config_path = directory / CONFIG_NAME
    if config_path.exists() and config_path.read_text(encoding="utf-8") != DEMO_CONFIG:
        raise ConfigError("", f"{config_path} exists and is not a demo config",
                          fix="choose an empty folder for the demo")
    directory.mkdir(parents=True, exist_ok=True)
    write_if_changed(config_path, DEMO_CONFIG)
    readme = _data("README.md")
    sheets = LocalSheets(directory)
    if not sheets.path(SESSIONS).exists():
        write_if_changed(sheets.path(SESSIONS), render_csv(import_table(readme)))
    if not (directory / "README.md").exists():
        write_if_changed(directory / "README.md", readme)
    if not sheets.path("responses").exists():
        write_if_changed(sheets.path("responses"), _data("responses.csv"))
    if not sheets.path(SUBMISSIONS).exists():
        write_if_changed(sheets.path(SUBMISSIONS), _data("submissions.csv"))
    return load_config(config_path)


def google_demo_config(base: str, port: int) -> str:
    return f"""\
# The sample group on the Google backend, served by formsync's loopback emulator.
# Restart it with: formsync emulator --port {port} --state emulator.json
{SAMPLE_GROUP.format(organizer="organizer@example.org")}
[backend]
kind = "google"

[google]
responses_spreadsheet = "demo-form-responses"
# Naming the form's worksheet saves a metadata call on every run.
responses_worksheet = "Respuestas de formulario 1"
master_spreadsheet = "demo-master"
oauth_token_file = "emulator-token.json"
token_uri = "{base}/token"
sheets_base_url = "{base}"
calendar_base_url = "{base}"
gmail_base_url = "{base}"

[calendar]
meeting_link = "https://meet.example.org/d2l"

[homework]
responses_spreadsheet = "demo-homework"
worksheet = "Respuestas de formulario 1"

[reminders]
transport = "gmail"
from_address = "Deep Learning Study Group <organizer@example.org>"
"""


def seed_google_demo(directory: Path, emulator: Emulator) -> Config:
    """The sample group in the emulator: the two forms' spreadsheets (registrations, homework),
    a master spreadsheet with Sessions, and an organizer's OAuth token (Sheets, Calendar,
    Gmail) in `directory`."""
    import csv
    import io
    import json

    from formsync.emulator.testing import make_authorized_user
    from formsync.google.auth import GMAIL_COMPOSE, SCOPE_CALENDAR, SCOPE_SHEETS
    from formsync.readme import import_table

    directory.mkdir(parents=True, exist_ok=True)
    readme = _data("README.md")
    sessions = import_table(readme)
    responses = list(csv.reader(io.StringIO(_data("responses.csv"), newline="")))
    emulator.sheets.create_spreadsheet("demo-form-responses",
                                       {"Respuestas de formulario 1": responses})
    submissions = list(csv.reader(io.StringIO(_data("submissions.csv"), newline="")))
    emulator.sheets.create_spreadsheet("demo-homework",
                                       {"Respuestas de formulario 1": submissions})
    emulator.sheets.create_spreadsheet(
        "demo-master", {SESSIONS: [list(sessions.header), *map(list, sessions.rows)]})
    token = make_authorized_user(emulator, user_email="organizer@example.org",
                                 scopes=(SCOPE_SHEETS, SCOPE_CALENDAR, GMAIL_COMPOSE))
    write_if_changed(directory / "emulator-token.json", json.dumps(token, indent=2))
    write_if_changed(directory / "README.md", readme)
    write_if_changed(directory / CONFIG_NAME,
                     google_demo_config(emulator.base_url, emulator.port))
    return load_config(directory / CONFIG_NAME)
