"""The Sheets emulator, driven by the real gspread + google-auth over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import gspread
import pytest
import requests

from formsync.config import Google
from formsync.emulator import Emulator, run_emulator
from formsync.emulator.a1 import A1Error, column_index, column_letters, format_range, parse_range
from formsync.emulator.testing import make_service_account
from formsync.google.auth import SCOPE_SHEETS
from formsync.google.transport import api_error, open_gspread_client

READONLY = "https://www.googleapis.com/auth/spreadsheets.readonly"


def seed(emulator: Emulator, sheets: dict[str, list[list[Any]]], **options: Any) -> str:
    emulator.sheets.create_spreadsheet("sheet-id", sheets, title="Study group", **options)
    return "sheet-id"


# -- A1 notation ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("'Sheet 1'", ("Sheet 1", 0, 0, None, None)),
    ("'It''s'!A1:C", ("It's", 0, 0, None, 3)),
    ("'Respuestas de formulario 1'!B2", ("Respuestas de formulario 1", 1, 1, 2, 2)),
    ("Sheet1!A:A", ("Sheet1", 0, 0, None, 1)),
    ("Sheet1!2:5", ("Sheet1", 1, 0, 5, None)),
    ("Sheet1!$B$2:$D$4", ("Sheet1", 1, 1, 4, 4)),
    ("C3:A1", (None, 0, 0, 3, 3)),
    ("Sheet1", ("Sheet1", 0, 0, None, None)),
    ("SHEET1", ("SHEET1", 0, 0, None, None)),  # a bare title, matched ignoring case
])
def test_a1_ranges_parse_like_the_api(text: str, expected: tuple[Any, ...]) -> None:
    parsed = parse_range(text, ["Sheet1", "Sheet 1"])
    assert (parsed.sheet, parsed.start_row, parsed.start_col, parsed.end_row,
            parsed.end_col) == expected


@pytest.mark.parametrize("text", ["'unclosed!A1", "Sheet1!A0", "Sheet1!", "A1:B2:C3", "!A1", ""])
def test_bad_a1_ranges_are_refused(text: str) -> None:
    with pytest.raises(A1Error):
        parse_range(text, ["Sheet1"])


def test_column_letters_round_trip_and_ranges_quote_only_when_needed() -> None:
    assert [column_letters(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert all(column_index(column_letters(i)) == i for i in range(2000))
    assert format_range("Sheet1", 0, 0, 3, 3) == "Sheet1!A1:C3"
    assert format_range("It's", 1, 1, 2, 2) == "'It''s'!B2"


# -- reading -------------------------------------------------------------------------------


def test_open_by_key_reads_title_worksheets_and_values(emulator: Emulator,
                                                       gspread_client: Any) -> None:
    key = seed(emulator, {"Form Responses 1": [["Email", "Name"], ["ana@example.com", "Ana"]],
                          "Members": []})
    book = gspread_client.open_by_key(key)
    assert book.title == "Study group"
    assert [ws.title for ws in book.worksheets()] == ["Form Responses 1", "Members"]
    assert book.sheet1.get_all_values() == [["Email", "Name"], ["ana@example.com", "Ana"]]
    assert (book.sheet1.row_count, book.sheet1.col_count) == (1000, 26)


def test_trailing_empty_rows_and_cells_are_dropped_and_empty_ranges_have_no_values(
        emulator: Emulator, gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet 1": [["a", "", ""], ["", "b", None], ["", "", ""], []]})
    book = gspread_client.open_by_key(key)
    answer = book.values_get("'Sheet 1'")
    assert answer == {"range": "'Sheet 1'!A1:Z1000", "majorDimension": "ROWS",
                      "values": [["a"], ["", "b"]]}
    empty = book.values_get("'Sheet 1'!D5:E9")
    assert "values" not in empty and empty["range"] == "'Sheet 1'!D5:E9"
    assert book.values_get("'Sheet 1'!A:B", params={"majorDimension": "COLUMNS"})["values"] == [
        ["a"], ["", "b"]]


def test_quoted_unicode_and_apostrophe_titles_work_through_gspread(
        emulator: Emulator, gspread_client: Any) -> None:
    key = seed(emulator, {"Respuestas de formulario 1": [["Correo"], ["eva@example.com"]],
                          "It's": [["x"]]})
    book = gspread_client.open_by_key(key)
    responses = book.worksheet("Respuestas de formulario 1")
    responses.update([["Nombre"]], "B1")
    book.worksheet("It's").update([["y"]], "A2")
    assert responses.get_all_values() == [["Correo", "Nombre"], ["eva@example.com", ""]]
    assert emulator.sheets.values(key, "It's") == [["x"], ["y"]]


def test_batch_get_returns_one_value_range_per_range_in_one_call(
        emulator: Emulator, gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": [["h1", "h2", "h3"], ["1", "2", "3"], ["4", "5", "6"]]})
    sheet = gspread_client.open_by_key(key).sheet1
    before = emulator.counts()
    first, second = sheet.batch_get(["A1:B", "C3"])
    assert (emulator.counts() - before)["sheets.values.batchGet"] == 1
    assert first == [["h1", "h2"], ["1", "2"], ["4", "5"]]
    assert first.range == "Sheet1!A1:B1000" and second.range == "Sheet1!C3"
    assert second.first() == "6"


def test_render_options_distinguish_numbers_booleans_and_formulas(
        emulator: Emulator, gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": []})
    sheet = gspread_client.open_by_key(key).sheet1
    sheet.update([["42", "3.50", "true", "=A1*2", "'007", "50%"]], "A1", raw=False)
    assert sheet.get_all_values() == [["42", "3.5", "TRUE", "=A1*2", "007", "0.5"]]
    assert sheet.get("A1:F1", value_render_option="UNFORMATTED_VALUE") == [
        [42, 3.5, True, "=A1*2", "007", 0.5]]
    assert emulator.sheets.cell(key, "Sheet1", "D1") == {"formula": "=A1*2"}


def test_spreadsheet_get_honours_fields(emulator: Emulator, gspread_client: Any) -> None:
    key = seed(emulator, {"A": [], "B": []})
    book = gspread_client.open_by_key(key)
    answer = book.fetch_sheet_metadata(params={"fields": "sheets(properties(sheetId,title))"})
    assert answer == {"sheets": [{"properties": {"sheetId": 0, "title": "A"}},
                                 {"properties": {"sheetId": answer["sheets"][1]["properties"][
                                     "sheetId"], "title": "B"}}]}


# -- writing -------------------------------------------------------------------------------


def test_raw_update_keeps_formula_looking_text_as_text(emulator: Emulator,
                                                       gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": [["Name"]]})
    sheet = gspread_client.open_by_key(key).sheet1
    sheet.update([['=IMPORTXML("http://x", "//a")', "007"]], "A2")  # gspread's default is RAW
    assert emulator.sheets.cell(key, "Sheet1", "A2") == '=IMPORTXML("http://x", "//a")'
    assert sheet.get("A2:B2", value_render_option="UNFORMATTED_VALUE") == [
        ['=IMPORTXML("http://x", "//a")', "007"]]


def test_nulls_in_written_values_leave_cells_and_empty_strings_clear_them(
        emulator: Emulator, gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": [["a", "b", "c"]]})
    sheet = gspread_client.open_by_key(key).sheet1
    sheet.batch_update([{"range": "A1:C1", "values": [[None, "", "C"]]}])
    assert emulator.sheets.values(key, "Sheet1") == [["a", "", "C"]]


def test_values_batch_update_writes_all_ranges_or_none(emulator: Emulator,
                                                       gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": [["a"]]}, rows=5, cols=4)
    sheet = gspread_client.open_by_key(key).sheet1
    result = sheet.batch_update([{"range": "B1", "values": [["b"]]},
                                 {"range": "C2:D2", "values": [["c", "d"]]}])
    assert result["totalUpdatedCells"] == 3
    assert emulator.sheets.values(key, "Sheet1") == [["a", "b"], ["", "", "c", "d"]]
    with pytest.raises(gspread.exceptions.APIError, match="exceeds grid limits"):
        sheet.batch_update([{"range": "A3", "values": [["never"]]},
                            {"range": "A9", "values": [["beyond"]]}])
    assert emulator.sheets.cell(key, "Sheet1", "A3") is None


def test_update_beyond_the_grid_is_refused_like_google(emulator: Emulator,
                                                       gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": []})
    sheet = gspread_client.open_by_key(key).sheet1
    with pytest.raises(gspread.exceptions.APIError) as raised:
        sheet.update([["x"]], "A1001")
    assert raised.value.code == 400
    assert raised.value.error["message"] == (
        "Range ('Sheet1'!A1001) exceeds grid limits. Max rows: 1000, max columns: 26")
    assert raised.value.error["status"] == "INVALID_ARGUMENT"


def test_update_larger_than_a_bounded_range_is_refused(emulator: Emulator,
                                                       gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": []})
    sheet = gspread_client.open_by_key(key).sheet1
    with pytest.raises(gspread.exceptions.APIError, match=r"tried writing to row \[3\]"):
        sheet.update([["1"], ["2"], ["3"]], "A1:A2")


def test_append_rows_goes_after_the_table_and_grows_the_grid(emulator: Emulator,
                                                             gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": [["Email", "Name"], ["a@x", "A"], ["b@x", "B"]]}, rows=3,
               cols=2)
    sheet = gspread_client.open_by_key(key).sheet1
    result = sheet.append_rows([["c@x", "C", "extra"], ["d@x", "D"]])
    assert result["tableRange"] == "Sheet1!A1:B3"
    assert result["updates"]["updatedRange"] == "Sheet1!A4:C5"
    assert emulator.sheets.grid_size(key, "Sheet1") == (5, 3)
    assert emulator.sheets.values(key, "Sheet1")[3:] == [["c@x", "C", "extra"], ["d@x", "D"]]


def test_append_with_insert_rows_shifts_what_is_below(emulator: Emulator,
                                                      gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": [["h"], ["1"], [], ["note below"]]}, rows=4, cols=1)
    sheet = gspread_client.open_by_key(key).sheet1
    sheet.append_rows([["2"]], insert_data_option="INSERT_ROWS", table_range="A1")
    assert emulator.sheets.values(key, "Sheet1") == [["h"], ["1"], ["2"], [], ["note below"]]
    assert emulator.sheets.grid_size(key, "Sheet1") == (5, 1)


def test_add_worksheet_then_write_and_read_it(emulator: Emulator, gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": []})
    book = gspread_client.open_by_key(key)
    added = book.add_worksheet("Reminders", rows=10, cols=7)
    added.update([["Kind", "Session"]], "A1")
    assert (added.row_count, added.col_count) == (10, 7)
    assert emulator.sheets.worksheet_titles(key) == ["Sheet1", "Reminders"]
    with pytest.raises(gspread.exceptions.APIError, match='"Reminders" already exists'):
        book.add_worksheet("Reminders", rows=1, cols=1)


def test_a_title_taken_under_another_case_is_refused_as_google_does(
        emulator: Emulator, gspread_client: Any) -> None:
    # Google's answer, as gspread users quote its APIError: {'code': 400, 'message': 'Invalid
    # requests[0].addSheet: A sheet with the name "Finance" already exists. Please enter
    # another name.', 'status': 'INVALID_ARGUMENT'} (the sentence also in
    # asimlqt/php-google-spreadsheet-client#170). Case does not make a title new:
    # socialpoint-labs/sheetfu PR #26, "trying to create 2 sheets with the same name but
    # different cases fails, wether you do it from the spreadsheet UI or the API".
    key = seed(emulator, {"Sessions": [], "members": []})
    book = gspread_client.open_by_key(key)
    with pytest.raises(gspread.exceptions.APIError) as raised:
        book.add_worksheet("Members", rows=10, cols=8)
    assert raised.value.error == {
        "code": 400, "status": "INVALID_ARGUMENT",
        "message": 'Invalid requests[0].addSheet: A sheet with the name "Members" already '
                   "exists. Please enter another name."}
    with pytest.raises(gspread.exceptions.APIError, match='"MEMBERS" already exists'):
        book.worksheet("Sessions").update_title("MEMBERS")
    book.worksheet("members").update_title("Members")  # its own title in another case is fine
    assert emulator.sheets.worksheet_titles(key) == ["Sessions", "Members"]


def test_a_range_names_its_sheet_ignoring_case_and_answers_with_the_real_title(
        emulator: Emulator, gspread_client: Any) -> None:
    # Evidence is indirect: appsmith's Sheets plugin puts the sheet name as typed into
    # values.append ranges, and appsmithorg/appsmith#5293 reports insert and update "not case
    # sensitive". Not seen in a recorded exchange; the answer's range title is our guess.
    key = seed(emulator, {"Sessions": [], "Members": [["Email"], ["ana@example.org"]]})
    book = gspread_client.open_by_key(key)
    answer = book.values_get("'members'!A1:A2")
    assert answer["range"] == "Members!A1:A2"
    assert answer["values"] == [["Email"], ["ana@example.org"]]
    book.values_append("MEMBERS!A1", {"valueInputOption": "RAW"},
                       {"values": [["luis@example.org"]]})
    assert emulator.sheets.values(key, "Members")[-1] == ["luis@example.org"]


def test_clear_empties_the_worksheet(emulator: Emulator, gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": [["a", "b"], ["c"]]})
    sheet = gspread_client.open_by_key(key).sheet1
    assert sheet.clear()["clearedRange"] == "Sheet1!A1:Z1000"
    assert emulator.sheets.values(key, "Sheet1") == []


# -- errors --------------------------------------------------------------------------------


def test_unknown_spreadsheet_is_404_and_becomes_a_clear_error(emulator: Emulator,
                                                              gspread_client: Any) -> None:
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound) as raised:
        gspread_client.open_by_key("no-such-id")
    response = raised.value.args[0]
    assert response.json() == {"error": {"code": 404, "message": "Requested entity was not found.",
                                         "status": "NOT_FOUND"}}
    error = api_error(response.status_code, response.content, url=response.url,
                      what="spreadsheet no-such-id (google.master_spreadsheet)")
    assert "Google Sheets API refused spreadsheet no-such-id" in str(error)
    assert "fix: check the id" in str(error)


def test_spreadsheet_not_shared_with_the_account_is_403(emulator: Emulator,
                                                        gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": []}, shared_with=["someone@example.com"])
    with pytest.raises(PermissionError) as raised:
        gspread_client.open_by_key(key)
    cause = raised.value.__cause__
    assert isinstance(cause, gspread.exceptions.APIError)
    assert cause.error["message"] == "The caller does not have permission"
    error = api_error(403, cause.response.content, url=cause.response.url, what="the sheet",
                      account="bot@example.iam.gserviceaccount.com")
    assert "share the sheet with bot@example.iam.gserviceaccount.com" in str(error)


def test_unparseable_range_and_unknown_sheet_are_400(emulator: Emulator,
                                                     gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": []})
    book = gspread_client.open_by_key(key)
    for bad in ("'Nope'!A1", "Sheet1!A0"):
        with pytest.raises(gspread.exceptions.APIError) as raised:
            book.values_get(bad)
        assert raised.value.error == {"code": 400, "message": f"Unable to parse range: {bad}",
                                      "status": "INVALID_ARGUMENT"}


def test_read_only_scope_cannot_write(emulator: Emulator, google_cfg: Google,
                                      service_account_info: dict[str, str],
                                      make_credentials: Any) -> None:
    key = seed(emulator, {"Sheet1": [["a"]]})
    credentials = make_credentials(service_account_info, scopes=(READONLY,))
    sheet = open_gspread_client(google_cfg, credentials).open_by_key(key).sheet1
    assert sheet.get_all_values() == [["a"]]
    with pytest.raises(gspread.exceptions.APIError) as raised:
        sheet.update([["b"]], "A1")
    assert raised.value.error["status"] == "PERMISSION_DENIED"
    assert raised.value.error["message"] == "Request had insufficient authentication scopes."


def test_calls_without_a_valid_token_get_googles_401(emulator: Emulator) -> None:
    seed(emulator, {"Sheet1": []})
    url = f"{emulator.base_url}/v4/spreadsheets/sheet-id"
    missing = requests.get(url, timeout=5)
    wrong = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert missing.status_code == wrong.status_code == 401
    assert wrong.json()["error"]["status"] == "UNAUTHENTICATED"
    assert wrong.json()["error"]["message"].startswith(
        "Request had invalid authentication credentials.")


# -- counters and state --------------------------------------------------------------------


def test_counters_separate_reads_from_writes(emulator: Emulator, gspread_client: Any) -> None:
    key = seed(emulator, {"Sheet1": []})
    sheet = gspread_client.open_by_key(key).sheet1
    before = emulator.counts()
    sheet.get_all_values()
    sheet.update([["x"]], "A1")
    sheet.append_rows([["y"]])
    step = (emulator.counts() - before).of("sheets")
    assert (step.reads, step.writes, step.total) == (1, 2, 3)
    assert step["sheets.values.append"] == 1


def test_state_saves_and_loads_as_json(emulator: Emulator, tmp_path: Path) -> None:
    seed(emulator, {"Sheet1": [["a", "=B1"]]}, value_input="USER_ENTERED")
    make_service_account(emulator)
    path = tmp_path / "state.json"
    emulator.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == 1
    with Emulator.load(path) as reloaded:
        assert reloaded.sheets.values("sheet-id", "Sheet1") == [["a", "=B1"]]
        assert reloaded.sheets.cell("sheet-id", "Sheet1", "B1") == {"formula": "=B1"}
        assert reloaded.base_url != ""


def test_spreadsheet_create_through_the_api(emulator: Emulator, gspread_client: Any) -> None:
    created = gspread_client.http_client.request(
        "post", "https://sheets.googleapis.com/v4/spreadsheets",
        json={"properties": {"title": "New"}}).json()
    assert created["properties"]["title"] == "New"
    assert emulator.sheets.worksheet_titles(created["spreadsheetId"]) == ["Sheet1"]


def test_scopes_and_delegated_subject_are_recorded_on_the_token(
        emulator: Emulator, service_account_info: dict[str, str], google_cfg: Google,
        make_credentials: Any) -> None:
    seed(emulator, {"Sheet1": []})
    cfg = google_cfg.model_copy(update={"subject": "organizer@example.com"})
    credentials = make_credentials(service_account_info, cfg=cfg)
    open_gspread_client(cfg, credentials).open_by_key("sheet-id")
    (token,) = emulator.oauth.issued_tokens()
    assert token.principal == token.subject == "organizer@example.com"
    assert token.client == service_account_info["client_email"]
    assert token.scopes == (SCOPE_SHEETS,)


def test_injected_quota_error_has_googles_body_and_retry_after(emulator: Emulator) -> None:
    seed(emulator, {"Sheet1": []})
    token = emulator.oauth.issue_token("bot@example.com", (SCOPE_SHEETS,))
    emulator.inject("/v4/spreadsheets/*", 429, retry_after=30)
    url = f"{emulator.base_url}/v4/spreadsheets/sheet-id"
    answer = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    error = answer.json()["error"]
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "30")
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert error["message"].startswith("Quota exceeded for quota metric 'Read requests' and "
                                       "limit 'Read requests per minute per user'")
    again = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert again.status_code == 200  # the fault was used up


def test_run_emulator_serves_writes_credentials_and_saves_state(tmp_path: Path) -> None:
    state, key = tmp_path / "state.json", tmp_path / "key.json"
    lines: list[str] = []
    stop = threading.Event()
    server = threading.Thread(target=run_emulator, args=("127.0.0.1", 0, state),
                              kwargs={"credentials_out": key, "echo": lines.append,
                                      "stop": stop})
    server.start()
    deadline = time.monotonic() + 5
    while len(lines) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    base_url = lines[0].rsplit(" ", 1)[1]
    assert requests.get(f"{base_url}/v4/spreadsheets/x", timeout=5).status_code == 401
    stop.set()
    server.join(timeout=5)
    assert json.loads(key.read_text(encoding="utf-8"))["token_uri"] == f"{base_url}/token"
    saved = json.loads(state.read_text(encoding="utf-8"))["data"]["oauth"]["service_accounts"]
    assert list(saved) == [json.loads(key.read_text(encoding="utf-8"))["client_email"]]
