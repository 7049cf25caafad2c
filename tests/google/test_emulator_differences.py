"""Every known difference between the loopback emulator and Google, each with a test.

Each test shows what the emulator does today; its docstring says what Google does and where
that was seen. "gspread cassette X" means burnash/gspread tests/cassettes/X.json (snapshot
5e2b628da598151a5a4122d3cf7ba2704041643c), Google's real answers recorded in 2023; the
conformance table in test_emulator_conformance.py checks the answers that do match. When a
difference is removed, its test fails: move the fact into the conformance table then.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any, cast

import pytest
import requests

from formsync.emulator import Emulator
from formsync.emulator.gmail import GmailApi

SHEETS = "https://www.googleapis.com/auth/spreadsheets"
CALENDAR = "https://www.googleapis.com/auth/calendar"
GMAIL = "https://mail.google.com/"
ORGANIZER = "organizer@example.com"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture
def http(emulator: Emulator) -> Iterator[requests.Session]:
    """A session that speaks for the organizer on every API the emulator serves."""
    token = emulator.oauth.issue_token(ORGANIZER, (SHEETS, CALENDAR, GMAIL))
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        yield session


def call(emulator: Emulator, http: requests.Session, method: str, path: str,
         body: Any = None, **query: str) -> requests.Response:
    return http.request(method, emulator.base_url + path, params=query, json=body, timeout=10)


# -- Sheets -----------------------------------------------------------------------------------

BOOK = "/v4/spreadsheets/book"


def values(a1: str, suffix: str = "") -> str:
    return f"{BOOK}/values/{urllib.parse.quote(a1, safe='')}{suffix}"


@pytest.fixture
def book(emulator: Emulator) -> str:
    """A spreadsheet as Drive creates one: a single 'Sheet1' of 1000 × 26."""
    emulator.sheets.create_spreadsheet("book", {"Sheet1": []})
    return "book"


def write(emulator: Emulator, http: requests.Session, a1: str, rows: list[list[Any]],
          option: str = "USER_ENTERED") -> None:
    answer = call(emulator, http, "PUT", values(a1), {"values": rows}, valueInputOption=option)
    assert answer.status_code == 200, answer.text


def read(emulator: Emulator, http: requests.Session, a1: str, **query: str) -> Any:
    answer = call(emulator, http, "GET", values(a1), **query)
    assert answer.status_code == 200, answer.text
    return answer.json().get("values")


def batch_update(emulator: Emulator, http: requests.Session, *requests_: Any) -> Any:
    answer = call(emulator, http, "POST", f"{BOOK}:batchUpdate", {"requests": list(requests_)})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_formulas_are_stored_not_evaluated(emulator: Emulator, http: requests.Session,
                                           book: str) -> None:
    """Google evaluates formulas: "=4/2" reads "2" (FORMATTED_VALUE) and 2
    (UNFORMATTED_VALUE); "= 1 / 1024" reads "0.0009765625". Only FORMULA gives the text.
    Source: gspread cassettes WorksheetTest.test_get_all_records_value_render_options and
    CellTest.test_numeric_value. The emulator returns the formula text for every option."""
    write(emulator, http, "Sheet1!A1:B1", [["=4/2", "= 1 / 1024"]])
    assert read(emulator, http, "Sheet1!A1:B1") == [["=4/2", "= 1 / 1024"]]
    assert read(emulator, http, "Sheet1!A1", valueRenderOption="UNFORMATTED_VALUE") == [["=4/2"]]
    assert read(emulator, http, "Sheet1!A1", valueRenderOption="FORMULA") == [["=4/2"]]


def test_dates_typed_as_user_entered_stay_text(emulator: Emulator, http: requests.Session,
                                               book: str) -> None:
    """Google parses "2020-01-01" typed as USER_ENTERED into a date: UNFORMATTED_VALUE and
    FORMULA give the serial number 43831 unless dateTimeRenderOption=FORMATTED_STRING, and
    FORMATTED_VALUE gives "2020-01-01". Source: gspread cassettes
    WorksheetTest.test_get_all_records_value_render_options and
    WorksheetTest.test_get_all_values_date_time_render_options. The emulator keeps the text
    and ignores dateTimeRenderOption."""
    write(emulator, http, "Sheet1!A1", [["2020-01-01"]])
    for option in ("UNFORMATTED_VALUE", "FORMULA"):
        assert read(emulator, http, "Sheet1!A1", valueRenderOption=option,
                    dateTimeRenderOption="SERIAL_NUMBER") == [["2020-01-01"]]
    assert read(emulator, http, "Sheet1!A1") == [["2020-01-01"]]


def test_a_number_format_does_not_change_the_formatted_value(
        emulator: Emulator, http: requests.Session, book: str) -> None:
    """Google renders FORMATTED_VALUE "according to the cell's formatting" (API reference,
    ValueRenderOption), so a CURRENCY format shows 1.5 as "$1.50". The emulator keeps number
    formats only to store USER_ENTERED text as typed in plain-text (TEXT) columns; other
    formats are ignored and numbers render plainly."""
    batch_update(emulator, http, {"repeatCell": {
        "range": {"sheetId": 0, "startColumnIndex": 0, "endColumnIndex": 1},
        "cell": {"userEnteredFormat": {"numberFormat": {"type": "CURRENCY",
                                                        "pattern": "$#,##0.00"}}},
        "fields": "userEnteredFormat.numberFormat"}})
    write(emulator, http, "Sheet1!A1", [[1.5]])
    assert read(emulator, http, "Sheet1!A1") == [["1.5"]]


def append(emulator: Emulator, http: requests.Session, a1: str, rows: list[list[Any]]) -> Any:
    answer = call(emulator, http, "POST", values(a1, ":append"), {"values": rows},
                  valueInputOption="RAW")
    assert answer.status_code == 200, answer.text
    return answer.json()


GAP_ROW = [["first", "", "third"]]


def test_append_over_a_whole_sheet_treats_a_row_with_a_gap_as_one_table(
        emulator: Emulator, http: requests.Session, book: str) -> None:
    """Google split the row "first", "", "third" at the gap: appending to 'Sheet1' answered
    tableRange "Sheet1!C1" and wrote at C2:E2, under the last piece. Source: gspread cassette
    WorksheetTest.test_append_row_with_empty_value. The emulator's table is every filled
    column of the first run of rows: tableRange A1:C1, written at A2:C2. One recording does
    not tell Google's rule, so the emulator keeps the simpler one."""
    append(emulator, http, "'Sheet1'", GAP_ROW)
    answer = append(emulator, http, "'Sheet1'", GAP_ROW)
    assert answer["tableRange"] == "Sheet1!A1:C1"
    assert answer["updates"]["updatedRange"] == "Sheet1!A2:C2"


