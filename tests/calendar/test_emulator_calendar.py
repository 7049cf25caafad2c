"""The emulator's Calendar v3, driven by the real googleapiclient: answers shaped like Google's."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from tests.calendar.builders import CALENDAR_ID

from formsync.config import Google
from formsync.emulator import Emulator
from formsync.emulator.calendar import CalendarApi
from formsync.emulator.testing import google_settings, make_service_account
from formsync.google.auth import SCOPE_CALENDAR, load_credentials
from formsync.google.transport import build_service

Service = Any
START = {"dateTime": "2020-10-20T17:00:00+02:00", "timeZone": "Europe/Madrid"}
END = {"dateTime": "2020-10-20T19:00:00+02:00", "timeZone": "Europe/Madrid"}


@pytest.fixture
def make_service(emulator: Emulator, calendar_api: CalendarApi, tmp_path: Path
                 ) -> Callable[..., Service]:
    key = tmp_path / "key.json"
    key.write_text(json.dumps(make_service_account(emulator)), encoding="utf-8")

    def make(scope: str = SCOPE_CALENDAR) -> Service:
        cfg = Google(**google_settings(emulator, credentials_file=str(key), timeout_seconds=5,
                                       retry_deadline_seconds=5))
        return build_service("calendar", "v3", cfg, load_credentials(cfg, [scope]))

    return make


@pytest.fixture
def events(make_service: Callable[..., Service]) -> Any:
    return make_service().events()


def body(event_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": event_id, "summary": "Sesión 1", "start": START, "end": END, **fields}


def refusal(call: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return caught.value.resp.status, json.loads(caught.value.content)["error"]


def test_insert_answers_an_event_resource(events: Any) -> None:
    event = events.insert(calendarId=CALENDAR_ID, body=body("abcde12345")).execute()
    assert event["kind"] == "calendar#event"
    assert (event["id"], event["status"], event["sequence"]) == ("abcde12345", "confirmed", 0)
    assert event["etag"].startswith('"') and event["htmlLink"].startswith(
        "https://www.google.com/calendar/event?eid=")
    assert event["created"].endswith("Z") and event["updated"] == event["created"]
    assert event["start"] == START and event["iCalUID"] == "abcde12345@google.com"
    assert events.get(calendarId=CALENDAR_ID, eventId="abcde12345").execute() == event


def test_a_deleted_id_stays_taken(events: Any) -> None:
    events.insert(calendarId=CALENDAR_ID, body=body("abcde12345")).execute()
    assert events.delete(calendarId=CALENDAR_ID, eventId="abcde12345").execute() == ""
    status, error = refusal(events.insert(calendarId=CALENDAR_ID, body=body("abcde12345")))
    assert status == 409
    assert error["message"] == "The requested identifier already exists."
    assert error["errors"][0]["reason"] == "duplicate"
    status, error = refusal(events.delete(calendarId=CALENDAR_ID, eventId="abcde12345"))
    assert (status, error["message"]) == (410, "Resource has been deleted")
    cancelled = events.get(calendarId=CALENDAR_ID, eventId="abcde12345").execute()
    assert (cancelled["status"], cancelled["sequence"]) == ("cancelled", 1)
    revived = events.update(calendarId=CALENDAR_ID, eventId="abcde12345",
                            body=body("abcde12345", status="confirmed")).execute()
    assert (revived["status"], revived["sequence"]) == ("confirmed", 2)


def test_list_filters_on_private_properties_deleted_and_time(events: Any) -> None:
    def props(group: str, session: str) -> dict[str, Any]:
        return {"private": {"formsync_group": group, "formsync_session": session}}

    for number, group in ((1, "A"), (2, "A"), (3, "B")):
        events.insert(calendarId=CALENDAR_ID, body=body(
            f"event{number}", extendedProperties=props(group, str(number)))).execute()
    events.delete(calendarId=CALENDAR_ID, eventId="event2").execute()

    def ids(**query: Any) -> list[str]:
        page = events.list(calendarId=CALENDAR_ID, **query).execute()
        assert page["kind"] == "calendar#events"
        return [e["id"] for e in page["items"]]

    assert ids(privateExtendedProperty="formsync_group=A") == ["event1"]
    assert ids(privateExtendedProperty="formsync_group=A", showDeleted=True) == [
        "event1", "event2"]
    assert ids(privateExtendedProperty=["formsync_group=A", "formsync_session=2"],
               showDeleted=True) == ["event2"]
    assert ids(timeMin="2020-10-20T17:30:00Z") == []
    assert ids(timeMin="2020-10-20T16:30:00Z") == ["event1", "event3"]


def test_list_pages_with_max_results_and_page_token(events: Any) -> None:
    for number in range(5):
        events.insert(calendarId=CALENDAR_ID, body=body(f"event{number}")).execute()
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = events.list(calendarId=CALENDAR_ID, maxResults=2, pageToken=token).execute()
        seen += [e["id"] for e in page["items"]]
        pages += 1
        token = page.get("nextPageToken")
        if not token:
            break
    assert (seen, pages) == ([f"event{n}" for n in range(5)], 3)


def test_patch_raises_the_sequence_only_on_significant_changes(events: Any) -> None:
    events.insert(calendarId=CALENDAR_ID, body=body("abcde12345")).execute()
    quiet = events.patch(calendarId=CALENDAR_ID, eventId="abcde12345", body={
        "extendedProperties": {"private": {"formsync_hash": "x"}}}).execute()
    assert quiet["sequence"] == 0 and quiet["summary"] == "Sesión 1"
    moved = events.patch(calendarId=CALENDAR_ID, eventId="abcde12345", body={
        "start": {"dateTime": "2020-10-20T18:00:00+02:00", "timeZone": "Europe/Madrid"}
    }).execute()
    assert moved["sequence"] == 1 and moved["etag"] != quiet["etag"]
    assert moved["extendedProperties"]["private"]["formsync_hash"] == "x"


@pytest.mark.parametrize(("event", "status", "reason"), [
    (body("UPPER"), 400, "invalid"),
    (body("abcde12345", end={"dateTime": "2020-10-20T16:00:00+02:00"}), 400, "timeRangeEmpty"),
    (body("abcde12345", attendees=[{"email": "ana@example.org"}]), 403,
     "forbiddenForServiceAccounts"),
])
def test_insert_refusals(events: Any, event: dict[str, Any], status: int, reason: str) -> None:
    code, error = refusal(events.insert(calendarId=CALENDAR_ID, body=event))
    assert (code, error["errors"][0]["reason"]) == (status, reason)
    if reason == "forbiddenForServiceAccounts":
        assert error["message"] == ("Service accounts cannot invite attendees without "
                                    "Domain-Wide Delegation of Authority.")


def test_scopes_and_unknown_calendars(make_service: Callable[..., Service]) -> None:
    read_only = make_service("https://www.googleapis.com/auth/calendar.readonly").events()
    assert read_only.list(calendarId=CALENDAR_ID).execute()["items"] == []
    assert refusal(read_only.insert(calendarId=CALENDAR_ID, body=body("abcde12345")))[0] == 403
    status, error = refusal(make_service().events().list(calendarId="nobody@example.org"))
    assert (status, error["errors"][0]["reason"]) == (404, "notFound")
