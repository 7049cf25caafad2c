"""CSV worksheets: `responses.csv` (the Form's download), `submissions.csv` (the homework
Form's), `Members.csv`, `Sessions.csv`, ...

A cell that a spreadsheet program would run as a formula (it starts with =, +, -, @) is written
with a leading apostrophe, the convention spreadsheets use for 'this is text', and read back
without it. responses.csv and submissions.csv are only ever read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import ClassVar

from formsync.actions import SheetEdit
from formsync.errors import InputError
from formsync.local.files import write_if_changed
from formsync.model import (
    HOMEWORK,
    MEMBERS,
    PROBLEMS,
    REMINDERS,
    RESPONSES,
    SESSIONS,
    SUBMISSIONS,
    Table,
)
from formsync.tables import apply_edit

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def neutralise(cell: str) -> str:
    if cell.startswith("'") or (cell.startswith(_FORMULA_START) and not _is_number(cell)):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    if cell.startswith("'") and len(cell) > 1 and (cell[1] == "'" or cell[1:].startswith(
            _FORMULA_START)):
        return cell[1:]
    return cell


def parse_csv(text: str, name: str, *, neutralised: bool) -> Table:
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    if not rows:
        return Table(name, ())
    fix = (lambda c: restore(c)) if neutralised else (lambda c: c)
    header = tuple(h.strip() for h in rows[0])
    body = tuple(tuple(fix(c) for c in row) for row in rows[1:])
    return Table(name, header, body)


def render_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)  # RFC 4180 CRLF rows: a lone CR in a cell is then quoted
    writer.writerow(table.header)
    writer.writerows([neutralise(c) for c in row] for row in table.rows)
    return out.getvalue()


class LocalSheets:
    """The master sheet's worksheets and the responses, as CSV files in one folder."""

    FILES: ClassVar[dict[str, str]] = {
        RESPONSES: "responses.csv", MEMBERS: "Members.csv", SESSIONS: "Sessions.csv",
        REMINDERS: "Reminders.csv", PROBLEMS: "Problems.csv", SUBMISSIONS: "submissions.csv",
        HOMEWORK: "Homework.csv"}
    FORMS: ClassVar[frozenset[str]] = frozenset({RESPONSES, SUBMISSIONS})  # Forms' downloads

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.writes = 0  # files actually rewritten (for tests and the report)

    def path(self, sheet: str) -> Path:
        return self.folder / self.FILES.get(sheet, f"{sheet}.csv")

    def read(self, sheet: str) -> Table | None:
        path = self.path(sheet)
        try:
            with path.open(encoding="utf-8", newline="") as handle:  # keep CR/LF inside cells
                text = handle.read()
        except FileNotFoundError:
            return None
        except UnicodeDecodeError as error:
            raise InputError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})",
                             sheet=sheet, fix="save the file as CSV UTF-8") from None
        return parse_csv(text, sheet, neutralised=sheet not in self.FORMS)

    def read_many(self, sheets: Iterable[str]) -> dict[str, Table | None]:
        return {sheet: self.read(sheet) for sheet in sheets}

    def apply(self, edits: Iterable[SheetEdit]) -> Mapping[str, int]:
        first_new_rows: dict[str, int] = {}
        for edit in edits:
            if edit.is_empty():
                continue
            table = apply_edit(self.read(edit.sheet), edit)
            if edit.appends:
                first_new_rows[edit.sheet] = Table.sheet_row(len(table.rows) - len(edit.appends))
            if write_if_changed(self.path(edit.sheet), render_csv(table)):
                self.writes += 1
        return first_new_rows
