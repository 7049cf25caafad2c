"""Google Calendar API v3: events.list/get/insert/patch/update/delete.

Answers follow the API reference and the discovery document shipped in google-api-python-client
(calendar.v3.json): event resources carry kind, etag, status, htmlLink, created, updated,
creator, organizer, iCalUID and a sequence raised by significant changes; deleted events stay
(status "cancelled", listed with showDeleted=true) and keep their id taken, so inserting it
again is a 409 "duplicate" and deleting it again a 410 "deleted"; errors use Calendar's body
shape (`errors: [{domain, reason, message}]` beside code and message).

Calendars: "primary" is the caller's own calendar (named by their email); any other calendar
must be added with `add_calendar` (optionally shared with a few accounts only), else 404.
A service-account token without a delegated subject may not add attendees (403
forbiddenForServiceAccounts), as on Google.

Known simplifications: no recurrence expansion (singleEvents is accepted, events are single),
no syncToken, `q` and `fields` are ignored, and every calendar's time zone is UTC.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import re
import secrets
import time
import zoneinfo
from collections.abc import Callable, Iterable
from typing import Any

from formsync.emulator.server import ApiError, ApiRequest, Caller, EmulatorState, Reply, Router

_SCOPE = "https://www.googleapis.com/auth/"
WRITE_SCOPES = frozenset(_SCOPE + name for name in ("calendar", "calendar.events",
                                                     "calendar.events.owned"))
READ_SCOPES = WRITE_SCOPES | {_SCOPE + "calendar.readonly", _SCOPE + "calendar.events.readonly",
                              _SCOPE + "calendar.events.owned.readonly"}
_CALENDAR = r"^/calendar/v3/calendars/(?P<calendar_id>[^/]+)/events"
_EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
DEFAULT_PAGE, MAX_PAGE = 250, 2500
# Changes to these fields raise an event's sequence (what attendees' calendars compare).
_SIGNIFICANT = ("start", "end", "summary", "description", "location", "status", "attendees",
                "recurrence")
_READ_ONLY = ("kind", "etag", "htmlLink", "created", "updated", "creator", "organizer", "iCalUID")
FORBIDDEN_FOR_SERVICE_ACCOUNTS = ("Service accounts cannot invite attendees without Domain-Wide "
                                  "Delegation of Authority.")


class CalendarError(ApiError):
    """Calendar v3's error body: code, message, status and the legacy `errors` list."""

    def __init__(self, code: int, message: str, status: str, reason: str,
                 domain: str = "global") -> None:
        super().__init__(code, message, status)
        self.reason, self.domain = reason, domain

    def reply(self) -> Reply:
        reply = super().reply()
        reply.body["error"]["errors"] = [{"domain": self.domain, "reason": self.reason,
                                          "message": self.message}]
        return reply


def _not_found() -> CalendarError:
    return CalendarError(404, "Not Found", "NOT_FOUND", "notFound")


def _bad(message: str, reason: str = "invalid") -> CalendarError:
    return CalendarError(400, message, "INVALID_ARGUMENT", reason)


def _duplicate() -> CalendarError:
    return CalendarError(409, "The requested identifier already exists.", "ALREADY_EXISTS",
                         "duplicate")


def _deleted() -> CalendarError:
    return CalendarError(410, "Resource has been deleted", "NOT_FOUND", "deleted")


def _forbidden_for_service_accounts() -> CalendarError:
    return CalendarError(403, FORBIDDEN_FOR_SERVICE_ACCOUNTS, "PERMISSION_DENIED",
                         "forbiddenForServiceAccounts", domain="calendar")


