"""A1 notation as the Sheets API reads it: `'It''s'!A1:C`, `Sheet1`, `A:A`, `2:5`, `$B$2`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_ENDPOINT = re.compile(r"^\$?([A-Za-z]*)\$?([0-9]*)$")
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOKS_LIKE_CELL = re.compile(r"^[A-Za-z]{1,3}[0-9]+$")


class A1Error(ValueError):
    """The text is not a range the Sheets API would accept."""


@dataclass(frozen=True)
class A1Range:
    """A parsed range. Indexes are 0-based; an end of None means "to the end of the grid"."""

    sheet: str | None
    start_row: int = 0
    start_col: int = 0
    end_row: int | None = None  # exclusive
    end_col: int | None = None  # exclusive
    single_cell: bool = False  # "B2": for writes only the start; values may extend past it


def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    """A → 0, AA → 26."""
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - ord("A") + 1
    return number - 1


def quote_title(title: str) -> str:
    """A sheet title as Google writes it in ranges: quoted only when it has to be."""
    if _PLAIN_TITLE.match(title) and not _LOOKS_LIKE_CELL.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def format_range(title: str, start_row: int, start_col: int, end_row: int, end_col: int) -> str:
    """`Sheet1!A1:C3` (or `Sheet1!B2` for one cell) from 0-based bounds, end exclusive."""
    start = f"{column_letters(start_col)}{start_row + 1}"
    end = f"{column_letters(end_col - 1)}{end_row}"
    cells = start if (end_row - start_row, end_col - start_col) == (1, 1) else f"{start}:{end}"
    return f"{quote_title(title)}!{cells}"


def split_sheet(text: str) -> tuple[str | None, str]:
    """Split `'My sheet'!A1:B2` into ('My sheet', 'A1:B2'); a bare part returns (None, part)."""
    if text.startswith("'"):
        title, rest = _read_quoted(text)
        if not rest:
            return title, ""
        if not rest.startswith("!") or len(rest) == 1:
            raise A1Error(text)
        return title, rest[1:]
    if "!" in text:
        title, _, cells = text.rpartition("!")
        if not title or not cells:
            raise A1Error(text)
        return title, cells
    return None, text


def _read_quoted(text: str) -> tuple[str, str]:
    chars: list[str] = []
    position = 1
    while position < len(text):
        char = text[position]
        if char == "'":
            if text[position + 1:position + 2] == "'":
                chars.append("'")
                position += 2
                continue
            return "".join(chars), text[position + 1:]
        chars.append(char)
        position += 1
    raise A1Error(text)


def parse_cells(cells: str) -> tuple[int, int, int | None, int | None]:
    """`B2:D` → (1, 1, None, 4): start row/col, exclusive end row/col (None = unbounded)."""
    first, sep, second = cells.partition(":")
    start_col_text, start_row_text = _endpoint(first)
    if not sep:
        if not (start_col_text and start_row_text):
            raise A1Error(cells)
        row, col = int(start_row_text) - 1, column_index(start_col_text)
        return row, col, row + 1, col + 1
    end_col_text, end_row_text = _endpoint(second)
    # Both ends need the same kind of anchor (A:B, 1:2) unless the start is a full cell (A1:C).
    if not start_col_text and end_col_text and not end_row_text:
        raise A1Error(cells)
    if not start_row_text and end_row_text and not end_col_text:
        raise A1Error(cells)
    rows = _bounds(start_row_text, end_row_text, lambda text: int(text) - 1)
    cols = _bounds(start_col_text, end_col_text, column_index)
    return rows[0], cols[0], rows[1], cols[1]


def _endpoint(text: str) -> tuple[str, str]:
    match = _ENDPOINT.match(text.strip())
    if not match or not (match.group(1) or match.group(2)):
        raise A1Error(text)
    letters, digits = match.group(1), match.group(2)
    if digits and int(digits) < 1:
        raise A1Error(text)
    return letters, digits


def _bounds(start: str, end: str, to_index: Callable[[str], int]) -> tuple[int, int | None]:
    low = to_index(start) if start else 0
    if not end:
        return low, None
    high = to_index(end)
    low, high = min(low, high), max(low, high)
    return low, high + 1


def same_title(one: str, other: str) -> bool:
    """Whether two sheet titles name the same sheet: Google ignores case in them."""
    return one.casefold() == other.casefold()


def parse_range(text: str, sheet_titles: list[str]) -> A1Range:
    """Parse a range the way the API resolves it against the spreadsheet's sheet titles.

    A bare name is a sheet title if one matches (ignoring case), else a cell range on the
    first sheet.
    """
    text = text.strip()
    if not text:
        raise A1Error(text)
    title, cells = split_sheet(text)
    if title is None and any(same_title(cells, known) for known in sheet_titles):
        return A1Range(cells)
    if not cells:
        return A1Range(title)
    start_row, start_col, end_row, end_col = parse_cells(cells)
    return A1Range(title, start_row, start_col, end_row, end_col, single_cell=":" not in cells)
