"""Google Sheets API v4: spreadsheets.get/create/batchUpdate and spreadsheets.values.*.

Answers follow the API reference and the discovery document shipped in google-api-python-client
(sheets.v4.json): trailing empty rows and cells are dropped, an empty range has no "values"
key, reads and updates beyond the grid are refused, appends grow it, and a JSON null in
written values leaves the cell as it is.

Known simplifications: formulas are stored but not evaluated (a formula cell reads back as
its text), dates typed as USER_ENTERED stay text, and number formats only matter for
columns formatted as plain text (USER_ENTERED values there are stored as typed).

tests/google/test_emulator_conformance.py replays answers Google gave gspread's recorded tests;
tests/google/test_emulator_differences.py keeps every known difference, each with a test.
"""

from __future__ import annotations

import copy
import enum
import json
import re
import secrets
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from formsync.emulator.a1 import (
    A1Error,
    A1Range,
    column_letters,
    format_range,
    parse_cells,
    parse_range,
    same_title,
    split_sheet,
)
from formsync.emulator.server import (
    ApiError,
    ApiRequest,
    EmulatorState,
    Reply,
    Router,
    bad_request,
    not_found,
)

_SCOPE = "https://www.googleapis.com/auth/"
WRITE_SCOPES = frozenset(_SCOPE + name for name in ("spreadsheets", "drive", "drive.file"))
READ_SCOPES = WRITE_SCOPES | {_SCOPE + "spreadsheets.readonly", _SCOPE + "drive.readonly"}
DEFAULT_ROWS, DEFAULT_COLUMNS = 1000, 26

Cell = str | int | float | bool | dict[str, str] | None  # dict: {"formula": "=..."}
_ID = r"(?P<spreadsheet_id>[^/:]+)"
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_PERCENT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)%$")
_RENDER_OPTIONS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
_INPUT_OPTIONS = ("RAW", "USER_ENTERED")


class _Keep(enum.Enum):
    CELL = "keep"  # a JSON null in written values: leave the cell unchanged


# ---------------------------------------------------------------------------------------------
# Cells: typed input, rendered output


def parse_input(value: Any, option: str, *, as_text: bool = False) -> Cell | _Keep:
    """A written value as Google stores it under valueInputOption RAW or USER_ENTERED."""
    if value is None:
        return _Keep.CELL
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | dict):
        raise bad_request(f"Invalid values: {type(value).__name__} is not a cell value")
    text = str(value)
    if text == "":
        return None
    if option == "RAW" or as_text:
        return text
    return _parse_user_entered(text)


def _parse_user_entered(text: str) -> Cell:
    if text.startswith("'"):
        return text[1:]
    if text.startswith("=") and len(text) > 1:
        return {"formula": text}
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    if _NUMBER.match(text):
        number = float(text)
        integral = number.is_integer() and abs(number) < 2**53 and not re.search(r"[.eE]", text)
        return int(number) if integral else number
    if _PERCENT.match(text):
        return float(text[:-1]) / 100
    return text


def render(cell: Cell, option: str) -> Any:
    """A stored cell as values.get returns it for a valueRenderOption."""
    if cell is None:
        return ""
    if isinstance(cell, dict):
        return cell["formula"]  # not evaluated: the formula text stands in for its value
    if isinstance(cell, bool):
        return ("TRUE" if cell else "FALSE") if option == "FORMATTED_VALUE" else cell
    if isinstance(cell, int | float):
        return _format_number(cell) if option == "FORMATTED_VALUE" else _plain_number(cell)
    return cell


def _plain_number(number: float) -> int | float:
    return int(number) if float(number).is_integer() and abs(number) < 2**53 else number


def _format_number(number: float) -> str:
    if float(number).is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.15g}".upper()


# ---------------------------------------------------------------------------------------------
# Field masks (`fields=sheets(properties(sheetId,title))`)

FieldTree = dict[str, "FieldTree | None"]


def parse_fields(text: str) -> FieldTree:
    # Google takes "/" for "." in paths: gspread resizes with "gridProperties/rowCount" and
    # the recorded answer applies it (burnash/gspread tests/cassettes/WorksheetTest.test_resize).
    compact = text.replace(" ", "").replace("/", ".")
    tree, position = _parse_field_list(compact, 0)
    if position != len(compact):
        raise bad_request(f"Invalid field selection {text}")
    return tree


def _parse_field_list(text: str, position: int) -> tuple[FieldTree, int]:
    tree: FieldTree = {}
    while True:
        match = re.compile(r"[A-Za-z0-9_*]+(\.[A-Za-z0-9_*]+)*").match(text, position)
        if not match:
            raise bad_request(f"Invalid field selection {text}")
        path, position = match.group().split("."), match.end()
        sub: FieldTree | None = None
        if text.startswith("(", position):
            sub, position = _parse_field_list(text, position + 1)
            if not text.startswith(")", position):
                raise bad_request(f"Invalid field selection {text}")
            position += 1
        _merge_path(tree, path, sub)
        if not text.startswith(",", position):
            return tree, position
        position += 1


def _merge_path(tree: FieldTree, path: list[str], sub: FieldTree | None) -> None:
    for name in path[:-1]:
        child = tree.setdefault(name, {})
        if child is None:
            return  # an ancestor is already selected whole
        tree = child
    leaf = path[-1]
    if sub is None or tree.get(leaf, {}) is None:
        tree[leaf] = None
    else:
        existing = tree.setdefault(leaf, {})
        assert existing is not None
        for name, child in sub.items():
            _merge_path(existing, [name], child)