def _rfc3339(moment: float) -> str:
    stamp = dt.datetime.fromtimestamp(moment, dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _parse_time(text: str, *, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"Bad Request: {name} is not an RFC 3339 timestamp", "badRequest") from None
    if moment.tzinfo is None:
        raise _bad(f"Bad Request: {name} needs a time zone offset", "badRequest")
    return moment


def _event_time(value: Any, *, which: str) -> dt.datetime:
    """The instant of an event's start or end ({dateTime, timeZone} or all-day {date})."""
    if not isinstance(value, dict) or not (value.get("dateTime") or value.get("date")):
        raise _bad(f"Missing {which} time.", "required")
    if value.get("date"):
        try:
            return dt.datetime.combine(dt.date.fromisoformat(value["date"]), dt.time(),
                                       tzinfo=dt.UTC)
        except ValueError:
            raise _bad(f"Invalid {which} date.") from None
    try:
        moment = dt.datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"Invalid {which} time.") from None
    if moment.tzinfo is not None:
        return moment
    try:
        return moment.replace(tzinfo=zoneinfo.ZoneInfo(str(value.get("timeZone", ""))))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _bad("Missing time zone definition for start time.", "required") from None


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """PATCH semantics: objects merge key by key, arrays and scalars replace, null clears."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _matches_properties(event: dict[str, Any], scope: str, constraints: Iterable[str]) -> bool:
    properties = event.get("extendedProperties", {}).get(scope, {})
    for constraint in constraints:
        name, equals, value = constraint.partition("=")
        if not equals:
            raise _bad(f"Invalid extended property constraint: {constraint}")
        if properties.get(name) != value:
            return False
    return True


class CalendarApi:
    name = "calendar"

    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    @property
    def _data(self) -> dict[str, Any]:
        data = self._state.section(self.name)
        data.setdefault("calendars", {})
        data.setdefault("notifications", [])
        data.setdefault("clock", 0)
        return data

    def register(self, router: Router) -> None:
        event = rf"{_CALENDAR}/(?P<event_id>[^/]+)$"
        routes: list[tuple[str, str, str, Callable[[ApiRequest], Reply], bool]] = [
            ("GET", rf"{_CALENDAR}$", "calendar.events.list", self._list, False),
            ("POST", rf"{_CALENDAR}$", "calendar.events.insert", self._insert, True),
            ("GET", event, "calendar.events.get", self._get, False),
            ("PATCH", event, "calendar.events.patch", self._patch, True),
            ("PUT", event, "calendar.events.update", self._update, True),
            ("DELETE", event, "calendar.events.delete", self._delete, True),
        ]
        for method, pattern, name, handler, writes in routes:
            router.add(method, pattern, name, handler, kind="write" if writes else "read",
                       scopes=WRITE_SCOPES if writes else READ_SCOPES)

    # -- seeding and inspection (for tests) -----------------------------------------------

    def add_calendar(self, calendar_id: str, *, shared_with: Iterable[str] | None = None,
                     time_zone: str = "UTC") -> None:
        """A calendar other than "primary"; `shared_with` limits who may use it (403/404)."""
        with self._state.lock:
            self._data["calendars"].setdefault(calendar_id, {"events": {}})
            self._data["calendars"][calendar_id].update(
                shared_with=sorted(shared_with) if shared_with is not None else None,
                timeZone=time_zone)

    def events(self, calendar_id: str, *, show_deleted: bool = True) -> list[dict[str, Any]]:
        """A copy of the stored events of a calendar (by its real id, not "primary")."""
        with self._state.lock:
            calendar = self._data["calendars"].get(calendar_id, {"events": {}})
            return [copy.deepcopy(e) for e in calendar["events"].values()
                    if show_deleted or e["status"] != "cancelled"]

    def put_event(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Store an event as if someone made it in the Calendar UI (not counted as a call)."""
        with self._state.lock:
            calendar = self._data["calendars"].setdefault(
                calendar_id, {"events": {}, "shared_with": None, "timeZone": "UTC"})
            stored = self._new_event(calendar_id, calendar_id, event)
            calendar["events"][stored["id"]] = stored
            return copy.deepcopy(stored)

    def notifications(self) -> list[dict[str, Any]]:
        """Writes made with sendUpdates other than "none": {method, eventId, sendUpdates}."""
        with self._state.lock:
            return copy.deepcopy(self._data["notifications"])

    # -- helpers ----------------------------------------------------------------------------

    def _calendar(self, request: ApiRequest) -> tuple[str, dict[str, Any]]:
        caller = request.caller
        calendar_id = request.params["calendar_id"]
        if calendar_id == "primary" and caller is not None:
            calendar_id = caller.principal
        calendars = self._data["calendars"]
        if calendar_id not in calendars:
            if caller is None or calendar_id != caller.principal:
                raise _not_found()
            calendars[calendar_id] = {"events": {}, "shared_with": None, "timeZone": "UTC"}
        calendar = calendars[calendar_id]
        allowed = calendar.get("shared_with")
        if allowed is not None and (caller is None or caller.principal not in allowed):
            raise _not_found()  # Google hides calendars one cannot see
        return calendar_id, calendar

    def _stored(self, request: ApiRequest) -> tuple[str, dict[str, Any]]:
        calendar_id, calendar = self._calendar(request)
        event = calendar["events"].get(request.params["event_id"])
        if event is None:
            raise _not_found()
        return calendar_id, event

    def _tick(self) -> float:
        """Now, strictly later than the previous write (so etags always change)."""
        data = self._data
        moment = max(time.time(), float(data["clock"]) + 0.001)
        data["clock"] = moment
        return moment

    def _undelegated_service_account(self, caller: Caller | None) -> bool:
        # The OAuth module records service accounts by email; a token acting as the account
        # itself (no `sub`) has principal == client.
        if caller is None:
            return False
        accounts = self._state.section("oauth").get("service_accounts", {})
        return caller.client in accounts and caller.principal == caller.client

    def _check_attendees(self, request: ApiRequest, body: dict[str, Any]) -> None:
        if body.get("attendees") and self._undelegated_service_account(request.caller):
            raise _forbidden_for_service_accounts()

    def _note_updates(self, request: ApiRequest, method: str, event: dict[str, Any]) -> None:
        send = request.arg("sendUpdates") or (
            "all" if request.arg("sendNotifications") == "true" else "none")
        if send not in ("all", "externalOnly", "none"):
            raise _bad(f"Invalid value for: sendUpdates: {send}")
        if send != "none" and event.get("attendees"):
            self._data["notifications"].append(
                {"method": method, "eventId": event["id"], "sendUpdates": send,
                 "attendees": [a.get("email") for a in event["attendees"]]})

    def _stamp(self, event: dict[str, Any]) -> None:
        moment = self._tick()
        event["updated"] = _rfc3339(moment)
        event["etag"] = f'"{int(moment * 1_000_000)}"'

    def _validated(self, body: dict[str, Any]) -> dict[str, Any]:
        start = _event_time(body.get("start"), which="start")
        end = _event_time(body.get("end"), which="end")
        if end < start:
            raise _bad("The specified time range is empty.", "timeRangeEmpty")
        status = body.get("status", "confirmed")
        if status not in ("confirmed", "tentative", "cancelled"):
            raise _bad(f"Invalid value for: status: {status}")
        attendees = body.get("attendees", [])
        if not isinstance(attendees, list) or any(
                not isinstance(a, dict) or "@" not in str(a.get("email", "")) for a in attendees):
            raise _bad("Invalid attendee email.", "invalid")
        return body

    def _new_event(self, calendar_id: str, principal: str, body: dict[str, Any]
                   ) -> dict[str, Any]:
        event_id = body.get("id") or base64.b32hexencode(secrets.token_bytes(15)).decode().lower()
        moment = self._tick()
        fields = {k: copy.deepcopy(v) for k, v in body.items() if k not in _READ_ONLY}
        event: dict[str, Any] = {
            "kind": "calendar#event", "etag": f'"{int(moment * 1_000_000)}"', "id": event_id,
            "status": "confirmed", "htmlLink": _html_link(event_id, calendar_id),
            "created": _rfc3339(moment), "updated": _rfc3339(moment),
            "creator": {"email": principal}, "organizer": {"email": calendar_id, "self": True},
            "iCalUID": f"{event_id}@google.com", "sequence": 0,
            "reminders": {"useDefault": True}, "eventType": "default"}
        event.update(fields)
        event["attendees"] = _attendees(event.get("attendees"))
        if not event["attendees"]:
            del event["attendees"]
        return event

    # -- handlers ---------------------------------------------------------------------------

    def _list(self, request: ApiRequest) -> Reply:
        calendar_id, calendar = self._calendar(request)
        show_deleted = request.arg("showDeleted", "false") == "true"
        time_min = request.arg("timeMin")
        time_max = request.arg("timeMax")
        lower = _parse_time(time_min, name="timeMin") if time_min else None
        upper = _parse_time(time_max, name="timeMax") if time_max else None
        private = request.args("privateExtendedProperty")
        shared = request.args("sharedExtendedProperty")
        ical_uid = request.arg("iCalUID")
        selected = []
        for event in calendar["events"].values():
            if event["status"] == "cancelled" and not show_deleted:
                continue
            if ical_uid is not None and event.get("iCalUID") != ical_uid:
                continue
            if not (_matches_properties(event, "private", private)
                    and _matches_properties(event, "shared", shared)):
                continue
            if lower is not None and _event_time(event["end"], which="end") <= lower:
                continue
            if upper is not None and _event_time(event["start"], which="start") >= upper:
                continue
            selected.append(event)
        selected = self._ordered(request, selected)
        return Reply(200, self._page(request, calendar_id, calendar, selected))

    def _ordered(self, request: ApiRequest, events: list[dict[str, Any]]
                 ) -> list[dict[str, Any]]:
        order = request.arg("orderBy")
        if order == "startTime":
            if request.arg("singleEvents") != "true":
                raise _bad("The requested ordering is not available for the particular query.",
                           "badRequest")
            return sorted(events, key=lambda e: (_event_time(e["start"], which="start"), e["id"]))
        if order == "updated":
            return sorted(events, key=lambda e: (e["updated"], e["id"]))
        if order is not None:
            raise _bad(f"Invalid value for: orderBy: {order}")
        return sorted(events, key=lambda e: (e["created"], e["id"]))

    def _page(self, request: ApiRequest, calendar_id: str, calendar: dict[str, Any],
              events: list[dict[str, Any]]) -> dict[str, Any]:
        try:
            size = min(int(request.arg("maxResults", str(DEFAULT_PAGE)) or DEFAULT_PAGE),
                       MAX_PAGE)
        except ValueError:
            raise _bad("Invalid value for: maxResults") from None
        if size < 1:
            raise _bad("Invalid value for: maxResults")
        offset = _page_offset(request.arg("pageToken"))
        body: dict[str, Any] = {
            "kind": "calendar#events", "etag": f'"{int(self._data["clock"] * 1_000_000)}"',
            "summary": calendar_id, "description": "", "updated": _rfc3339(self._data["clock"]),
            "timeZone": calendar.get("timeZone", "UTC"), "accessRole": "owner",
            "defaultReminders": [], "items": copy.deepcopy(events[offset:offset + size])}
        if offset + size < len(events):
            body["nextPageToken"] = _page_token(offset + size)
        else:
            body["nextSyncToken"] = "emulator-sync-" + secrets.token_urlsafe(8)
        return body

    def _get(self, request: ApiRequest) -> Reply:
        _, event = self._stored(request)
        return Reply(200, copy.deepcopy(event))

    def _insert(self, request: ApiRequest) -> Reply:
        calendar_id, calendar = self._calendar(request)
        body = self._validated(_object(request))
        event_id = body.get("id")
        if event_id is not None:
            if not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
                raise _bad("Invalid resource id value.")
            if event_id in calendar["events"]:
                raise _duplicate()
        self._check_attendees(request, body)
        caller = request.caller.principal if request.caller else calendar_id
        event = self._new_event(calendar_id, caller, body)
        calendar["events"][event["id"]] = event
        self._note_updates(request, "insert", event)
        return Reply(200, copy.deepcopy(event))

    def _patch(self, request: ApiRequest) -> Reply:
        _, event = self._stored(request)
        body = _object(request)
        merged = copy.deepcopy(event)
        _merge(merged, {k: v for k, v in body.items() if k not in (*_READ_ONLY, "id")})
        return self._replace(request, event, merged, body, "patch")

    def _update(self, request: ApiRequest) -> Reply:
        _, event = self._stored(request)
        body = _object(request)
        replaced = {k: copy.deepcopy(v) for k, v in body.items()
                    if k not in (*_READ_ONLY, "id")}
        replaced.setdefault("status", "confirmed")
        replaced.setdefault("sequence", event["sequence"])
        for key in ("kind", "id", "htmlLink", "created", "creator", "organizer", "iCalUID",
                    "eventType"):
            replaced[key] = event[key]
        replaced.setdefault("reminders", {"useDefault": True})
        return self._replace(request, event, replaced, body, "update")

    def _replace(self, request: ApiRequest, event: dict[str, Any], new: dict[str, Any],
                 body: dict[str, Any], method: str) -> Reply:
        self._validated(new)
        if "sequence" in body and int(body["sequence"]) < event["sequence"]:
            raise _bad("Invalid sequence value. The specified sequence number is below the "
                       "current sequence number of the resource.", "invalidSequenceValue")
        if "attendees" in body:
            self._check_attendees(request, body)
            new["attendees"] = _attendees(new.get("attendees"))
            if not new["attendees"]:
                del new["attendees"]
        significant = any(event.get(k) != new.get(k) for k in _SIGNIFICANT)
        if significant and "sequence" not in body:
            new["sequence"] = event["sequence"] + 1
        self._stamp(new)
        event.clear()
        event.update(new)
        self._note_updates(request, method, event)
        return Reply(200, copy.deepcopy(event))

    def _delete(self, request: ApiRequest) -> Reply:
        _, event = self._stored(request)
        if event["status"] == "cancelled":
            raise _deleted()
        event["status"] = "cancelled"
        event["sequence"] += 1
        self._stamp(event)
        self._note_updates(request, "delete", event)
        # Google answers 204 with no body. The server writes a JSON body for every reply, which
        # a keep-alive client would misread as the start of the next answer: close instead.
        return Reply(204, None)


def _object(request: ApiRequest) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise _bad("Invalid JSON payload received.", "parseError")
    return body


def _attendees(value: Any) -> list[dict[str, Any]]:
    """Attendees as Google returns them: each with a responseStatus."""
    attendees = []
    for attendee in value or []:
        stored = dict(attendee)
        stored["email"] = str(stored["email"]).lower()
        stored.setdefault("responseStatus", "needsAction")
        attendees.append(stored)
    return attendees


def _html_link(event_id: str, calendar_id: str) -> str:
    eid = base64.urlsafe_b64encode(f"{event_id} {calendar_id}".encode()).decode().rstrip("=")
    return f"https://www.google.com/calendar/event?eid={eid}"


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"events:{offset}".encode()).decode().rstrip("=")


def _page_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind != "events":
            raise ValueError(text)
        return max(int(number), 0)
    except (ValueError, UnicodeDecodeError):
        raise _bad("Invalid page token value.") from None
