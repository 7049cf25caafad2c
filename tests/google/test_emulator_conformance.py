"""Sheets v4 answers that Google gave gspread's test suite, replayed against the emulator.

Source: the public repository burnash/gspread, tests/cassettes/*.json (snapshot at commit
5e2b628da598151a5a4122d3cf7ba2704041643c): exchanges with sheets.googleapis.com that vcrpy
recorded in 2023, request, status and body. Each row of FACTS restates, in our own words, one
request and the fields of Google's answer, and names the cassette it was read from. Nothing of
the cassettes is copied here but those facts.

Every fact starts from a spreadsheet as Drive creates one (the recorded spreadsheets.get: one
'Sheet1', sheetId 0, 1000 rows × 26 columns), replays the cassette's earlier requests that shaped
it (`before`, which must succeed), then makes the request and compares the listed fields. A path
like "updates.updatedRange" or "values.1.0" walks the JSON answer; ABSENT means Google left the
key out. Where the emulator answers otherwise on purpose, the difference is a test in
test_emulator_differences.py instead.
"""

from __future__ import annotations

import importlib.resources
import json
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from formsync.emulator import Emulator
from formsync.emulator.sheets import _COSMETIC_REQUESTS, _STRUCTURE_REQUESTS

SCOPE = "https://www.googleapis.com/auth/spreadsheets"
ABSENT = object()  # the key is not in Google's answer


@dataclass(frozen=True)
class Call:
    """One Sheets request; `path` follows /v4/spreadsheets/{id}."""

    method: str
    path: str = ""
    query: tuple[tuple[str, str], ...] = ()
    body: Any = None


@dataclass(frozen=True)
class Fact:
    name: str
    cassette: str
    call: Call
    expect: Mapping[str, Any]
    status: int = 200
    before: tuple[Call, ...] = ()
    shared_with: tuple[str, ...] | None = None  # None: the caller may open the spreadsheet
    exists: bool = True


# -- building requests as gspread sends them --------------------------------------------------


def get_values(a1: str, **query: str) -> Call:
    return Call("GET", f"/values/{_quote(a1)}", tuple(query.items()))


def batch_get(*ranges: str) -> Call:
    return Call("GET", "/values:batchGet", tuple(("ranges", text) for text in ranges))


def put_values(a1: str, values: list[list[Any]], option: str = "RAW") -> Call:
    return Call("PUT", f"/values/{_quote(a1)}", (("valueInputOption", option),),
                {"values": values})


def append(a1: str, values: list[list[Any]], major: str = "ROWS") -> Call:
    return Call("POST", f"/values/{_quote(a1)}:append", (("valueInputOption", "RAW"),),
                {"majorDimension": major, "values": values})


def clear(a1: str) -> Call:
    return Call("POST", f"/values/{_quote(a1)}:clear")


def batch_update(*requests_: dict[str, Any]) -> Call:
    return Call("POST", ":batchUpdate", body={"requests": list(requests_)})


def resize(rows: int, cols: int) -> Call:
    return batch_update({"updateSheetProperties": {
        "properties": {"sheetId": 0, "gridProperties": {"rowCount": rows, "columnCount": cols}},
        "fields": "gridProperties/rowCount,gridProperties/columnCount"}})


def add_sheet(title: str, rows: int, cols: int, sheet_id: int | None = None) -> Call:
    properties: dict[str, Any] = {"title": title, "sheetType": "GRID",
                                  "gridProperties": {"rowCount": rows, "columnCount": cols}}
    if sheet_id is not None:  # the id Google chose in the recording, so later requests match
        properties["sheetId"] = sheet_id
    return batch_update({"addSheet": {"properties": properties}})


def update_sheet(sheet_id: int, fields: str, **properties: Any) -> Call:
    return batch_update({"updateSheetProperties": {
        "properties": {"sheetId": sheet_id, **properties}, "fields": fields}})


def dimension(kind: str, axis: str, start: int, end: int) -> Call:
    return batch_update({kind: {"range": {"sheetId": 0, "dimension": axis, "startIndex": start,
                                          "endIndex": end}}})


GET_SPREADSHEET = Call("GET", "", (("includeGridData", "false"),))


