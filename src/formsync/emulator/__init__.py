"""A loopback Google Workspace emulator that the real client libraries talk to over HTTP.

    from formsync.emulator import Emulator
    from formsync.emulator.testing import make_service_account, google_settings

    with Emulator() as emulator:
        info = make_service_account(emulator)          # key file JSON, token_uri → emulator
        emulator.sheets.create_spreadsheet("sheet-id", {"Form Responses 1": [["Email"]]})
        before = emulator.counts()
        ...                                            # gspread / googleapiclient calls
        assert (emulator.counts() - before)["sheets.values.batchGet"] == 1
        emulator.inject("sheets.values.*", 429, count=2)

Layout: `server.py` (HTTP server, router, counters, faults, Google error bodies, saved state),
`oauth.py` (token endpoint, bearer tokens, scopes), `sheets.py` (Sheets v4), `a1.py` (A1
ranges), `testing.py` (credentials for tests), `webhook.py` (a chat webhook, not Google's: the
fault matrix's target for announcements).

Adding an API (e.g. `calendar.py` for Calendar v3):
  1. Write a class with `name = "calendar"`, `__init__(self, state: EmulatorState)` and
     `register(self, router: Router)`, which calls
     `router.add("GET", r"^/calendar/v3/calendars/(?P<calendar_id>[^/]+)/events$",
     "calendar.events.list", self._list_events, kind="read", scopes=CALENDAR_SCOPES)`.
     Patterns match the raw path; named groups arrive percent-decoded in `request.params`.
  2. Keep all data in `state.section("calendar")`: plain JSON values only (it is saved as
     JSON), read it through a property on every call (load() replaces it). Handlers run under
     `state.lock`; seeding methods called by tests take `with self._state.lock:`.
  3. Handlers take an `ApiRequest` (`.arg()`, `.args()`, `.json()`, `.caller.principal`) and
     return `Reply(status, body)`, or raise `ApiError(code, message, status)`
     (`not_found()`, `bad_request(msg)`) for Google's `{"error": {...}}` body.
  4. Add the class to `_api_classes()` in server.py and a typed property on `Emulator`.
Counters, fault injection, token and scope checks then apply to the new routes unchanged.
"""

from __future__ import annotations

from formsync.emulator.server import (
    ApiError,
    ApiRequest,
    CallCounts,
    Emulator,
    EmulatorState,
    Reply,
    Router,
    run_emulator,
)

__all__ = ["ApiError", "ApiRequest", "CallCounts", "Emulator", "EmulatorState", "Reply",
           "Router", "run_emulator"]
