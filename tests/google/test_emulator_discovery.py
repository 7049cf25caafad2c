"""Requests checked against google-api-python-client's discovery documents, through the real
clients: an unknown query parameter or body field is refused with Google's wording.

Where the wording was seen: the docstring of formsync/emulator/discovery.py (r-lib/gmailr#72,
googleapis/google-api-nodejs-client#1380, googleapis/google-api-python-client#930,
theoephraim/node-google-spreadsheet#523, decolua/9router#1876 and #2309).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import gspread
import pytest
from googleapiclient.errors import HttpError

from formsync.config import Google
from formsync.emulator import Emulator
from formsync.emulator.calendar import CalendarApi
from formsync.emulator.discovery import document
from formsync.emulator.testing import google_settings, make_service_account
from formsync.google.auth import GMAIL_COMPOSE, SCOPE_CALENDAR, load_credentials
from formsync.google.transport import build_service

CALENDAR_ID = "group@group.calendar.google.com"
SENDER = "organizer@example.com"
INVALID = "Invalid JSON payload received. "
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
EVENT = {"summary": "Session 1", "start": {"dateTime": "2020-10-20T17:00:00+02:00"},
         "end": {"dateTime": "2020-10-20T19:00:00+02:00"}}

# One request per emulator route: (HTTP method, raw path, the discovery method it calls).
ROUTES = {
    "sheets.get": ("GET", "/v4/spreadsheets/abc", "sheets.spreadsheets.get"),
    "sheets.create": ("POST", "/v4/spreadsheets", "sheets.spreadsheets.create"),
    "sheets.batchUpdate": ("POST", "/v4/spreadsheets/abc:batchUpdate",
                           "sheets.spreadsheets.batchUpdate"),
    "sheets.values.batchGet": ("GET", "/v4/spreadsheets/abc/values:batchGet",
                               "sheets.spreadsheets.values.batchGet"),
    "sheets.values.batchUpdate": ("POST", "/v4/spreadsheets/abc/values:batchUpdate",
                                  "sheets.spreadsheets.values.batchUpdate"),
    "sheets.values.batchClear": ("POST", "/v4/spreadsheets/abc/values:batchClear",
                                 "sheets.spreadsheets.values.batchClear"),
    "sheets.values.append": ("POST", "/v4/spreadsheets/abc/values/Sheet1%21A1:append",
                             "sheets.spreadsheets.values.append"),
    "sheets.values.clear": ("POST", "/v4/spreadsheets/abc/values/Sheet1%21A1:clear",
                            "sheets.spreadsheets.values.clear"),
    "sheets.values.get": ("GET", "/v4/spreadsheets/abc/values/Sheet1%21A1",
                          "sheets.spreadsheets.values.get"),
    "sheets.values.update": ("PUT", "/v4/spreadsheets/abc/values/Sheet1%21A1",
                             "sheets.spreadsheets.values.update"),
    "calendar.events.list": ("GET", "/calendar/v3/calendars/c%40x/events", "calendar.events.list"),
    "calendar.events.insert": ("POST", "/calendar/v3/calendars/c%40x/events",
                               "calendar.events.insert"),
    "calendar.events.get": ("GET", "/calendar/v3/calendars/c/events/e1", "calendar.events.get"),
    "calendar.events.patch": ("PATCH", "/calendar/v3/calendars/c/events/e1",
                              "calendar.events.patch"),
    "calendar.events.update": ("PUT", "/calendar/v3/calendars/c/events/e1",
                               "calendar.events.update"),
    "calendar.events.delete": ("DELETE", "/calendar/v3/calendars/c/events/e1",
                               "calendar.events.delete"),
    "gmail.users.drafts.create": ("POST", "/gmail/v1/users/me/drafts",
                                  "gmail.users.drafts.create"),
    "gmail.users.drafts.list": ("GET", "/gmail/v1/users/me/drafts", "gmail.users.drafts.list"),
    "gmail.users.drafts.send": ("POST", "/gmail/v1/users/me/drafts/send",
                                "gmail.users.drafts.send"),
    "gmail.users.drafts.get": ("GET", "/gmail/v1/users/me/drafts/r1", "gmail.users.drafts.get"),
    "gmail.users.drafts.delete": ("DELETE", "/gmail/v1/users/me/drafts/r1",
                                  "gmail.users.drafts.delete"),
    "gmail.users.messages.send": ("POST", "/gmail/v1/users/me/messages/send",
                                  "gmail.users.messages.send"),
    "gmail.users.messages.list": ("GET", "/gmail/v1/users/me/messages",
                                  "gmail.users.messages.list"),
    "gmail.users.messages.get": ("GET", "/gmail/v1/users/me/messages/m1",
                                 "gmail.users.messages.get"),
}


def unknown_field(name: str, at: str = "") -> dict[str, str]:
    if not at:
        return {"description": f'{INVALID}Unknown name "{name}": Cannot find field.'}
    return {"field": at, "description": f"{INVALID}Unknown name \"{name}\" at '{at}': "
                                        "Cannot find field."}


def unbound(name: str) -> str:
    return (f'{INVALID}Unknown name "{name}": Cannot bind query parameter. '
            f"Field '{name}' could not be found in request message.")


def violations(error: dict[str, Any]) -> list[dict[str, str]]:
    (detail,) = error["details"]
    assert detail["@type"] == BAD_REQUEST
    return cast("list[dict[str, str]]", detail["fieldViolations"])


def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    assert caught.value.resp.status == 400
    error: dict[str, Any] = json.loads(caught.value.content)["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    return error


# -- the documents ------------------------------------------------------------------------------


def test_every_emulator_route_is_a_method_of_its_discovery_document(emulator: Emulator) -> None:
    # The token endpoint and the chat webhook are the emulator's own, not Google APIs.
    names = {route.name for route in emulator.router.routes} - {"oauth.token", "webhook.post"}
    assert names == set(ROUTES)
    for name, (method, path, method_id) in ROUTES.items():
        resolved = emulator.router.resolve(method, path)
        assert resolved is not None and resolved[0].name == name
        doc = document(name.partition(".")[0])
        found = doc.method(method, path) if doc else None
        assert found is not None and found.id == method_id, name
    assert document("oauth") is None and document("webhook") is None  # not checked


def test_field_names_maps_and_loose_types_follow_the_document() -> None:
    sheets = document("sheets")
    assert sheets is not None
    criteria = {"0": {"hiddenValues": ["x"]}, "3": {"hidenValues": ["y"]}}
    body = {"requests": [
        {"add_sheet": {"properties": {"title": "By proto name"}}},  # proto3 JSON accepts both
        {"addFilterView": {"filter": {"criteria": criteria}}},
    ]}
    assert sheets.unknown_fields("BatchUpdateSpreadsheetRequest", body) == [
        ("requests[1].add_filter_view.filter.criteria[1].value", "hidenValues")]
    loose = {"range": "A1", "values": [[{"any": "thing"}, [1, None]], "not a row"]}
    assert sheets.unknown_fields("ValueRange", loose) == []
    calendar = document("calendar")
    assert calendar is not None
    private = {"extendedProperties": {"private": {"formsyncKey": "s1"}}, "iCalUID": "x@y"}
    assert calendar.unknown_fields("Event", private) == []
    assert calendar.unknown_fields("Event", {"reminders": {"overides": []}}) == [
        ("reminders", "overides")]


# -- Sheets, through gspread --------------------------------------------------------------------


@pytest.fixture
def spreadsheet(emulator: Emulator, gspread_client: Any) -> Any:
    emulator.sheets.create_spreadsheet("sheet-id", {"Sheet1": [["Email"]]}, title="Group")
    return gspread_client.open_by_key("sheet-id")


def gspread_refusal(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(gspread.exceptions.APIError) as caught:
        call()
    assert caught.value.code == 400
    return dict(caught.value.error)


def test_sheets_refuses_an_unknown_query_parameter(spreadsheet: Any) -> None:
    error = gspread_refusal(lambda: spreadsheet.values_get(
        "Sheet1!A1", params={"valueRenderOptoin": "FORMULA"}))
    assert error["message"] == unbound("valueRenderOptoin")
    assert violations(error) == [{"description": unbound("valueRenderOptoin")}]
    assert spreadsheet.values_get("Sheet1!A1", params={"valueRenderOption": "FORMULA",
                                                       "fields": "values"})


def test_sheets_batch_update_refuses_unknown_fields_at_any_depth(emulator: Emulator,
                                                                  spreadsheet: Any) -> None:
    error = gspread_refusal(lambda: spreadsheet.batch_update(
        {"requests": [], "includeSpreadsheetInResponce": True}))
    assert error["message"] == unknown_field("includeSpreadsheetInResponce")["description"]
    assert violations(error) == [unknown_field("includeSpreadsheetInResponce")]

    add = {"addSheet": {"properties": {"title": "Sessions", "colour": {}, "hiden": True}}}
    error = gspread_refusal(lambda: spreadsheet.batch_update({"requests": [{}, add]}))
    at = "requests[1].add_sheet.properties"
    assert violations(error) == [unknown_field("colour", at), unknown_field("hiden", at)]
    assert error["message"] == "\n".join(v["description"] for v in violations(error))
    assert [ws.title for ws in spreadsheet.worksheets()] == ["Sheet1"]  # nothing applied


# -- Calendar, through googleapiclient ----------------------------------------------------------


@pytest.fixture
def events(emulator: Emulator, tmp_path: Path) -> Any:
    cast(CalendarApi, emulator.apis["calendar"]).add_calendar(CALENDAR_ID)
    key = tmp_path / "key.json"
    key.write_text(json.dumps(make_service_account(emulator)), encoding="utf-8")
    cfg = Google(**google_settings(emulator, credentials_file=str(key), timeout_seconds=5,
                                   retry_deadline_seconds=5))
    return build_service("calendar", "v3", cfg, load_credentials(cfg, [SCOPE_CALENDAR])).events()


def test_calendar_insert_refuses_unknown_fields(events: Any) -> None:
    error = refusal(events.insert(calendarId=CALENDAR_ID, body={**EVENT, "summery": "typo"}))
    assert error["message"] == unknown_field("summery")["description"]
    start = {"dateTime": "2020-10-20T17:00:00+02:00", "timezone": "Europe/Madrid"}
    error = refusal(events.insert(calendarId=CALENDAR_ID, body={**EVENT, "start": start}))
    assert violations(error) == [unknown_field("timezone", "start")]
    assert events.list(calendarId=CALENDAR_ID).execute()["items"] == []


def test_calendar_refuses_an_unknown_query_parameter(events: Any) -> None:
    request = events.list(calendarId=CALENDAR_ID, singleEvents=True)
    request.uri += "&showDeleted=true&singleEvent=true"
    assert refusal(request)["message"] == unbound("singleEvent")
    inserted = events.insert(calendarId=CALENDAR_ID, body=EVENT, sendUpdates="none").execute()
    assert inserted["summary"] == "Session 1"


# -- Gmail, through googleapiclient -------------------------------------------------------------


@pytest.fixture
def drafts(emulator: Emulator, tmp_path: Path) -> Any:
    key = tmp_path / "key.json"
    key.write_text(json.dumps(make_service_account(emulator)), encoding="utf-8")
    cfg = Google(**google_settings(emulator, credentials_file=str(key), subject=SENDER,
                                   timeout_seconds=5, retry_deadline_seconds=5))
    credentials = load_credentials(cfg, [GMAIL_COMPOSE])
    return build_service("gmail", "v1", cfg, credentials).users().drafts()


def raw_message() -> str:
    text = f"From: {SENDER}\r\nTo: ana@example.com\r\nSubject: Hi\r\n\r\nSee you.\r\n"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_gmail_drafts_create_refuses_unknown_fields(drafts: Any) -> None:
    error = refusal(drafts.create(userId="me", body={"mesage": {"raw": raw_message()}}))
    assert violations(error) == [unknown_field("mesage")]
    body = {"message": {"raw": raw_message(), "threadID": "t1"}}
    error = refusal(drafts.create(userId="me", body=body))
    assert error["message"] == unknown_field("threadID", "message")["description"]
    assert drafts.list(userId="me").execute().get("drafts", []) == []


def test_gmail_refuses_upload_parameters_off_the_upload_path(drafts: Any) -> None:
    request = drafts.create(userId="me", body={"message": {"raw": raw_message()}})
    request.uri += "?uploadType=multipart" if "?" not in request.uri else "&uploadType=multipart"
    assert refusal(request)["message"] == unbound("uploadType")  # as in r-lib/gmailr#72
    assert drafts.create(userId="me", body={"message": {"raw": raw_message()}}).execute()["id"]