def test_append_anchored_at_a_cell_reports_the_table_across_the_gap(
        emulator: Emulator, http: requests.Session, book: str) -> None:
    """Appending the same row at 'Sheet1'!A1, Google answered tableRange "Sheet1!A1" (the
    table stops at the empty B1) and wrote A2:C2, as the emulator does. Source: gspread
    cassette WorksheetTest.test_append_row_with_empty_value_and_table_range. Only the
    emulator's tableRange differs."""
    append(emulator, http, "'Sheet1'", GAP_ROW)
    answer = append(emulator, http, "'Sheet1'!A1", GAP_ROW)
    assert answer["tableRange"] == "Sheet1!A1:C1"
    assert answer["updates"]["updatedRange"] == "Sheet1!A2:C2"


def test_spreadsheet_properties_leave_out_formats_and_theme(
        emulator: Emulator, http: requests.Session, book: str) -> None:
    """Google's spreadsheets.get carries a full defaultFormat (backgroundColor, padding,
    textFormat with fontFamily "arial,sans,sans-serif" and fontSize 10, backgroundColorStyle)
    and a spreadsheetTheme. Source: every spreadsheets.get in the gspread cassettes, e.g.
    WorksheetTest.test_acell. The emulator gives the fields formsync reads and two of the
    defaultFormat ones."""
    properties = call(emulator, http, "GET", BOOK).json()["properties"]
    assert "spreadsheetTheme" not in properties
    assert properties["defaultFormat"] == {"verticalAlignment": "BOTTOM",
                                           "wrapStrategy": "OVERFLOW_CELL"}


def test_a_new_sheet_id_comes_from_its_title(emulator: Emulator, http: requests.Session,
                                             book: str) -> None:
    """Google picks a new sheet's id at random: two recordings of the same test added
    "test_add_del_worksheet 1" as 1877059582 and as 2073684913. Source: gspread cassette
    SpreadsheetTest.test_add_del_worksheet. The emulator derives it from the title, so ids
    repeat across runs (and tests can rely on nothing more than "a non-zero int")."""
    first = _add_and_delete(emulator, http, "test_add_del_worksheet 1")
    assert _add_and_delete(emulator, http, "test_add_del_worksheet 1") == first


