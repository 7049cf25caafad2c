"""The Form's own "Download responses (.csv)" imported as it is, through the local backend."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.helpers import SPANISH_FORM

from formsync.config import load_config
from formsync.local.sheets import LocalSheets
from formsync.model import MEMBER_HEADER, MEMBERS, RESPONSES
from formsync.ports import Places
from formsync.sync import Report, run_sync

NOW = dt.datetime(2020, 11, 10, 15, 0, tzinfo=dt.UTC)
NBSP, NARROW_NBSP = "\u00a0", "\u202f"


def download(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A CSV as Google Forms writes its download: every field quoted."""
    return "".join(",".join(f'"{cell}"' for cell in line) + "\n" for line in [header, *rows])


# The timestamp is year first, in the form owner's locale, with the owner's GMT offset (here an
# owner in Bogotá, always GMT-5, for a group in Mexico City, which left summer time on 25
# October 2020).
SPANISH_DOWNLOAD = download(SPANISH_FORM, [
    ("2020/10/05 5:03:12 p. m. GMT-5", "ana@example.org", "Ana García", "Sí", "Español"),
    (f"2020/10/05 11:41:07{NBSP}a.{NBSP}m. GMT-5", "luis@example.org", "Luis Hernández", "No",
     "Español"),
    ("2020/11/02 12:15:00 a. m. GMT-5", "maria@example.org", "María López", "Tal vez",
     "English"),
    (f"2020/11/03 9:30:45{NARROW_NBSP}p.{NBSP}m. GMT-5", "jose@example.org", "José Martínez",
     "No", "Español")])
ENGLISH_DOWNLOAD = download(
    ("Timestamp", "Email Address", "Name", "Would you like to guide a session?",
     "Preferred language"), [
        ("2020/10/05 5:03:12 PM GMT-5", "ana@example.org", "Ana", "Yes", "English"),
        (f"2020/10/05 11:41:07{NARROW_NBSP}AM GMT-5", "luis@example.org", "Luis", "No",
         "Spanish"),
        ("2020/11/02 12:15:00 AM GMT-5", "maria@example.org", "Maria", "Maybe", "English"),
        (f"2020/11/03 9:30:45{NBSP}PM GMT-5", "jose@example.org", "Jose", "No", "English")])
EXPECTED_REGISTERED = {  # the group's local time: GMT-5 is CDT in October, CST-1h after
    "ana@example.org": "2020-10-05T17:03:12-05:00",
    "luis@example.org": "2020-10-05T11:41:07-05:00",
    "maria@example.org": "2020-11-01T23:15:00-06:00",
    "jose@example.org": "2020-11-03T20:30:45-06:00",
}


def _workspace(folder: Path, responses: str) -> Path:
    (folder / "formsync.toml").write_text(
        '[group]\ntimezone = "America/Mexico_City"\n[readme]\nenabled = false\n'
        '[calendar]\nenabled = false\n[reminders]\nenabled = false\n', encoding="utf-8")
    (folder / "responses.csv").write_text(responses, encoding="utf-8")
    return folder


def _sync(folder: Path) -> Report:
    return run_sync(load_config(folder / "formsync.toml"), Places(LocalSheets(folder)), NOW,
                    steps=["members"])


def _registered(folder: Path) -> dict[str, str]:
    members = LocalSheets(folder).read(MEMBERS)
    assert members is not None and members.header == MEMBER_HEADER
    return {row[0]: row[2] for row in members.rows}


def test_a_spanish_forms_download_imports_every_member_at_the_right_instant(
        tmp_path: Path) -> None:
    report = _sync(_workspace(tmp_path, SPANISH_DOWNLOAD))
    assert report.problems == [] and report.failures == []
    registered = _registered(tmp_path)
    assert registered == EXPECTED_REGISTERED
    maria = dt.datetime.fromisoformat(registered["maria@example.org"])
    assert maria.astimezone(dt.UTC) == dt.datetime(2020, 11, 2, 5, 15, tzinfo=dt.UTC)


def test_an_english_forms_download_imports_every_member_at_the_right_instant(
        tmp_path: Path) -> None:
    report = _sync(_workspace(tmp_path, ENGLISH_DOWNLOAD))
    assert report.problems == [] and report.failures == []
    assert _registered(tmp_path) == EXPECTED_REGISTERED


def test_a_second_sync_of_a_forms_download_changes_nothing(tmp_path: Path) -> None:
    folder = _workspace(tmp_path, SPANISH_DOWNLOAD)
    _sync(folder)
    assert _sync(folder).plan.is_empty()


def test_a_column_of_junk_is_one_problem_naming_the_column_and_the_formats(
        tmp_path: Path) -> None:
    junk = download(SPANISH_FORM[:3], [(f"el {day} de octubre", f"p{day}@example.org", f"P{day}")
                                       for day in range(1, 8)])
    report = _sync(_workspace(tmp_path, junk))
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert (problem.sheet, problem.row, problem.column) == (RESPONSES, None, "Marca temporal")
    assert problem.severity == "error"
    assert "column A" in problem.message and "'el 1 de octubre'" in problem.message
    assert "and 4 more" in problem.message
    assert "2020/10/05 5:03:12 p. m. GMT-5" in problem.fix
    assert "Download responses (.csv)" in problem.fix
    assert _registered(tmp_path) == {}
