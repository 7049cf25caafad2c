"""What every sheets backend promises (local CSV files and Google Sheets alike)."""

from __future__ import annotations

import datetime as dt

from tests.contract.conftest import Backend

from formsync.actions import CellWrite, SheetEdit
from formsync.members import plan_members
from formsync.model import MEMBER_HEADER, MEMBERS, REMINDERS, SESSION_HEADER, SESSIONS, Table
from formsync.tables import apply_edit

TRICKY_CELLS = (
    "José Ñúñez — ça va?", 'She said "hi", then \'bye\'', "=IMPORTXML(\"http://x\",\"//a\")",
    "+34 600 000 000", "@handle", "-dash first", "line one\nline two\r\nline three",
    "x" * 50_000, "🙂👩🏽‍💻🇲🇽", "مرحبا بالعالم", "שלום", "'apostrophe first", "007", "3.0", "TRUE",
    "  spaced  ", "1/2/2020",
)


def _rows(width: int) -> tuple[tuple[str, ...], ...]:
    cells = list(TRICKY_CELLS)
    return tuple(tuple(cells[(start + i) % len(cells)] for i in range(width))
                 for start in range(len(cells)))


def test_a_missing_sheet_reads_as_none(backend: Backend) -> None:
    assert backend.sheets.read_many([REMINDERS, "Nowhere"]) == {REMINDERS: None, "Nowhere": None}


def test_header_and_appends_read_back_exactly(backend: Backend) -> None:
    header = ("Name", "Notes", "Email", "Extra")
    rows = (*_rows(len(header)), ("only first", "", "", ""), ("", "", "", "only last"))
    edit = SheetEdit(SESSIONS, header, add_header=True, appends=rows)
    backend.sheets.apply([edit])
    assert backend.sheets.read_many([SESSIONS])[SESSIONS] == Table(SESSIONS, header, rows)


def test_member_dates_and_session_dates_read_back_as_written(backend: Backend) -> None:
    members = (("ana@example.org", "Ana", "2020-10-01T09:00:00-05:00",
                "2020-10-02T17:30:05-05:00", "active", "yes", "es", ""),
               ("bo@example.org", "Bo", "2021-03-14T23:59:59-06:00", "not a date", "", "", "", ""))
    sessions = (("1", "Intro", "Ana", "", "", "2020-10-20", "17:00", "19:00", "", "", "",
                 "2020-11-03 17:00"),
                ("2", "Next", "", "", "", "TBA", "", "", "", "", "", "2020-11-17 17:30"))
    backend.sheets.apply([SheetEdit(MEMBERS, MEMBER_HEADER, True, appends=members),
                          SheetEdit(SESSIONS, SESSION_HEADER, True, appends=sessions)])
    read = backend.sheets.read_many([MEMBERS, SESSIONS])
    assert read[MEMBERS] == Table(MEMBERS, MEMBER_HEADER, members)
    assert read[SESSIONS] == Table(SESSIONS, SESSION_HEADER, sessions)


def test_writes_change_only_the_cells_they_name(backend: Backend) -> None:
    header = ("Email", "Name", "Notes")
    rows = tuple((f"p{i}@example.org", f"Person {i}", f"note {i}") for i in range(5))
    backend.sheets.apply([SheetEdit(MEMBERS, header, True, appends=rows)])
    before = backend.sheets.read_many([MEMBERS])[MEMBERS]
    edit = SheetEdit(MEMBERS, header, writes=(CellWrite(3, "Name", "=1+1"),
                                              CellWrite(5, "Notes", ""),
                                              CellWrite(5, "Name", "Renamed")))
    backend.sheets.apply([edit])
    after = backend.sheets.read_many([MEMBERS])[MEMBERS]
    assert after == apply_edit(before, edit)
    assert after is not None and before is not None
    changed = {(r, c) for r, row in enumerate(after.rows) for c, cell in enumerate(row)
               if before.rows[r][c] != cell}
    assert changed == {(1, 1), (3, 2), (3, 1)}


def test_a_header_change_adds_a_column_and_keeps_the_rows(backend: Backend) -> None:
    header = ("Session", "Chapter")
    backend.sheets.apply([SheetEdit(SESSIONS, header, True, appends=(("1", "A"), ("2", "B")))])
    wider = (*header, "Proposed date")
    backend.sheets.apply([SheetEdit(SESSIONS, wider, True,
                                    writes=(CellWrite(3, "Proposed date", "2020-11-03 17:00"),))])
    assert backend.sheets.read_many([SESSIONS])[SESSIONS] == Table(
        SESSIONS, wider, (("1", "A", ""), ("2", "B", "2020-11-03 17:00")))


def test_an_empty_edit_writes_nothing(backend: Backend) -> None:
    before = backend.writes()
    backend.sheets.apply([SheetEdit(MEMBERS, MEMBER_HEADER), SheetEdit(SESSIONS, ())])
    assert backend.writes() == before
    assert backend.sheets.read_many([MEMBERS, SESSIONS]) == {MEMBERS: None, SESSIONS: None}


def test_applying_the_same_writes_twice_changes_nothing_more(backend: Backend) -> None:
    header = ("Email", "Name")
    backend.sheets.apply([SheetEdit(MEMBERS, header, True, appends=(("a@x.org", "A"),))])
    edit = SheetEdit(MEMBERS, (*header, "Language"), True,
                     writes=(CellWrite(2, "Language", "es"), CellWrite(2, "Name", "Ana")))
    backend.sheets.apply([edit])
    once = backend.sheets.read_many([MEMBERS])
    backend.sheets.apply([edit])
    assert backend.sheets.read_many([MEMBERS]) == once


def test_a_second_sync_of_the_same_responses_plans_nothing(backend: Backend) -> None:
    responses = Table("responses", ("Timestamp", "Email Address", "Name"), (
        ("10/1/2020 9:00:00", "Ana@Example.org", "=IMPORTXML(\"http://x\",\"//a\")"),
        ("10/2/2020 17:30:05", "bo@example.org", "Bo 🙂"),
        ("10/3/2020 8:00:00", "ana@example.org", "Ana García")))
    tz = backend.config.group.tz
    current = backend.sheets.read_many([MEMBERS])[MEMBERS]
    edit, _ = plan_members(responses, current, backend.config.form, tz)
    backend.sheets.apply([edit])
    written = backend.sheets.read_many([MEMBERS])[MEMBERS]
    assert written == apply_edit(current, edit)
    again, _ = plan_members(responses, written, backend.config.form, tz)
    assert again.is_empty()
    assert written is not None and written.rows[0][2] == dt.datetime(
        2020, 10, 1, 9, tzinfo=tz).isoformat()