def apply_fields(value: Any, tree: FieldTree | None) -> Any:
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [apply_fields(item, tree) for item in value]
    if isinstance(value, dict):
        return {name: apply_fields(value[name], sub) for name, sub in tree.items() if name in value}
    return value


# ---------------------------------------------------------------------------------------------
# One worksheet's grid


class Grid:
    """A worksheet: its properties and its cells (rows and rows' lists only as long as data)."""

    def __init__(self, sheet: dict[str, Any]) -> None:
        self.sheet = sheet

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.sheet["properties"])

    @property
    def title(self) -> str:
        return str(self.sheet["properties"]["title"])

    @property
    def sheet_id(self) -> int:
        return int(self.sheet["properties"]["sheetId"])

    @property
    def row_count(self) -> int:
        return int(self.sheet["properties"]["gridProperties"]["rowCount"])

    @row_count.setter
    def row_count(self, value: int) -> None:
        self.sheet["properties"]["gridProperties"]["rowCount"] = value
        del self.rows[value:]

    @property
    def col_count(self) -> int:
        return int(self.sheet["properties"]["gridProperties"]["columnCount"])

    @col_count.setter
    def col_count(self, value: int) -> None:
        self.sheet["properties"]["gridProperties"]["columnCount"] = value
        for row in self.rows:
            del row[value:]

    @property
    def rows(self) -> list[list[Cell]]:
        rows: list[list[Cell]] = self.sheet.setdefault("rows", [])
        return rows

    def get(self, row: int, col: int) -> Cell:
        if row >= len(self.rows) or col >= len(self.rows[row]):
            return None
        return self.rows[row][col]

    def put(self, row: int, col: int, cell: Cell) -> None:
        rows = self.rows
        if cell is None and self.get(row, col) is None:
            return
        while len(rows) <= row:
            rows.append([])
        line = rows[row]
        while len(line) <= col:
            line.append(None)
        line[col] = cell
        while line and line[-1] is None:
            line.pop()

    def insert_rows(self, at: int, count: int) -> None:
        if at < len(self.rows):
            self.rows[at:at] = [[] for _ in range(count)]
        self.sheet["properties"]["gridProperties"]["rowCount"] = self.row_count + count

    def delete_rows(self, start: int, end: int) -> None:
        del self.rows[start:end]
        self.sheet["properties"]["gridProperties"]["rowCount"] = self.row_count - (end - start)

    def insert_columns(self, at: int, count: int) -> None:
        for line in self.rows:
            if at < len(line):
                line[at:at] = [None] * count
        self.sheet["properties"]["gridProperties"]["columnCount"] = self.col_count + count

    def delete_columns(self, start: int, end: int) -> None:
        for line in self.rows:
            del line[start:end]
        self.sheet["properties"]["gridProperties"]["columnCount"] = (
            self.col_count - (end - start))

    def is_text_column(self, col: int) -> bool:
        number_format = self.sheet.get("formats", {}).get(str(col), {}).get("numberFormat", {})
        return bool(number_format.get("type") == "TEXT")

    def window(self, start_row: int, start_col: int, end_row: int, end_col: int,
               major: str) -> list[list[Cell]]:
        """The cells of a rectangle, trailing empty cells and lines dropped, as Google does."""
        lines = [row[start_col:end_col] for row in self.rows[start_row:end_row]]
        if major == "COLUMNS":
            width = max((len(line) for line in lines), default=0)
            lines = [[line[col] if col < len(line) else None for line in lines]
                     for col in range(width)]
        trimmed = [_rstrip(line) for line in lines]
        while trimmed and not trimmed[-1]:
            trimmed.pop()
        return trimmed


def _rstrip(line: list[Cell]) -> list[Cell]:
    end = len(line)
    while end and line[end - 1] is None:
        end -= 1
    return line[:end]


def _new_sheet(title: str, sheet_id: int, index: int, rows: int, cols: int) -> dict[str, Any]:
    return {"properties": {"sheetId": sheet_id, "title": title, "index": index,
                           "sheetType": "GRID",
                           "gridProperties": {"rowCount": rows, "columnCount": cols}},
            "rows": [], "formats": {}}


# ---------------------------------------------------------------------------------------------
# The API


