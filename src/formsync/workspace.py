"""Setting up a workspace: `formsync init` and `formsync import-readme`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from formsync.actions import SheetEdit
from formsync.config import CONFIG_NAME, Config
from formsync.doctor import Check
from formsync.errors import ConfigError, InputError
from formsync.local.files import write_if_changed
from formsync.local.sheets import LocalSheets, render_csv
from formsync.model import MEMBER_HEADER, MEMBERS, SESSION_HEADER, SESSIONS, SUBMISSIONS, Table


def example_config() -> str:
    return resources.files("formsync").joinpath("data/formsync.example.toml").read_text(
        encoding="utf-8")


def init_workspace(directory: Path, *, backend: str = "local") -> list[str]:
    config_path = directory / CONFIG_NAME
    if config_path.exists():
        if backend == "google":
            return _init_google_worksheets(config_path)
        raise ConfigError("", f"{config_path} already exists",
                          fix="edit it, or remove it to start again")
    text = example_config()
    if backend == "google":
        text = text.replace('kind = "local"', 'kind = "google"').replace("# [google]", "[google]")
    write_if_changed(config_path, text)
    lines = [f"wrote {config_path}"]
    if backend == "local":
        sheets = LocalSheets(directory)
        for name, header in ((MEMBERS, MEMBER_HEADER), (SESSIONS, SESSION_HEADER)):
            path = sheets.path(name)
            if not path.exists():
                write_if_changed(path, render_csv(Table(name, header)))
                lines.append(f"wrote {path} (header only)")
        lines.append(f"next: put the form's responses in {sheets.path('responses')} "
                     "(Forms > Responses > Download responses (.csv)), then run 'formsync sync'")
        lines.append(f"homework (optional): the submissions form's responses go in "
                     f"{sheets.path(SUBMISSIONS)} (email, session, link, comment)")
    else:
        lines.append("next: fill in [google] in formsync.toml (docs/google-setup.md), then run "
                     "'formsync init --backend google' again to create the worksheets")
        lines.append("homework (optional): set [homework] responses_spreadsheet and worksheet "
                     "to the submissions form's sheet")
    return lines


def _init_google_worksheets(config_path: Path) -> list[str]:
    """Create the master sheet's missing worksheets with their headers; touch nothing else."""
    from formsync.config import load_config
    from formsync.google.sheets import GoogleSheets

    config = load_config(config_path)
    if config.backend.kind != "google":
        raise ConfigError("backend.kind", f"is {config.backend.kind!r} in {config_path}",
                          fix='set [backend] kind = "google" to create Google worksheets')
    lines = GoogleSheets.from_config(config).init_worksheets()
    return lines or ["the master spreadsheet already has Sessions, Members and Reminders"]


def local_checks(config: Config) -> list[Check]:
    """`formsync doctor` for the local backend: the files a sync reads."""
    sheets = LocalSheets(config.workspace)
    responses, sessions = sheets.path("responses"), sheets.path(SESSIONS)
    submissions = sheets.path(SUBMISSIONS)
    readme = config.path(config.readme.path)
    return [
        Check("workspace", config.workspace.is_dir(), f"folder {config.workspace}",
              "create the folder, or set backend.folder in formsync.toml"),
        Check("responses", responses.exists(), f"{responses} (the form's responses as CSV)",
              f"download them (Forms > Responses > Download responses (.csv)) to {responses}"),
        Check("sessions", sessions.exists(), f"{sessions}",
              f"create it with the header {','.join(SESSION_HEADER)}, or fill it from a "
              "README's table with 'formsync import-readme'"),
        Check("homework", True, f"{submissions} (the homework Form's responses)"
              if submissions.exists() else f"no {submissions}: no homework matrix yet"),
        Check("readme", readme.exists() or not config.readme.enabled,
              f"{readme}" if config.readme.enabled else "not updated (readme.enabled = false)",
              "create it, or set readme.path (or readme.enabled = false)"),
    ]


def import_readme_into_sessions(config: Config, sheets: Any, path: Path | None) -> list[str]:
    """Fill an empty Sessions sheet from the calendar table of a README."""
    from formsync.readme import import_table

    source = path or config.path(config.readme.path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{source} does not exist", fix="give the README's path") from None
    table = import_table(text)
    current = sheets.read_many([SESSIONS])[SESSIONS]
    if current is not None and current.rows:
        raise InputError(f"{SESSIONS} already has {len(current.rows)} rows", sheet=SESSIONS,
                         fix="import-readme only fills an empty Sessions sheet; clear it first")
    sheets.apply([SheetEdit(SESSIONS, table.header, add_header=True, appends=table.rows)])
    return [f"imported {len(table.rows)} sessions from {source} into {SESSIONS}"]