def _quote(a1: str) -> str:
    return urllib.parse.quote(a1, safe="")


def _lines(prefix: str, first: int, count: int, width: int) -> list[list[str]]:
    """gspread's test data: "prefix 1", "prefix 2", ... filled row by row."""
    return [[f"{prefix} {first + row * width + col}" for col in range(width)]
            for row in range(count)]


# -- data the cassettes wrote ----------------------------------------------------------------

GRID_4X4 = [["A1", "B1", "", "D1"], ["", "b2", "", ""], ["", "", "", ""], ["A4", "B4", "", "D4"]]
GRID_4X4_READ = [["A1", "B1", "", "D1"], ["", "b2"], [], ["A4", "B4", "", "D4"]]
CACTUS = "\U0001f335 test_values_get 1"
CACTUS_BATCH = "\U0001f335 test_values_batch_get 1"
FRUIT = [["\U0001f347", "\U0001f349", "\U0001f34b"], ["\U0001f350", "\U0001f34e", "\U0001f353"]]
RENDER_DATA = [["=4/2", "2020-01-01", "string", 53], ["=3/2", 0.12, "1999-01-02", ""]]
RENDER_BEFORE = (resize(2, 4), put_values("'Sheet1'!A1:D2", RENDER_DATA, "USER_ENTERED"))
ROW_OF_10 = _lines("test_append_row", 1, 1, 10)
DELETE_ROWS = [_lines("test_delete_row", 1 + 10 * n, 1, 10) for n in range(3)]
COLS_6X4 = _lines("test_delete_cols", 1, 6, 4)
INSERT_ROWS_6X4 = _lines("test_insert_row", 1, 6, 4)
INSERT_COLS_6X4 = _lines("test_insert_cols", 1, 6, 4)
SPARSE = [["test_update_cells_noncontiguous 25 top_left", None, None, None],
          *[[None] * 4 for _ in range(4)],
          [None, None, None, "test_update_cells_noncontiguous 26 bottom_right"]]
EMPTY_GAP = ["test_append_row_with_empty_value 1", "", "test_append_row_with_empty_value 3"]

W = "WorksheetTest."
S = "SpreadsheetTest."
C = "ClientTest."
RENDER_CASSETTE = W + "test_get_all_records_value_render_options.json"

