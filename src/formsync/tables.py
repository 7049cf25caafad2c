"""Applying a SheetEdit to a table in memory (the local backend writes the result; the planner
uses it to see the sheet as it will be)."""

from __future__ import annotations

from formsync.actions import SheetEdit
from formsync.model import Table


def apply_edit(table: Table | None, edit: SheetEdit) -> Table:
    header = edit.header
    width = len(header)
    rows = [list(row) + [""] * (width - len(row)) for row in (table.rows if table else ())]
    position = {name: i for i, name in enumerate(header)}
    for write in edit.writes:
        index = write.row - 2
        while index >= len(rows):
            rows.append([""] * width)
        rows[index][position[write.column]] = write.value
    rows += [list(row) + [""] * (width - len(row)) for row in edit.appends]
    return Table(edit.sheet, header, tuple(tuple(row) for row in rows))