def _add_and_delete(emulator: Emulator, http: requests.Session, title: str) -> int:
    added = batch_update(emulator, http, {"addSheet": {"properties": {"title": title}}})
    sheet_id = int(added["replies"][0]["addSheet"]["properties"]["sheetId"])
    batch_update(emulator, http, {"deleteSheet": {"sheetId": sheet_id}})
    return sheet_id


def test_protected_ranges_are_accepted_and_forgotten(emulator: Emulator, http: requests.Session,
                                                     book: str) -> None:
    """Google answers addProtectedRange with the new range and its protectedRangeId
    (replies[0].addProtectedRange.protectedRange), and lists it on the sheet. Source: gspread
    cassette WorksheetTest.test_add_protected_range_normal. The emulator accepts the request,
    replies {} and keeps nothing: formsync never protects ranges."""
    answer = batch_update(emulator, http, {"addProtectedRange": {"protectedRange": {
        "range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 2}}}})
    assert answer["replies"] == [{}]
    assert "protectedRanges" not in call(emulator, http, "GET", BOOK).json()["sheets"][0]


def test_merged_cells_are_accepted_and_forgotten(emulator: Emulator, http: requests.Session,
                                                 book: str) -> None:
    """Google keeps merges and lists them in spreadsheets.get (sheets[].merges, e.g. two
    one-row merges after MERGE_ROWS over A1:B2). Source: gspread cassette
    CellTest.test_merge_cells. The emulator replies {} and lists no merges."""
    batch_update(emulator, http, {"mergeCells": {"mergeType": "MERGE_ROWS", "range": {
        "sheetId": 0, "startRowIndex": 0, "endRowIndex": 2, "startColumnIndex": 0,
        "endColumnIndex": 2}}})
    assert "merges" not in call(emulator, http, "GET", BOOK).json()["sheets"][0]


def test_include_grid_data_is_ignored(emulator: Emulator, http: requests.Session,
                                      book: str) -> None:
    """With includeGridData=true Google adds each sheet's cells (sheets[].data[].rowData);
    API reference, spreadsheets.get. The emulator answers the sheet properties only:
    formsync reads cells through values.batchGet."""
    write(emulator, http, "Sheet1!A1", [["x"]])
    sheet = call(emulator, http, "GET", BOOK, includeGridData="true").json()["sheets"][0]
    assert set(sheet) == {"properties"}


def test_there_is_no_drive_api(emulator: Emulator, http: requests.Session) -> None:
    """gspread creates and deletes spreadsheets through Drive v3 (POST and DELETE
    /drive/v3/files, answered 200 and 204 in every gspread cassette), and opens them by
    title through files.list. The emulator has no Drive: tests seed spreadsheets with
    `emulator.sheets.create_spreadsheet`, or make one with Sheets' spreadsheets.create."""
    answer = call(emulator, http, "POST", "/drive/v3/files",
                  {"name": "x", "mimeType": "application/vnd.google-apps.spreadsheet"})
    assert answer.status_code == 404


# -- Gmail ------------------------------------------------------------------------------------


def raw_message(to: str, subject: str, **headers: str) -> str:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = ORGANIZER, to, subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Hello")
    return base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")


def send(emulator: Emulator, http: requests.Session, body: dict[str, Any]) -> Any:
    answer = call(emulator, http, "POST", "/gmail/v1/users/me/messages/send", body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_gmail_every_message_is_its_own_thread(emulator: Emulator,
                                               http: requests.Session) -> None:
    """Gmail adds a message to an existing thread when the request names the threadId, the
    References/In-Reply-To headers point into it and the Subject matches (Gmail API guide,
    "Managing threads"). The emulator gives every message a thread of its own."""
    first = send(emulator, http, {"raw": raw_message("ana@example.com", "Session 3")})
    reply = send(emulator, http, {"threadId": first["threadId"], "raw": raw_message(
        "ana@example.com", "Re: Session 3", In_Reply_To="<one@example.com>",
        References="<one@example.com>")})
    assert reply["threadId"] != first["threadId"]


def test_gmail_knows_only_the_draft_and_sent_labels(emulator: Emulator,
                                                    http: requests.Session) -> None:
    """Gmail has system labels (INBOX, UNREAD, SENT, DRAFT, SPAM, TRASH, ...) and user labels,
    listed by users.labels.list; a message to oneself also lands in INBOX (API reference,
    users.labels; Gmail guide "Manage labels"). The emulator labels messages SENT or DRAFT
    only and has no labels API."""
    sent = send(emulator, http, {"raw": raw_message(ORGANIZER, "Note to self")})
    assert sent["labelIds"] == ["SENT"]
    assert call(emulator, http, "GET", "/gmail/v1/users/me/labels").status_code == 404


def test_gmail_search_queries_are_ignored(emulator: Emulator, http: requests.Session) -> None:
    """messages.list filters by `q` in Gmail's search syntax (API reference,
    users.messages.list). The emulator ignores `q` and lists every message."""
    send(emulator, http, {"raw": raw_message("ana@example.com", "Session 3")})
    listed = call(emulator, http, "GET", "/gmail/v1/users/me/messages",
                  q="subject:nothing-matches").json()
    assert listed["resultSizeEstimate"] == 1


def test_gmail_delivers_nothing(emulator: Emulator, http: requests.Session) -> None:
    """Gmail delivers a sent message to its recipients' mailboxes. The emulator keeps it in
    the sender's mailbox only (tests read it with `emulator.apis["gmail"].sent(sender)`)."""
    send(emulator, http, {"raw": raw_message("ana@example.com", "Session 3")})
    token = emulator.oauth.issue_token("ana@example.com", (GMAIL,))
    inbox = requests.get(f"{emulator.base_url}/gmail/v1/users/me/messages", timeout=10,
                         headers={"Authorization": f"Bearer {token}"}).json()
    assert "messages" not in inbox
    gmail = cast("GmailApi", emulator.apis["gmail"])
    assert [message["Subject"] for message in gmail.sent(ORGANIZER)] == ["Session 3"]


# -- Calendar ---------------------------------------------------------------------------------

EVENTS = "/calendar/v3/calendars/primary/events"


def insert_event(emulator: Emulator, http: requests.Session, **extra: Any) -> Any:
    body = {"summary": "Session 3", "start": {"dateTime": "2026-05-04T18:00:00Z"},
            "end": {"dateTime": "2026-05-04T19:30:00Z"}, **extra}
    answer = call(emulator, http, "POST", EVENTS, body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_calendar_recurring_events_are_not_expanded(emulator: Emulator,
                                                    http: requests.Session) -> None:
    """With singleEvents=true Google lists each occurrence of a recurring event as its own
    instance (with recurringEventId) and events.instances lists them (API reference,
    events.list). The emulator stores the rule and lists the one event."""
    insert_event(emulator, http, recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])
    listed = call(emulator, http, "GET", EVENTS, singleEvents="true").json()["items"]
    assert len(listed) == 1 and "recurringEventId" not in listed[0]


def test_calendar_sync_tokens_are_ignored(emulator: Emulator, http: requests.Session) -> None:
    """Given a syncToken Google lists only the events changed since it was issued, or answers
    410 when it has expired (API reference events.list; guide "Synchronize resources
    efficiently"). The emulator hands out tokens but lists everything again."""
    insert_event(emulator, http)
    token = call(emulator, http, "GET", EVENTS).json()["nextSyncToken"]
    again = call(emulator, http, "GET", EVENTS, syncToken=token).json()
    assert len(again["items"]) == 1


def test_calendar_q_and_fields_are_ignored(emulator: Emulator, http: requests.Session) -> None:
    """Google filters events.list by the free text `q` and trims answers to `fields` (API
    reference; system parameter `fields`). The emulator does neither."""
    insert_event(emulator, http)
    answer = call(emulator, http, "GET", EVENTS, q="no such words", fields="items(id)").json()
    assert len(answer["items"]) == 1 and "summary" in answer["items"][0]
    assert "kind" in answer


def test_calendar_time_zone_is_utc(emulator: Emulator, http: requests.Session) -> None:
    """events.list answers the calendar's own time zone (API reference, Events.timeZone),
    which for a person's primary calendar is their setting, e.g. "Europe/Madrid". Every
    emulator calendar is in UTC unless a test adds it with `add_calendar(time_zone=...)`."""
    assert call(emulator, http, "GET", EVENTS).json()["timeZone"] == "UTC"