FACTS: list[Fact] = [
    # -- values.get / batchGet: range echoes, trimming, empty ranges ------------------------
    Fact("clear of a whole sheet names its grid", W + "test_append_row.json",
         clear("'Sheet1'"), {"clearedRange": "Sheet1!A1:Z1000"}),
    Fact("a whole empty sheet: its grid as the range, no values", W + "test_clear.json",
         get_values("'Sheet1'"),
         {"range": "Sheet1!A1:Z1000", "majorDimension": "ROWS", "values": ABSENT}),
    Fact("an open-ended column range ends at the last row", W + "test_range_unbounded.json",
         get_values("'Sheet1'!A1:C"), {"range": "Sheet1!A1:C1000", "values": ABSENT}),
    Fact("a bounded empty range echoes as asked", W + "test_range.json",
         get_values("'Sheet1'!A1:A5"), {"range": "Sheet1!A1:A5", "values": ABSENT}),
    Fact("one empty cell: a single-cell range, no values", W + "test_acell.json",
         get_values("'Sheet1'!A1", valueRenderOption="FORMATTED_VALUE"),
         {"range": "Sheet1!A1", "majorDimension": "ROWS", "values": ABSENT}),
    Fact("a reversed range is echoed top-left first",
         W + "test_update_works_with_swapped_values_and_range.json",
         get_values("'Sheet1'!D4:A1"), {"range": "Sheet1!A1:D4", "values": GRID_4X4_READ},
         before=(put_values("'Sheet1'!A1", GRID_4X4),)),
    Fact("an open-ended row range ends at the last column", W + "test_append_row.json",
         get_values("'Sheet1'!A1:1"), {"range": "Sheet1!A1:Z1", "values": ROW_OF_10},
         before=(append("'Sheet1'", ROW_OF_10),)),
    Fact("trailing empty cells and rows are trimmed, inner empty rows kept as []",
         W + "test_get_all_values.json", get_values("'Sheet1'"),
         {"range": "Sheet1!A1:D4", "majorDimension": "ROWS", "values": GRID_4X4_READ},
         before=(resize(4, 4), put_values("'Sheet1'!A1:D4", GRID_4X4))),
    Fact("leading empties stay, trailing ones go",
         W + "test_get_returns_ValueRange_with_metadata.json",
         get_values("'Sheet1'!A1:D4"),
         {"range": "Sheet1!A1:D4", "values": [["1"], [], [], ["", "", "", "2"]]},
         before=(resize(4, 4), put_values("'Sheet1'!A1:D4", [
             ["1", "", "", ""], ["", "", "", ""], ["", "", "", ""], ["", "", "", "2"]]))),
    Fact("a range inside a larger grid is cut to its own trimmed data",
         W + "test_get_values_and_maintain_size.json", get_values("'Sheet1'!A1:D4"),
         {"range": "Sheet1!A1:D4", "values": [["1", "2"], ["3", "4"], ["5", "6"]]},
         before=(resize(5, 5), put_values("'Sheet1'!A1:E5", [
             ["1", "2", "", "", ""], ["3", "4", "", "", ""], ["5", "6", "", "", ""],
             [""] * 5, [""] * 5]))),
    Fact("a title that looks like a cell is quoted in answers",
         W + "test_get_all_values_title_is_a1_notation.json", get_values("'D3'"),
         {"range": "'D3'!A1:D4", "values": GRID_4X4_READ},
         before=(resize(4, 4), update_sheet(0, "title", title="D3"),
                 put_values("'D3'!A1:D4", GRID_4X4))),
    Fact("a non-ASCII title, unquoted in the request, is quoted in the answer",
         S + "test_values_get.json", get_values(CACTUS),
         {"range": f"'{CACTUS}'!A1:J10", "values": FRUIT},
         before=(add_sheet(CACTUS, 10, 10), put_values(f"{CACTUS}!A1", FRUIT))),
    Fact("batchGet answers one ValueRange per range, in order",
         S + "test_values_batch_get.json",
         batch_get(f"{CACTUS_BATCH}!A:A", f"{CACTUS_BATCH}!B:B", f"{CACTUS_BATCH}!C:C"),
         {"valueRanges.0.range": f"'{CACTUS_BATCH}'!A1:A10",
          "valueRanges.0.values": [[FRUIT[0][0]], [FRUIT[1][0]]],
          "valueRanges.2.range": f"'{CACTUS_BATCH}'!C1:C10",
          "valueRanges.2.majorDimension": "ROWS",
          "valueRanges.2.values": [[FRUIT[0][2]], [FRUIT[1][2]]]},
         before=(add_sheet(CACTUS_BATCH, 10, 10), put_values(f"{CACTUS_BATCH}!A1", FRUIT))),
    Fact("batchGet trims each range on its own", W + "test_batch_get.json",
         batch_get("'Sheet1'!A1:B1", "'Sheet1'!B4:D4"),
         {"valueRanges": [
             {"range": "Sheet1!A1:B1", "majorDimension": "ROWS", "values": [["A1", "B1"]]},
             {"range": "Sheet1!B4:D4", "majorDimension": "ROWS", "values": [["B4", "", "D4"]]}]},
         before=(put_values("'Sheet1'!A1", GRID_4X4),)),
    Fact("majorDimension COLUMNS returns columns", W + "test_delete_cols.json",
         get_values("'Sheet1'!A1:A", valueRenderOption="FORMATTED_VALUE",
                    majorDimension="COLUMNS"),
         {"range": "Sheet1!A1:A1000", "majorDimension": "COLUMNS",
          "values": [[line[0] for line in COLS_6X4]]},
         before=(put_values("'Sheet1'!A1:D6", COLS_6X4),)),
    Fact("deleted columns shift the rest left", W + "test_delete_cols.json",
         get_values("'Sheet1'!B1:B", majorDimension="COLUMNS"),
         {"range": "Sheet1!B1:B1000", "values": [[line[3] for line in COLS_6X4]]},
         before=(put_values("'Sheet1'!A1:D6", COLS_6X4),
                 dimension("deleteDimension", "COLUMNS", 1, 3))),
    Fact("deleted rows shift the rest up", W + "test_delete_row.json",
         get_values("'Sheet1'!A2:2"), {"range": "Sheet1!A2:Z2", "values": DELETE_ROWS[2]},
         before=(*(append("'Sheet1'", row) for row in DELETE_ROWS),
                 dimension("deleteDimension", "ROWS", 1, 2))),
    # -- valueRenderOption ---------------------------------------------------------------------
    Fact("FORMATTED_VALUE renders numbers as text", RENDER_CASSETTE,
         get_values("'Sheet1'"),
         {"range": "Sheet1!A1:D2", "values.0.2": "string", "values.0.3": "53",
          "values.1.1": "0.12"}, before=RENDER_BEFORE),
    Fact("UNFORMATTED_VALUE gives numbers", RENDER_CASSETTE,
         get_values("'Sheet1'", valueRenderOption="UNFORMATTED_VALUE"),
         {"values.0.2": "string", "values.0.3": 53, "values.1.1": 0.12}, before=RENDER_BEFORE),
    Fact("FORMULA gives the formula text", RENDER_CASSETTE,
         get_values("'Sheet1'", valueRenderOption="FORMULA"),
         {"values.0.0": "=4/2", "values.0.3": 53, "values.1.0": "=3/2"}, before=RENDER_BEFORE),
    Fact("RAW numbers read back formatted, ragged",
         W + "test_get_all_records_with_blank_final_headers.json",
         get_values("'Sheet1'"),
         {"range": "Sheet1!A1:D4",
          "values": [["A1", "faff"], ["1", "b2", "1.45"], [], ["A4", "0.4", "", "4"]]},
         before=(resize(4, 4), put_values("'Sheet1'!A1:D4", [
             ["A1", "faff", "", ""], [1, "b2", 1.45, ""], ["", "", "", ""], ["A4", 0.4, "", 4]]))),
    Fact("USER_ENTERED '0042' is the number 42", W + "test_update_cell.json",
         get_values("'Sheet1'!B1", valueRenderOption="FORMATTED_VALUE"),
         {"range": "Sheet1!B1", "values": [["42"]]},
         before=(put_values("'Sheet1'!B1", [["0042"]], "USER_ENTERED"),)),
    Fact("USER_ENTERED 42.01 reads back as '42.01'", W + "test_update_cell.json",
         get_values("'Sheet1'!B1", valueRenderOption="FORMATTED_VALUE"),
         {"values": [["42.01"]]},
         before=(put_values("'Sheet1'!B1", [[42.01]], "USER_ENTERED"),)),
    Fact("a formula moves with an inserted row", W + "test_insert_row.json",
         get_values("'Sheet1'!B3", valueRenderOption="FORMULA"),
         {"range": "Sheet1!B3", "values": [["=1+1"]]},
         before=(put_values("'Sheet1'!B2", [["=1+1"]], "USER_ENTERED"),
                 dimension("insertDimension", "ROWS", 0, 1))),
    # -- values.update / batchUpdate / batchClear ---------------------------------------------
    Fact("update from one cell: the written rectangle; empty strings count as cells",
         W + "test_update_and_get.json", put_values("'Sheet1'!A1", GRID_4X4),
         {"updatedRange": "Sheet1!A1:D4", "updatedRows": 4, "updatedColumns": 4,
          "updatedCells": 16}),
    Fact("a single-cell update names one cell", W + "test_update_acell.json",
         put_values("'Sheet1'!A2", [["test_update_acell 1"]], "USER_ENTERED"),
         {"updatedRange": "Sheet1!A2", "updatedRows": 1, "updatedColumns": 1,
          "updatedCells": 1}),
    Fact("nulls are skipped: only rows and columns with a written cell count",
         W + "test_update_cells_noncontiguous.json", put_values("'Sheet1'!A1:D6", SPARSE),
         {"updatedRange": "Sheet1!A1:D6", "updatedRows": 2, "updatedColumns": 2,
          "updatedCells": 2},
         before=(put_values("'Sheet1'!A1:D6", _lines("test_update_cells_noncontiguous", 1, 6,
                                                      4)),)),
    Fact("nulls on a diagonal", W + "test_update_cell_objects.json",
         put_values("'Sheet1'!A1:B2", [[None, "cell row 1, col 2"], ["cell row 2 col 1", None]]),
         {"updatedRange": "Sheet1!A1:B2", "updatedRows": 2, "updatedColumns": 2,
          "updatedCells": 2}),
    Fact("values.batchUpdate totals and per-range answers", W + "test_batch_update.json",
         Call("POST", "/values:batchUpdate", body={"valueInputOption": "RAW", "data": [
             {"range": "'Sheet1'!A1:D1", "values": [GRID_4X4[0]]},
             {"range": "'Sheet1'!A4:D4", "values": [GRID_4X4[3]]}]}),
         {"totalUpdatedRows": 2, "totalUpdatedColumns": 4, "totalUpdatedCells": 8,
          "totalUpdatedSheets": 1,
          "responses.0.updatedRange": "Sheet1!A1:D1", "responses.0.updatedCells": 4,
          "responses.1.updatedRange": "Sheet1!A4:D4", "responses.1.updatedRows": 1,
          "responses.1.updatedColumns": 4}),
    Fact("batchClear echoes each cleared range", W + "test_batch_clear.json",
         Call("POST", "/values:batchClear", body={"ranges": ["'Sheet1'!A1:B1", "'Sheet1'!C2:E2"]}),
         {"clearedRanges": ["Sheet1!A1:B1", "Sheet1!C2:E2"]},
         before=(put_values("'Sheet1'!A1:B1", [["12345", "ThisIsText"]]),
                 put_values("'Sheet1'!C2:E2", [["5678", "Second", "Text"]]))),
    # -- values.append ---------------------------------------------------------------------------
    Fact("append to an empty sheet: no tableRange, written from A1", W + "test_append_row.json",
         append("'Sheet1'", ROW_OF_10),
         {"tableRange": ABSENT, "updates.updatedRange": "Sheet1!A1:J1",
          "updates.updatedRows": 1, "updates.updatedColumns": 10, "updates.updatedCells": 10}),
    Fact("an empty string in an appended row is a cell",
         W + "test_append_row_with_empty_value.json",
         append("'Sheet1'", [EMPTY_GAP]),
         {"updates.updatedRange": "Sheet1!A1:C1", "updates.updatedCells": 3}),
    Fact("append after a table: tableRange and the row below", W + "test_delete_row.json",
         append("'Sheet1'", DELETE_ROWS[2]),
         {"tableRange": "Sheet1!A1:J2", "updates.updatedRange": "Sheet1!A3:J3",
          "updates.updatedRows": 1, "updates.updatedCells": 10},
         before=tuple(append("'Sheet1'", row) for row in DELETE_ROWS[:2])),
    Fact("append anchored at a filled cell goes below it",
         W + "test_append_row_with_empty_value_and_table_range.json",
         append("'Sheet1'!A1", [EMPTY_GAP]), {"updates.updatedRange": "Sheet1!A2:C2"},
         before=(append("'Sheet1'", [EMPTY_GAP]),)),
    Fact("append anchored at an empty row writes there, though a table follows",
         W + "test_insert_row.json", append("'Sheet1'!A2", _lines("test_insert_row", 25, 1, 8)),
         {"tableRange": ABSENT, "updates.updatedRange": "Sheet1!A2:H2",
          "updates.updatedRows": 1, "updates.updatedColumns": 8, "updates.updatedCells": 8},
         before=(put_values("'Sheet1'!A1:D6", INSERT_ROWS_6X4),
                 dimension("insertDimension", "ROWS", 1, 2))),
    Fact("append of columns anchored at an empty column writes there",
         W + "test_insert_cols.json",
         append("'Sheet1'!B1", _lines("test_insert_cols", 25, 2, 4), major="COLUMNS"),
         {"tableRange": ABSENT, "updates.updatedRange": "Sheet1!B1:C4",
          "updates.updatedRows": 4, "updates.updatedColumns": 2, "updates.updatedCells": 8},
         before=(put_values("'Sheet1'!A1:D6", INSERT_COLS_6X4),
                 dimension("insertDimension", "COLUMNS", 1, 3))),
    # -- spreadsheets.get / batchUpdate --------------------------------------------------------
    Fact("a new spreadsheet: one Sheet1 of 1000 x 26", W + "test_acell.json", GET_SPREADSHEET,
         {"sheets": [{"properties": {"sheetId": 0, "title": "Sheet1", "index": 0,
                                     "sheetType": "GRID",
                                     "gridProperties": {"rowCount": 1000, "columnCount": 26}}}],
          "properties.locale": "en_US", "properties.autoRecalc": "ON_CHANGE",
          "properties.timeZone": "Etc/GMT",
          "properties.defaultFormat.verticalAlignment": "BOTTOM",
          "properties.defaultFormat.wrapStrategy": "OVERFLOW_CELL"}),
    Fact("addSheet replies with the new sheet's properties", S + "test_add_del_worksheet.json",
         add_sheet("test_add_del_worksheet 1", 1, 1),
         {"replies.0.addSheet.properties.title": "test_add_del_worksheet 1",
          "replies.0.addSheet.properties.index": 1,
          "replies.0.addSheet.properties.sheetType": "GRID",
          "replies.0.addSheet.properties.gridProperties": {"rowCount": 1, "columnCount": 1}}),
    Fact("deleteSheet replies with an empty object", S + "test_add_del_worksheet.json",
         batch_update({"deleteSheet": {"sheetId": 2073684913}}), {"replies": [{}]},
         before=(add_sheet("test_add_del_worksheet 1", 1, 1, sheet_id=2073684913),)),
    Fact("a field mask with slashes resizes the grid", W + "test_resize.json", GET_SPREADSHEET,
         {"sheets.0.properties.gridProperties": {"rowCount": 1010, "columnCount": 36}},
         before=(update_sheet(0, "gridProperties/rowCount", gridProperties={"rowCount": 1010}),
                 update_sheet(0, "gridProperties/columnCount",
                              gridProperties={"columnCount": 36}))),
    Fact("frozen rows and columns show in gridProperties", W + "test_freeze.json",
         GET_SPREADSHEET,
         {"sheets.0.properties.gridProperties": {"rowCount": 1000, "columnCount": 26,
                                                 "frozenRowCount": 2, "frozenColumnCount": 1}},
         before=(update_sheet(0, "gridProperties/frozenRowCount",
                              gridProperties={"frozenRowCount": 2}),
                 update_sheet(0, "gridProperties/frozenColumnCount",
                              gridProperties={"frozenColumnCount": 1}))),
    Fact("unfreezing drops the keys", W + "test_freeze.json", GET_SPREADSHEET,
         {"sheets.0.properties.gridProperties": {"rowCount": 1000, "columnCount": 26}},
         before=(update_sheet(0, "gridProperties/frozenRowCount",
                              gridProperties={"frozenRowCount": 2}),
                 update_sheet(0, "gridProperties/frozenRowCount,gridProperties/frozenColumnCount",
                              gridProperties={"frozenRowCount": 0, "frozenColumnCount": 0}))),
    Fact("a new index moves the sheet and renumbers the others",
         W + "test_worksheet_update_index.json", GET_SPREADSHEET,
         {"sheets.0.properties.title": "test_sheet 2", "sheets.0.properties.index": 0,
          "sheets.1.properties.title": "Sheet1", "sheets.1.properties.index": 1,
          "sheets.2.properties.title": "test_sheet", "sheets.2.properties.index": 2},
         before=(add_sheet("test_sheet", 100, 100), add_sheet("test_sheet 2", 100, 100,
                                                               sheet_id=905329856),
                 update_sheet(905329856, "index", index=0))),
    Fact("a renamed sheet shows its new title", W + "test_update_title.json", GET_SPREADSHEET,
         {"sheets.0.properties.title": "I'm a new title"},
         before=(update_sheet(0, "title", title="I'm a new title"),)),
    Fact("a hidden sheet says hidden: true", W + "test_hide_show_worksheet.json",
         GET_SPREADSHEET, {"sheets.1.properties.hidden": True},
         before=(add_sheet("you cannot see me", 2, 2, sheet_id=1513170215),
                 update_sheet(1513170215, "hidden", hidden=True))),
    Fact("an unhidden sheet drops the key", W + "test_hide_show_worksheet.json",
         GET_SPREADSHEET, {"sheets.1.properties.hidden": ABSENT},
         before=(add_sheet("you cannot see me", 2, 2, sheet_id=1513170215),
                 update_sheet(1513170215, "hidden", hidden=True),
                 update_sheet(1513170215, "hidden", hidden=False))),
    # -- errors ------------------------------------------------------------------------------
    Fact("hiding the only visible sheet is refused", W + "test_hide_show_worksheet.json",
         update_sheet(0, "hidden", hidden=True),
         {"error.code": 400, "error.status": "INVALID_ARGUMENT",
          "error.message": "Invalid requests[0].updateSheetProperties: You can't hide all the "
                           "sheets in a document."}, status=400),
    Fact("values that are not a list of lists", W + "test_add_validation.json",
         Call("PUT", "/values/%27Sheet1%27%21A1", (("valueInputOption", "RAW"),),
              {"values": "X", "majorDimension": None}),
         {"error.code": 400, "error.status": "INVALID_ARGUMENT",
          "error.message": "Invalid value at 'data.values' "
                           "(type.googleapis.com/google.protobuf.ListValue), \"X\"",
          "error.details.0.@type": "type.googleapis.com/google.rpc.BadRequest",
          "error.details.0.fieldViolations.0.field": "data.values"}, status=400),
    Fact("a spreadsheet that does not exist", C + "test_access_non_existing_spreadsheet.json",
         GET_SPREADSHEET, {"error": {"code": 404, "message": "Requested entity was not found.",
                                     "status": "NOT_FOUND"}}, status=404, exists=False),
    Fact("a spreadsheet not shared with the caller", C + "test_access_private_spreadsheet.json",
         GET_SPREADSHEET, {"error": {"code": 403, "message": "The caller does not have permission",
                                     "status": "PERMISSION_DENIED"}},
         status=403, shared_with=("owner@example.com",)),
]