class SheetsApi:
    name = "sheets"

    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    @property
    def _books(self) -> dict[str, dict[str, Any]]:
        books: dict[str, dict[str, Any]] = self._state.section(self.name).setdefault(
            "spreadsheets", {})
        return books

    def register(self, router: Router) -> None:
        base, values = rf"^/v4/spreadsheets/{_ID}", rf"^/v4/spreadsheets/{_ID}/values"
        routes: list[tuple[str, str, str, Callable[[ApiRequest], Reply], bool]] = [
            ("GET", rf"{base}$", "sheets.get", self._get, False),
            ("POST", r"^/v4/spreadsheets$", "sheets.create", self._create, True),
            ("POST", rf"{base}:batchUpdate$", "sheets.batchUpdate", self._batch_update, True),
            ("GET", rf"{values}:batchGet$", "sheets.values.batchGet", self._values_batch_get,
             False),
            ("POST", rf"{values}:batchUpdate$", "sheets.values.batchUpdate",
             self._values_batch_update, True),
            ("POST", rf"{values}:batchClear$", "sheets.values.batchClear",
             self._values_batch_clear, True),
            ("POST", rf"{values}/(?P<range>.+):append$", "sheets.values.append",
             self._values_append, True),
            ("POST", rf"{values}/(?P<range>.+):clear$", "sheets.values.clear", self._values_clear,
             True),
            ("GET", rf"{values}/(?P<range>[^/]+)$", "sheets.values.get", self._values_get, False),
            ("PUT", rf"{values}/(?P<range>[^/]+)$", "sheets.values.update", self._values_update,
             True),
        ]
        for method, pattern, name, handler, writes in routes:
            router.add(method, pattern, name, handler, kind="write" if writes else "read",
                       scopes=WRITE_SCOPES if writes else READ_SCOPES)

    # -- seeding and inspection (for tests) -----------------------------------------------

    def create_spreadsheet(self, spreadsheet_id: str,
                           worksheets: Mapping[str, Sequence[Sequence[Any]]] | None = None, *,
                           title: str = "", rows: int = DEFAULT_ROWS, cols: int = DEFAULT_COLUMNS,
                           shared_with: Iterable[str] | None = None,
                           value_input: str = "RAW") -> None:
        """Add a spreadsheet; each worksheet grid is at least rows × cols, larger if its data is.

        `shared_with`: the only accounts allowed in (others get 403); None lets everyone in.
        """
        sheets = worksheets if worksheets else {"Sheet1": []}
        with self._state.lock:
            book = {"title": title or spreadsheet_id, "locale": "en_US", "timeZone": "Etc/GMT",
                    "shared_with": list(shared_with) if shared_with is not None else None,
                    "sheets": []}
            self._books[spreadsheet_id] = book
            for sheet_title, data in sheets.items():
                height = max(rows, len(data))
                width = max([cols, *(len(row) for row in data)])
                grid = self._add_sheet(book, sheet_title, height, width)
                self._write_matrix(grid, 0, 0, [list(row) for row in data], value_input)

    def set_values(self, spreadsheet_id: str, worksheet: str, values: Sequence[Sequence[Any]],
                   *, start: str = "A1", value_input: str = "RAW") -> None:
        """Write cells directly (the grid grows to fit), as a person typing in the sheet."""
        with self._state.lock:
            grid = self._grid(spreadsheet_id, worksheet)
            row, col, _, _ = _cells_of(start)
            matrix = [list(line) for line in values]
            grid.row_count = max(grid.row_count, row + len(matrix))
            grid.col_count = max([grid.col_count, *(col + len(line) for line in matrix)])
            self._write_matrix(grid, row, col, matrix, value_input)

    def values(self, spreadsheet_id: str, worksheet: str,
               render_option: str = "FORMATTED_VALUE") -> list[list[Any]]:
        """A worksheet's values as values.get returns them (ragged, trailing empties dropped)."""
        with self._state.lock:
            grid = self._grid(spreadsheet_id, worksheet)
            lines = grid.window(0, 0, grid.row_count, grid.col_count, "ROWS")
            return [[render(cell, render_option) for cell in line] for line in lines]

    def cell(self, spreadsheet_id: str, worksheet: str, a1: str) -> Cell:
        """The stored cell: a str, number or bool, {"formula": "=..."} or None when empty."""
        with self._state.lock:
            row, col, _, _ = _cells_of(a1)
            return copy.deepcopy(self._grid(spreadsheet_id, worksheet).get(row, col))

    def worksheet_titles(self, spreadsheet_id: str) -> list[str]:
        with self._state.lock:
            return [Grid(sheet).title for sheet in self._books[spreadsheet_id]["sheets"]]

    def grid_size(self, spreadsheet_id: str, worksheet: str) -> tuple[int, int]:
        with self._state.lock:
            grid = self._grid(spreadsheet_id, worksheet)
            return grid.row_count, grid.col_count

    def share(self, spreadsheet_id: str, *emails: str) -> None:
        with self._state.lock:
            book = self._books[spreadsheet_id]
            book["shared_with"] = sorted({*(book["shared_with"] or []), *emails})

    def _grid(self, spreadsheet_id: str, worksheet: str) -> Grid:
        for sheet in self._books[spreadsheet_id]["sheets"]:
            if sheet["properties"]["title"] == worksheet:
                return Grid(sheet)
        raise KeyError(f"no worksheet {worksheet!r} in spreadsheet {spreadsheet_id!r}")

    # -- shared helpers ---------------------------------------------------------------------

    def _book(self, request: ApiRequest) -> tuple[str, dict[str, Any]]:
        spreadsheet_id = request.params["spreadsheet_id"]
        book = self._books.get(spreadsheet_id)
        if book is None:
            raise not_found()
        allowed = book["shared_with"]
        if allowed is not None and (request.caller is None
                                    or request.caller.principal not in allowed):
            raise ApiError(403, "The caller does not have permission", "PERMISSION_DENIED")
        return spreadsheet_id, book

    @staticmethod
    def _add_sheet(book: dict[str, Any], title: str, rows: int, cols: int,
                   index: int | None = None, sheet_id: int | None = None) -> Grid:
        sheets: list[dict[str, Any]] = book["sheets"]
        taken = {Grid(sheet).sheet_id for sheet in sheets}
        if sheet_id is None:
            sheet_id = 0 if not sheets else zlib.crc32(title.encode()) % 2_000_000_000
            while sheet_id in taken:
                sheet_id += 1
        position = len(sheets) if index is None else max(0, min(index, len(sheets)))
        sheet = _new_sheet(title, sheet_id, position, rows, cols)
        sheets.insert(position, sheet)
        for number, each in enumerate(sheets):
            each["properties"]["index"] = number
        return Grid(sheet)

    @staticmethod
    def _resolve(book: dict[str, Any], text: str) -> tuple[Grid, A1Range]:
        grids = [Grid(sheet) for sheet in book["sheets"]]
        try:
            a1 = parse_range(text, [grid.title for grid in grids])
        except A1Error:
            raise bad_request(f"Unable to parse range: {text}") from None
        title = a1.sheet if a1.sheet is not None else grids[0].title
        # The sheet name in a range is matched ignoring case, as titles are: appsmith's Sheets
        # plugin sends the name as the user typed it in values.append ranges, and its issue
        # #5293 reports insert and update "not case sensitive" (indirect, not a recorded
        # exchange). The exact title wins in a spreadsheet seeded with both.
        grid = next((grid for grid in grids if grid.title == title), None) or next(
            (grid for grid in grids if same_title(grid.title, title)), None)
        if grid is None:
            raise bad_request(f"Unable to parse range: {text}")
        return grid, a1

    @staticmethod
    def _bounds(grid: Grid, a1: A1Range, text: str) -> tuple[int, int, int, int]:
        """The rectangle a read or clear covers: open ends stop at the grid's edge."""
        end_row = grid.row_count if a1.end_row is None else a1.end_row
        end_col = grid.col_count if a1.end_col is None else a1.end_col
        if (end_row > grid.row_count or end_col > grid.col_count
                or a1.start_row >= grid.row_count or a1.start_col >= grid.col_count):
            raise _grid_limits(grid, text)
        return a1.start_row, a1.start_col, end_row, end_col

    def _value_range(self, book: dict[str, Any], text: str, request: ApiRequest
                     ) -> dict[str, Any]:
        major = _major_dimension(request.arg("majorDimension"))
        option = _choice(request.arg("valueRenderOption"), _RENDER_OPTIONS, "FORMATTED_VALUE",
                         "value_render_option")
        grid, a1 = self._resolve(book, text)
        start_row, start_col, end_row, end_col = self._bounds(grid, a1, text)
        answer: dict[str, Any] = {
            "range": format_range(grid.title, start_row, start_col, end_row, end_col),
            "majorDimension": major}
        lines = grid.window(start_row, start_col, end_row, end_col, major)
        if lines:
            answer["values"] = [[render(cell, option) for cell in line] for line in lines]
        return answer

    def _write_matrix(self, grid: Grid, row: int, col: int, matrix: list[list[Any]],
                      option: str) -> None:
        for row_offset, line in enumerate(matrix):
            for col_offset, value in enumerate(line):
                target_col = col + col_offset
                cell = parse_input(value, option, as_text=grid.is_text_column(target_col))
                if cell is not _Keep.CELL:
                    grid.put(row + row_offset, target_col, cell)

    def _check_write(self, grid: Grid, a1: A1Range, text: str, matrix: list[list[Any]]) -> None:
        height, width = len(matrix), max((len(line) for line in matrix), default=0)
        if a1.single_cell:
            a1 = A1Range(a1.sheet, a1.start_row, a1.start_col)
        if a1.end_row is not None and a1.start_row + height > a1.end_row:
            raise bad_request(f"Requested writing within range [{text}], but tried writing to "
                              f"row [{a1.end_row + 1}]")
        if a1.end_col is not None and a1.start_col + width > a1.end_col:
            raise bad_request(f"Requested writing within range [{text}], but tried writing to "
                              f"column [{column_letters(a1.end_col)}]")
        if a1.start_row + height > grid.row_count or a1.start_col + width > grid.col_count:
            raise _grid_limits(grid, text)

    def _write(self, spreadsheet_id: str, grid: Grid, row: int, col: int,
               matrix: list[list[Any]], option: str, include_values: bool) -> dict[str, Any]:
        cells = _written_cells(row, col, matrix)
        self._write_matrix(grid, row, col, matrix, option)
        height, width = len(matrix), max((len(line) for line in matrix), default=0)
        updated = format_range(grid.title, row, col, row + max(height, 1), col + max(width, 1))
        answer: dict[str, Any] = {"spreadsheetId": spreadsheet_id, "updatedRange": updated}
        if cells:
            # Rows and columns holding a written cell, not the range's size: nulls at A1:D6
            # except A1 and D6 answer 2 and 2 (gspread's cassette
            # WorksheetTest.test_update_cells_noncontiguous).
            answer.update(updatedRows=len({r for r, _ in cells}),
                          updatedColumns=len({c for _, c in cells}), updatedCells=len(cells))
        if include_values:
            answer["updatedData"] = self._rendered(grid, row, col, height, width)
        return answer

    def _rendered(self, grid: Grid, row: int, col: int, height: int, width: int
                  ) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "range": format_range(grid.title, row, col, row + max(height, 1), col + max(width, 1)),
            "majorDimension": "ROWS"}
        lines = grid.window(row, col, row + height, col + width, "ROWS")
        if lines:
            answer["values"] = [[render(cell, "FORMATTED_VALUE") for cell in line]
                                for line in lines]
        return answer

    # -- spreadsheets -----------------------------------------------------------------------

    def _spreadsheet(self, spreadsheet_id: str, book: dict[str, Any]) -> dict[str, Any]:
        return {
            "spreadsheetId": spreadsheet_id,
            "properties": {"title": book["title"], "locale": book["locale"],
                           "autoRecalc": "ON_CHANGE", "timeZone": book["timeZone"],
                           "defaultFormat": {"verticalAlignment": "BOTTOM",
                                             "wrapStrategy": "OVERFLOW_CELL"}},
            "sheets": [{"properties": copy.deepcopy(sheet["properties"])}
                       for sheet in book["sheets"]],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit",
        }

    def _get(self, request: ApiRequest) -> Reply:
        spreadsheet_id, book = self._book(request)
        answer = self._spreadsheet(spreadsheet_id, book)
        fields = request.arg("fields")
        return Reply(200, apply_fields(answer, parse_fields(fields)) if fields else answer)

    def _create(self, request: ApiRequest) -> Reply:
        body = _object(request.json())
        properties = _object(body.get("properties", {}))
        spreadsheet_id = secrets.token_urlsafe(33)
        book = {"title": properties.get("title", "Untitled spreadsheet"),
                "locale": properties.get("locale", "en_US"),
                "timeZone": properties.get("timeZone", "Etc/GMT"), "shared_with": None,
                "sheets": []}
        for sheet in body.get("sheets") or [{"properties": {"title": "Sheet1"}}]:
            props = _object(_object(sheet).get("properties", {}))
            grid_props = _object(props.get("gridProperties", {}))
            self._add_sheet(book, str(props.get("title", f"Sheet{len(book['sheets']) + 1}")),
                            int(grid_props.get("rowCount", DEFAULT_ROWS)),
                            int(grid_props.get("columnCount", DEFAULT_COLUMNS)))
        self._books[spreadsheet_id] = book
        return Reply(200, self._spreadsheet(spreadsheet_id, book))

    def _batch_update(self, request: ApiRequest) -> Reply:
        spreadsheet_id, book = self._book(request)
        body = _object(request.json())
        draft = copy.deepcopy(book)  # all requests apply, or none (like Google)
        replies = []
        for number, item in enumerate(body.get("requests") or []):
            kind, payload = _single_request(item, number)
            handler = _STRUCTURE_REQUESTS.get(kind)
            if handler is None and kind not in _COSMETIC_REQUESTS:
                raise bad_request(f"Invalid JSON payload received. Unknown name \"{kind}\" at "
                                  f"'requests[{number}]': Cannot find field.")
            try:
                replies.append(handler(self, draft, payload) if handler else {})
            except _RequestError as error:
                raise bad_request(f"Invalid requests[{number}].{kind}: {error}") from None
        book.clear()
        book.update(draft)
        answer: dict[str, Any] = {"spreadsheetId": spreadsheet_id, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            answer["updatedSpreadsheet"] = self._spreadsheet(spreadsheet_id, book)
        return Reply(200, answer)

    def _add_sheet_request(self, book: dict[str, Any], payload: dict[str, Any]
                           ) -> dict[str, Any]:
        props = _object(payload.get("properties", {}))
        title = str(props.get("title") or f"Sheet{len(book['sheets']) + 1}")
        if any(same_title(Grid(sheet).title, title) for sheet in book["sheets"]):
            raise _title_taken(title)
        grid_props = _object(props.get("gridProperties", {}))
        grid = self._add_sheet(book, title, int(grid_props.get("rowCount", DEFAULT_ROWS)),
                               int(grid_props.get("columnCount", DEFAULT_COLUMNS)),
                               props.get("index"), props.get("sheetId"))
        return {"addSheet": {"properties": copy.deepcopy(grid.properties)}}

    def _delete_sheet_request(self, book: dict[str, Any], payload: dict[str, Any]
                              ) -> dict[str, Any]:
        grid = _grid_by_id(book, payload.get("sheetId"))
        if len(book["sheets"]) == 1:
            raise _RequestError("You can't remove all the sheets in a document.")
        book["sheets"].remove(grid.sheet)
        for number, sheet in enumerate(book["sheets"]):
            sheet["properties"]["index"] = number
        return {}

    def _update_sheet_properties(self, book: dict[str, Any], payload: dict[str, Any]
                                 ) -> dict[str, Any]:
        props = _object(payload.get("properties", {}))
        grid = _grid_by_id(book, props.get("sheetId"))
        fields = parse_fields(str(payload.get("fields") or "*"))
        changes = apply_fields(props, fields)
        title = changes.get("title")
        if title is not None and any(same_title(Grid(s).title, title) for s in book["sheets"]
                                     if s is not grid.sheet):
            raise _title_taken(str(title))
        sizes = _object(changes.pop("gridProperties", {}))
        changes.pop("sheetId", None)
        if "hidden" in changes:
            _set_hidden(book, grid.sheet, changes.pop("hidden"))
        if "index" in changes:
            _move_sheet(book, grid.sheet, int(changes.pop("index")))
        grid.sheet["properties"].update(changes)
        if "rowCount" in sizes:
            grid.row_count = int(sizes["rowCount"])
        if "columnCount" in sizes:
            grid.col_count = int(sizes["columnCount"])
        _set_grid_extras(grid, sizes)
        return {}

    def _update_spreadsheet_properties(self, book: dict[str, Any], payload: dict[str, Any]
                                       ) -> dict[str, Any]:
        changes = apply_fields(_object(payload.get("properties", {})),
                               parse_fields(str(payload.get("fields") or "*")))
        for key in ("title", "locale", "timeZone"):
            if key in changes:
                book[key] = changes[key]
        return {}

    def _append_dimension(self, book: dict[str, Any], payload: dict[str, Any]
                          ) -> dict[str, Any]:
        grid = _grid_by_id(book, payload.get("sheetId"))
        length = int(payload.get("length", 0))
        if payload.get("dimension") == "COLUMNS":
            grid.col_count += length
        else:
            grid.row_count += length
        return {}

    def _insert_dimension(self, book: dict[str, Any], payload: dict[str, Any]
                          ) -> dict[str, Any]:
        grid, dimension, start, end = _dimension_range(book, payload)
        if dimension == "COLUMNS":
            grid.insert_columns(start, end - start)
        else:
            grid.insert_rows(start, end - start)
        return {}

    def _delete_dimension(self, book: dict[str, Any], payload: dict[str, Any]
                          ) -> dict[str, Any]:
        grid, dimension, start, end = _dimension_range(book, payload)
        if dimension == "COLUMNS":
            grid.delete_columns(start, min(end, grid.col_count))
        else:
            grid.delete_rows(start, min(end, grid.row_count))
        return {}

    def _repeat_cell(self, book: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        # Formats are kept per column only; they matter for plain-text columns.
        target = _object(payload.get("range", {}))
        grid = _grid_by_id(book, target.get("sheetId", 0))
        cell_format = _object(_object(payload.get("cell", {})).get("userEnteredFormat", {}))
        first = int(target.get("startColumnIndex", 0))
        last = int(target.get("endColumnIndex", grid.col_count))
        formats = grid.sheet.setdefault("formats", {})
        for col in range(first, last):
            formats.setdefault(str(col), {}).update(copy.deepcopy(cell_format))
        return {}

    # -- values -----------------------------------------------------------------------------

    def _values_get(self, request: ApiRequest) -> Reply:
        _, book = self._book(request)
        return Reply(200, self._value_range(book, request.params["range"], request))

    def _values_batch_get(self, request: ApiRequest) -> Reply:
        spreadsheet_id, book = self._book(request)
        answer: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
        ranges = request.args("ranges")
        if ranges:
            answer["valueRanges"] = [self._value_range(book, text, request) for text in ranges]
        return Reply(200, answer)

    def _values_update(self, request: ApiRequest) -> Reply:
        spreadsheet_id, book = self._book(request)
        option = _input_option(request.arg("valueInputOption"))
        body = _object(request.json())
        text = request.params["range"]
        grid, a1 = self._resolve(book, text)
        matrix = _matrix(body.get("values"), body.get("majorDimension"))
        self._check_write(grid, a1, text, matrix)
        include = request.arg("includeValuesInResponse") == "true"
        return Reply(200, self._write(spreadsheet_id, grid, a1.start_row, a1.start_col, matrix,
                                      option, include))

    def _values_batch_update(self, request: ApiRequest) -> Reply:
        spreadsheet_id, book = self._book(request)
        body = _object(request.json())
        option = _input_option(body.get("valueInputOption"))
        include = bool(body.get("includeValuesInResponse"))
        planned = []
        for number, item in enumerate(body.get("data") or []):
            entry = _object(item)
            text = str(entry.get("range", ""))
            grid, a1 = self._resolve(book, text)
            matrix = _matrix(entry.get("values"), entry.get("majorDimension"),
                             f"data[{number}].values")
            self._check_write(grid, a1, text, matrix)
            planned.append((grid, a1, matrix))
        responses = [self._write(spreadsheet_id, grid, a1.start_row, a1.start_col, matrix,
                                 option, include) for grid, a1, matrix in planned]
        answer: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
        answer.update(_batch_totals([(grid.sheet_id, _written_cells(a1.start_row, a1.start_col,
                                                                    matrix))
                                     for grid, a1, matrix in planned]))
        sheets_touched = len({response["updatedRange"].rpartition("!")[0]
                              for response in responses if response.get("updatedCells")})
        if sheets_touched:
            answer["totalUpdatedSheets"] = sheets_touched
        if responses:
            answer["responses"] = responses
        return Reply(200, answer)

    def _values_append(self, request: ApiRequest) -> Reply:
        spreadsheet_id, book = self._book(request)
        option = _input_option(request.arg("valueInputOption"))
        insert = _choice(request.arg("insertDataOption"), ("OVERWRITE", "INSERT_ROWS"),
                         "OVERWRITE", "insert_data_option") == "INSERT_ROWS"
        body = _object(request.json())
        matrix = _matrix(body.get("values"), body.get("majorDimension"))
        grid, a1 = self._resolve(book, request.params["range"])
        table = _append_table(grid, a1, matrix)
        answer: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
        if table is None:
            row, col = a1.start_row, a1.start_col
        else:
            answer["tableRange"] = format_range(grid.title, *table)
            row, col = table[2], table[1]
        height, width = len(matrix), max((len(line) for line in matrix), default=0)
        if insert:
            grid.insert_rows(row, height)
        elif row + height > grid.row_count:
            grid.row_count = row + height
        if col + width > grid.col_count:
            grid.col_count = col + width
        include = request.arg("includeValuesInResponse") == "true"
        answer["updates"] = self._write(spreadsheet_id, grid, row, col, matrix, option, include)
        return Reply(200, answer)

    def _values_clear(self, request: ApiRequest) -> Reply:
        spreadsheet_id, book = self._book(request)
        cleared = self._clear(book, request.params["range"])
        return Reply(200, {"spreadsheetId": spreadsheet_id, "clearedRange": cleared})

    def _values_batch_clear(self, request: ApiRequest) -> Reply:
        spreadsheet_id, book = self._book(request)
        texts = [str(text) for text in _object(request.json()).get("ranges") or []]
        for text in texts:  # check every range before clearing any
            grid, a1 = self._resolve(book, text)
            self._bounds(grid, a1, text)
        cleared = [self._clear(book, text) for text in texts]
        return Reply(200, {"spreadsheetId": spreadsheet_id, "clearedRanges": cleared})

    def _clear(self, book: dict[str, Any], text: str) -> str:
        grid, a1 = self._resolve(book, text)
        start_row, start_col, end_row, end_col = self._bounds(grid, a1, text)
        for row in range(start_row, min(end_row, len(grid.rows))):
            for col in range(start_col, min(end_col, len(grid.rows[row]))):
                grid.put(row, col, None)
        return format_range(grid.title, start_row, start_col, end_row, end_col)


# ---------------------------------------------------------------------------------------------
# Request parsing helpers


class _RequestError(Exception):
    """One batchUpdate request is invalid; the message follows "Invalid requests[i].kind: "."""


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request("Invalid JSON payload received. Expected an object.")
    return value


def _single_request(item: Any, number: int) -> tuple[str, dict[str, Any]]:
    request = _object(item)
    if len(request) != 1:
        raise bad_request(f"Invalid requests[{number}]: exactly one kind of request is expected")
    kind, payload = next(iter(request.items()))
    return str(kind), _object(payload)


def _grid_by_id(book: dict[str, Any], sheet_id: Any) -> Grid:
    for sheet in book["sheets"]:
        if Grid(sheet).sheet_id == int(sheet_id or 0):
            return Grid(sheet)
    raise _RequestError(f"No grid with id: {sheet_id}")


def _set_hidden(book: dict[str, Any], sheet: dict[str, Any], hidden: Any) -> None:
    """Google leaves `hidden` out when false and will not hide the last visible sheet
    (gspread's cassette WorksheetTest.test_hide_show_worksheet)."""
    if hidden:
        sheet["properties"]["hidden"] = True
    else:
        sheet["properties"].pop("hidden", None)
    if all(other["properties"].get("hidden") for other in book["sheets"]):
        raise _RequestError("You can't hide all the sheets in a document.")


def _set_grid_extras(grid: Grid, sizes: dict[str, Any]) -> None:
    """Frozen rows and columns and the like; a zero or false value drops the key, as
    gspread's cassette WorksheetTest.test_freeze shows after unfreezing."""
    extras = grid.sheet["properties"]["gridProperties"]
    for key, value in sizes.items():
        if key in ("rowCount", "columnCount"):
            continue
        if value:
            extras[key] = value
        else:
            extras.pop(key, None)


def _move_sheet(book: dict[str, Any], sheet: dict[str, Any], index: int) -> None:
    """Put a sheet at `index`, counted before the move as the API reference says (to move S1
    past S2 of S1, S2, S3, set 2); the others are renumbered, as gspread's cassette
    WorksheetTest.test_worksheet_update_index shows."""
    sheets: list[dict[str, Any]] = book["sheets"]
    old = sheets.index(sheet)
    sheets.remove(sheet)
    target = index - 1 if index > old else index
    sheets.insert(max(0, min(target, len(sheets))), sheet)
    for number, each in enumerate(sheets):
        each["properties"]["index"] = number


def _dimension_range(book: dict[str, Any], payload: dict[str, Any]
                     ) -> tuple[Grid, str, int, int]:
    target = _object(payload.get("range", {}))
    grid = _grid_by_id(book, target.get("sheetId", 0))
    return (grid, str(target.get("dimension", "ROWS")), int(target.get("startIndex", 0)),
            int(target.get("endIndex", 0)))


def _choice(value: Any, allowed: tuple[str, ...], default: str, field: str) -> str:
    if value in (None, ""):
        return default
    if value not in allowed:
        raise bad_request(f"Invalid value at '{field}', \"{value}\"")
    return str(value)


def _major_dimension(value: Any) -> str:
    if value in (None, "", "DIMENSION_UNSPECIFIED"):
        return "ROWS"
    return _choice(value, ("ROWS", "COLUMNS"), "ROWS", "major_dimension")


def _input_option(value: Any) -> str:
    if value in (None, "", "INPUT_VALUE_OPTION_UNSPECIFIED"):
        raise bad_request("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
    return _choice(value, _INPUT_OPTIONS, "RAW", "value_input_option")


def _matrix(values: Any, major: Any, field: str = "data.values") -> list[list[Any]]:
    """Written values as rows (columns transposed), ragged lines kept."""
    if values is None:
        return []
    if not isinstance(values, list):
        raise _not_a_list(field, values)
    for number, line in enumerate(values):
        if not isinstance(line, list):
            raise _not_a_list(f"{field}[{number}]", line)
    if _major_dimension(major) == "ROWS":
        return [list(line) for line in values]
    height = max((len(line) for line in values), default=0)
    return [[line[row] if row < len(line) else None for line in values]
            for row in range(height)]


def _written_cells(row: int, col: int, matrix: list[list[Any]]) -> set[tuple[int, int]]:
    """The cells a write sets: a JSON null leaves its cell alone and is not counted."""
    return {(row + r, col + c) for r, line in enumerate(matrix)
            for c, value in enumerate(line) if value is not None}


def _batch_totals(writes: list[tuple[int, set[tuple[int, int]]]]) -> dict[str, int]:
    """values.batchUpdate totals: rows and columns with a written cell, counted once across
    ranges (A1:D1 and A4:D4 answer 4 columns: gspread's WorksheetTest.test_batch_update)."""
    rows = {(sheet, r) for sheet, cells in writes for r, _ in cells}
    cols = {(sheet, c) for sheet, cells in writes for _, c in cells}
    totals = {"totalUpdatedRows": len(rows), "totalUpdatedColumns": len(cols),
              "totalUpdatedCells": sum(len(cells) for _, cells in writes)}
    return {name: value for name, value in totals.items() if value}


def _not_a_list(field: str, value: Any) -> ApiError:
    """Google's refusal of a value where a list is due, as gspread's cassette
    WorksheetTest.test_add_validation recorded it for values.update with {"values": "X"}."""
    message = (f"Invalid value at '{field}' (type.googleapis.com/google.protobuf.ListValue), "
               f"{json.dumps(value, ensure_ascii=False)}")
    return ApiError(400, message, "INVALID_ARGUMENT", details=[{
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": field, "description": message}]}])


def _title_taken(title: str) -> _RequestError:
    """Google's refusal of a sheet title already in use, ignoring case.

    Google answers 400 INVALID_ARGUMENT 'Invalid requests[0].addSheet: A sheet with the name
    "Finance" already exists. Please enter another name.' (as gspread users quote its
    APIError; the same sentence in asimlqt/php-google-spreadsheet-client#170). A title that
    differs only in case is taken too: socialpoint-labs/sheetfu PR #26, "trying to create 2
    sheets with the same name but different cases fails, wether you do it from the spreadsheet
    UI or the API".
    """
    return _RequestError(f'A sheet with the name "{title}" already exists. Please enter '
                         "another name.")


def _cells_of(a1: str) -> tuple[int, int, int | None, int | None]:
    try:
        return parse_cells(a1)
    except A1Error:
        raise ValueError(f"not a cell reference: {a1!r}") from None


def _grid_limits(grid: Grid, text: str) -> ApiError:
    _, cells = split_sheet(text.strip())
    quoted = "'" + grid.title.replace("'", "''") + "'"
    where = f"{quoted}!{cells}" if cells and cells != grid.title else quoted
    return bad_request(f"Range ({where}) exceeds grid limits. Max rows: {grid.row_count}, "
                       f"max columns: {grid.col_count}")


def _append_table(grid: Grid, a1: A1Range, matrix: list[list[Any]]
                  ) -> tuple[int, int, int, int] | None:
    """The table values.append writes below, or None to write at the range's start."""
    if not a1.single_cell:
        return _find_table(grid, a1)
    height, width = len(matrix), max((len(line) for line in matrix), default=0)
    row, col = a1.start_row, a1.start_col
    # An empty anchor with room for the values takes them even above a table: gspread's
    # cassettes WorksheetTest.test_insert_row and test_insert_cols append at A2 and B1 of
    # freshly inserted rows and columns and land there. Otherwise the anchor starts the search
    # for the table; it does not bound it.
    if not grid.window(row, col, row + max(height, 1), col + max(width, 1), "ROWS"):
        return None
    return _find_table(grid, A1Range(a1.sheet, row, col))


def _find_table(grid: Grid, a1: A1Range) -> tuple[int, int, int, int] | None:
    """The "table" values.append looks for: the first run of non-empty rows in the range.

    Returns (start_row, start_col, end_row, end_col); appends go to end_row at start_col.
    """
    end_col = grid.col_count if a1.end_col is None else a1.end_col
    end_row = len(grid.rows) if a1.end_row is None else min(a1.end_row, len(grid.rows))

    def filled(row: int) -> list[int]:
        line = grid.rows[row][a1.start_col:end_col]
        return [a1.start_col + col for col, cell in enumerate(line) if cell is not None]

    row = a1.start_row
    while row < end_row and not filled(row):
        row += 1
    if row >= end_row:
        return None
    top, columns = row, set[int]()
    while row < end_row and (cells := filled(row)):
        columns.update(cells)
        row += 1
    return top, min(columns), row, max(columns) + 1


_StructureHandler = Callable[[SheetsApi, dict[str, Any], dict[str, Any]], dict[str, Any]]
_STRUCTURE_REQUESTS: dict[str, _StructureHandler] = {
    "addSheet": SheetsApi._add_sheet_request,
    "deleteSheet": SheetsApi._delete_sheet_request,
    "updateSheetProperties": SheetsApi._update_sheet_properties,
    "updateSpreadsheetProperties": SheetsApi._update_spreadsheet_properties,
    "appendDimension": SheetsApi._append_dimension,
    "insertDimension": SheetsApi._insert_dimension,
    "deleteDimension": SheetsApi._delete_dimension,
    "repeatCell": SheetsApi._repeat_cell,
}
# Accepted and ignored: they change how a sheet looks, not what formsync reads.
_COSMETIC_REQUESTS = frozenset({
    "updateDimensionProperties", "autoResizeDimensions", "updateBorders", "setBasicFilter",
    "clearBasicFilter", "addProtectedRange", "deleteProtectedRange", "mergeCells",
    "unmergeCells", "setDataValidation", "addConditionalFormatRule", "addBanding",
})
