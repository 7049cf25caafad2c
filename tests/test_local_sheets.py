from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from formsync.actions import CellWrite, SheetEdit
from formsync.local.files import write_if_changed
from formsync.local.sheets import LocalSheets, neutralise, parse_csv, render_csv, restore
from formsync.model import MEMBERS, Table


@given(st.text())
def test_neutralise_then_restore_gives_the_cell_back(cell: str) -> None:
    assert restore(neutralise(cell)) == cell


def test_formulas_are_written_as_text() -> None:
    for cell in ('=HYPERLINK("x")', "+cmd", "@SUM(A1)", "-2+3"):
        assert neutralise(cell).startswith("'")
    assert neutralise("-5") == "-5"
    assert neutralise("Ana") == "Ana"


@given(st.lists(st.lists(st.text(), min_size=3, max_size=3), max_size=5))
def test_csv_round_trip(rows: list[list[str]]) -> None:
    table = Table(MEMBERS, ("a", "b", "c"), tuple(tuple(r) for r in rows))
    back = parse_csv(render_csv(table), MEMBERS, neutralised=True)
    # A row of one empty cell is how csv writes an all-empty row; it reads back as one cell.
    assert [list(r) + [""] * (3 - len(r)) for r in back.rows] == [
        r if any(r) else ["", "", ""] for r in rows] or not rows


def test_files_are_written_only_when_they_change(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    assert write_if_changed(path, "a\n")
    stamp = path.stat().st_mtime_ns
    assert not write_if_changed(path, "a\n")
    assert path.stat().st_mtime_ns == stamp
    assert not list(tmp_path.glob(".*.tmp"))


def test_apply_edit_rewrites_one_file(tmp_path: Path) -> None:
    sheets = LocalSheets(tmp_path)
    edit = SheetEdit(MEMBERS, ("Email", "Name"), add_header=True,
                     appends=(("a@b.co", "=1+1"),))
    sheets.apply([edit])
    assert sheets.path(MEMBERS).read_bytes() == b"Email,Name\r\na@b.co,'=1+1\r\n"
    sheets.apply([SheetEdit(MEMBERS, ("Email", "Name"),
                            writes=(CellWrite(2, "Name", "Ana"),))])
    assert sheets.read(MEMBERS) == Table(MEMBERS, ("Email", "Name"), (("a@b.co", "Ana"),))
    assert sheets.writes == 2