# -- running the table -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def running() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def session(running: Emulator) -> Iterator[requests.Session]:
    token = running.oauth.issue_token("conformance@example.com", (SCOPE,))
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        yield http


def send(emulator: Emulator, http: requests.Session, spreadsheet_id: str,
         call: Call) -> requests.Response:
    url = f"{emulator.base_url}/v4/spreadsheets/{spreadsheet_id}{call.path}"
    return http.request(call.method, url, params=list(call.query),
                        json=call.body if call.body is not None else None, timeout=10)


def field_at(answer: Any, path: str) -> Any:
    """The value at a dotted path ("values.1.0"), or ABSENT."""
    value = answer
    for step in path.split("."):
        if isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        elif isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return ABSENT
    return value


def check(emulator: Emulator, http: requests.Session, fact: Fact, spreadsheet_id: str) -> None:
    if fact.exists:
        emulator.sheets.create_spreadsheet(spreadsheet_id, {"Sheet1": []}, title=fact.name,
                                           shared_with=fact.shared_with)
    for number, call in enumerate(fact.before):
        answer = send(emulator, http, spreadsheet_id, call)
        assert answer.status_code == 200, f"before[{number}] {call}: {answer.text}"
    answer = send(emulator, http, spreadsheet_id, fact.call)
    assert answer.status_code == fact.status, answer.text
    body = answer.json()
    seen = {path: field_at(body, path) for path in fact.expect}
    assert seen == dict(fact.expect), f"{fact.cassette}: {body}"


@pytest.mark.parametrize("fact", FACTS, ids=[fact.name for fact in FACTS])
def test_emulator_answers_as_google_did(running: Emulator, session: requests.Session,
                                        fact: Fact) -> None:
    check(running, session, fact, f"conformance-{FACTS.index(fact)}")


def test_every_batch_update_request_kind_the_emulator_accepts_is_one_google_knows() -> None:
    """Checked against the Request schema of sheets.v4.json, the discovery document that
    google-api-python-client ships; any other kind Google refuses as an unknown name."""
    documents = importlib.resources.files("googleapiclient.discovery_cache") / "documents"
    discovery = json.loads((documents / "sheets.v4.json").read_text(encoding="utf-8"))
    known = set(discovery["schemas"]["Request"]["properties"])
    assert {*_STRUCTURE_REQUESTS, *_COSMETIC_REQUESTS} <= known
