"""`formsync demo`: a sample workspace built from bundled data (a real group's calendar)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from formsync.config import CONFIG_NAME, Config, load_config
from formsync.errors import ConfigError
from formsync.local.files import write_if_changed
from formsync.local.sheets import LocalSheets, render_csv
from formsync.model import SESSIONS

DEMO_CONFIG = """\
# A sample group: a Spanish-speaking "Dive into Deep Learning" study group.
[group]
name = "Deep Learning Study Group"
timezone = "America/Mexico_City"
language = "es"
cadence_days = 14
session_minutes = 150
organizers = ["organizadores@example.org"]
skip_dates = [2020-12-29]

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
    return load_config(config_path)
