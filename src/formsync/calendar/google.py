"""Google Calendar (API v3 through google-api-python-client): the group's events.

Identity needs no stored state: a new event's id is derived from (calendar id, group, session)
and its private extended properties carry the group's name and mark (`group_key`: a rename keeps
it), the session and the content hash. One `events.list` (filtered on the group's mark, deleted
events included) reads everything; events written before formsync marked them are found by the
group's name instead, once, and then marked. Then
missing events are inserted, changed ones patched, withdrawn ones deleted (Google keeps them as
"cancelled", and their id stays taken), and cancelled ones that come back are revived with
`events.update`. A run that changes nothing makes one list call and no writes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from google.auth.credentials import Credentials
from googleapiclient.errors import HttpError

from formsync.calendar.event import GOOGLE, DesiredEvent, ExistingEvent, group_key
from formsync.calendar.plan import (
    STEP,
    CalendarAction,
    CancelEvent,
    CreateEvent,
    ReviveEvent,
    UpdateEvent,
)
from formsync.config import Config
from formsync.errors import BackendError, FormsyncError
from formsync.google.transport import RetryBudgetSpentError, RetryPolicy
from formsync.model import SESSIONS, Problem

GROUP_KEY, SESSION_KEY, HASH_KEY = "formsync_group", "formsync_session", "formsync_hash"
GROUP_ID_KEY = "formsync_group_id"  # the group's mark, unchanged when the group is renamed
PAGE_SIZE = 2500  # Calendar's maximum: one call reads a whole study group
FORBIDDEN_FOR_SERVICE_ACCOUNTS = "forbiddenForServiceAccounts"
ATTENDEES_FIX = (
    "set google.subject to a Workspace user the service account may act as (domain-wide "
    "delegation), or use an OAuth user token ('formsync auth login', then "
    "google.oauth_token_file), or set calendar.invite_members = false")


@dataclass(frozen=True)
class _Refusal:
    """A Google error body, reduced to what decides what to do next."""

    status: int
    reason: str
    message: str


def _refusal(error: HttpError) -> _Refusal:
    status = int(getattr(error.resp, "status", 0) or 0)
    try:
        body = json.loads(error.content or b"{}")
    except ValueError:
        body = {}
    details = body.get("error", {}) if isinstance(body, dict) else {}
    if not isinstance(details, dict):
        details = {}
    errors = details.get("errors") or [{}]
    reason = str(errors[0].get("reason", "")) if isinstance(errors[0], dict) else ""
    return _Refusal(status, reason, str(details.get("message", "")))


class AttendeesForbiddenError(BackendError):
    """A service account without domain-wide delegation tried to add attendees."""


class GoogleCalendar:
    """One Google calendar, holding the events of one group."""

    def __init__(self, service: Any, calendar_id: str, group: str, *,
                 invite_members: bool = False, send_updates: str = "none",
                 account: str = "", group_id: str = "") -> None:
        self.service = service
        self.calendar_id = calendar_id
        self.group = group
        self.group_id = group_id  # "": find the events by the group's name only
        self.invite_members = invite_members
        self.send_updates = send_updates
        self.account = account  # who the credentials act as, for messages

    @classmethod
    def from_config(cls, config: Config, *, policy: RetryPolicy | None = None,
                    credentials: Credentials | None = None) -> GoogleCalendar:
        """`credentials`: the run's (one token for every API), else loaded for Calendar."""
        from formsync.google.auth import SCOPE_CALENDAR, load_credentials
        from formsync.google.transport import build_service

        if credentials is None:
            credentials = load_credentials(config.google, [SCOPE_CALENDAR],
                                           base_dir=config.root)
        service = build_service("calendar", "v3", config.google, credentials, policy=policy)
        return cls(service, config.calendar.calendar_id, config.group.name,
                   invite_members=config.calendar.invite_members,
                   send_updates=config.calendar.send_updates,
                   account=account_of(credentials, config), group_id=group_key(config))

    # -- reading ----------------------------------------------------------------------------

    def read(self) -> list[ExistingEvent]:
        """The group's events, cancelled ones included: one call per 2500 events (two when
        none carries the group's mark yet: a new group, or one formsync has not marked)."""
        items = self._list(f"{GROUP_ID_KEY}={self.group_id}") if self.group_id else []
        if not items:
            items = self._list(f"{GROUP_KEY}={self.group}")
        return [_existing(item) for item in items]

    def _list(self, constraint: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self._execute(self.service.events().list(
                calendarId=self.calendar_id, privateExtendedProperty=constraint,
                showDeleted=True, maxResults=PAGE_SIZE, pageToken=token))
            items += page.get("items", [])
            token = page.get("nextPageToken")
            if not token:
                return items

    # -- writing ----------------------------------------------------------------------------

    def apply(self, actions: Sequence[CalendarAction], now: dt.datetime) -> list[Problem]:
        """Each action is one call (its result is the record); failures become Problems.
        Once the run's retry budget is spent, the rest waits for the next run."""
        problems: list[Problem] = []
        refused: list[CalendarAction] = []
        mine = [a for a in actions if a.target == GOOGLE]
        for index, action in enumerate(mine):
            if refused and self._adds_attendees(action):
                refused.append(action)  # same answer for the rest: do not ask again
                continue
            try:
                self._apply_one(action, now)
            except AttendeesForbiddenError:
                refused.append(action)
            except RetryBudgetSpentError as error:
                problems.append(_left_undone(mine[index:], error))
                break
            except FormsyncError as error:
                problems.append(_failure(action, error.message, error.fix))
        if refused:
            problems.insert(0, _attendees_problem(refused))
        return problems

    def _adds_attendees(self, action: CalendarAction) -> bool:
        return self.invite_members and not isinstance(action, CancelEvent) \
            and bool(action.event.attendees)

    def _apply_one(self, action: CalendarAction, now: dt.datetime) -> None:
        events = self.service.events()
        if isinstance(action, CancelEvent):
            notify = self._notify(action.previous.start, now)
            self._delete(action.previous.event_id, notify)
            return
        body = self.body(action.event)
        notify = self._notify(action.event.end, now)
        if isinstance(action, UpdateEvent) and action.mark_only:
            notify = "none"  # nothing people see changed
        if isinstance(action, CreateEvent):
            self._insert(body, notify)
        elif isinstance(action, UpdateEvent):
            del body["id"]
            self._execute(events.patch(calendarId=self.calendar_id, eventId=action.event.event_id,
                                       body=body, sendUpdates=notify))
        elif isinstance(action, ReviveEvent):
            self._execute(events.update(calendarId=self.calendar_id,
                                        eventId=action.event.event_id, body=body,
                                        sendUpdates=notify))

    def _insert(self, body: dict[str, Any], notify: str) -> None:
        events = self.service.events()
        try:
            self._execute(events.insert(calendarId=self.calendar_id, body=body,
                                        sendUpdates=notify), raw=True)
        except HttpError as error:
            if _refusal(error).status != 409:
                raise self._explain(error) from None
            # The id is derived from this group's session: only formsync made it. It was
            # deleted (or its properties lost), so Google keeps it taken: revive it instead.
            self._execute(events.update(calendarId=self.calendar_id, eventId=body["id"],
                                        body=body, sendUpdates=notify))

    def _delete(self, event_id: str, notify: str) -> None:
        request = self.service.events().delete(calendarId=self.calendar_id, eventId=event_id,
                                               sendUpdates=notify)
        try:
            self._execute(request, raw=True)
        except HttpError as error:
            if _refusal(error).status not in (404, 410):  # already gone: nothing to do
                raise self._explain(error) from None

    def _notify(self, moment: dt.datetime | None, now: dt.datetime) -> str:
        """Config's sendUpdates, but nobody is emailed about a session already over."""
        if moment is not None and moment < now:
            return "none"
        return self.send_updates

    def body(self, event: DesiredEvent) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": event.event_id, "summary": event.title, "description": event.description,
            "location": event.location, "status": event.status,
            "start": {"dateTime": event.start.isoformat(), "timeZone": event.timezone},
            "end": {"dateTime": event.end.isoformat(), "timeZone": event.timezone},
            "extendedProperties": {"private": {GROUP_KEY: event.group,
                                               GROUP_ID_KEY: event.group_id,
                                               SESSION_KEY: event.session,
                                               HASH_KEY: event.content_hash()}}}
        if self.invite_members:
            body["attendees"] = [{"email": email} for email in event.attendees]
        return body

    # -- calls ------------------------------------------------------------------------------

    def _execute(self, request: Any, *, raw: bool = False) -> dict[str, Any]:
        """Run one request; refusals become BackendErrors unless `raw` (caller decides)."""
        try:
            result = request.execute()
        except HttpError as error:
            if raw:
                raise
            raise self._explain(error) from None
        return result if isinstance(result, dict) else {}

    def _explain(self, error: HttpError) -> BackendError:
        from formsync.google.transport import api_error

        refusal = _refusal(error)
        if refusal.status == 403 and refusal.reason == FORBIDDEN_FOR_SERVICE_ACCOUNTS:
            return AttendeesForbiddenError(refusal.message, fix=ATTENDEES_FIX)
        if refusal.status == 404 and "/events/" in str(getattr(error, "uri", "")):
            return BackendError("Google Calendar: the event is gone (removed for good)",
                                fix="run formsync again: it creates the event anew")
        if refusal.status == 404:
            return BackendError(
                f"Google Calendar: calendar {self.calendar_id!r} was not found or is not "
                f"shared with {self.account or 'these credentials'}",
                fix=_share_fix(self.calendar_id, self.account))
        return api_error(refusal.status, error.content or b"", url=str(getattr(error, "uri", "")),
                         what=f"calendar {self.calendar_id!r}", account=self.account)


def _existing(item: dict[str, Any]) -> ExistingEvent:
    private = (item.get("extendedProperties") or {}).get("private") or {}
    start = (item.get("start") or {}).get("dateTime")
    return ExistingEvent(
        target=GOOGLE, event_id=str(item["id"]), session=str(private.get(SESSION_KEY, "")),
        content_hash=str(private.get(HASH_KEY, "")), status=str(item.get("status", "confirmed")),
        sequence=int(item.get("sequence", 0)),
        label=str(item.get("summary", "")).rsplit(" · ", 1)[0],
        start=dt.datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None,
        group_id=str(private.get(GROUP_ID_KEY, "")))


def _failure(action: CalendarAction, message: str, fix: str) -> Problem:
    row = None if isinstance(action, CancelEvent) else action.event.row
    return Problem(STEP, f"could not {action.describe()}: {message}", sheet=SESSIONS, row=row,
                   fix=fix or "run formsync again; it retries what did not happen",
                   severity="error")


def _left_undone(undone: Sequence[CalendarAction], error: RetryBudgetSpentError) -> Problem:
    count = f"{len(undone)} event change{'s' if len(undone) != 1 else ''}"
    return Problem(STEP, f"{count} in Google Calendar not made (session(s) "
                         f"{_sessions(undone)}); the next run makes them. {error.message}",
                   sheet=SESSIONS, fix=error.fix, severity="error")


def _sessions(actions: Sequence[CalendarAction]) -> str:
    return ", ".join(sorted({a.session for a in actions}, key=lambda s: (len(s), s)))


def _attendees_problem(refused: Sequence[CalendarAction]) -> Problem:
    sessions = _sessions(refused)
    return Problem(STEP, f"Google Calendar refused to invite members to the events of "
                         f"session(s) {sessions}: Service accounts cannot invite attendees "
                         "without Domain-Wide Delegation of Authority. Those events were not "
                         "written.", fix=ATTENDEES_FIX, severity="error")


def _share_fix(calendar_id: str, account: str) -> str:
    who = account or "the service account's client_email"
    return (f"in Google Calendar, open the calendar's settings → Share with specific people, "
            f"add {who} with 'Make changes to events'; or check calendar.calendar_id "
            f"(now {calendar_id!r}: the calendar's 'Calendar ID' from its settings)")


def account_of(credentials: Any, config: Config) -> str:
    """Who the credentials act as: the delegated user, the service account or the user."""
    if config.google.subject:
        return config.google.subject
    email = getattr(credentials, "service_account_email", None)
    if isinstance(email, str) and email:
        return email
    account = getattr(credentials, "account", None)
    return account if isinstance(account, str) else ""


def _undelegated_service_account(credentials: Any, config: Config) -> bool:
    email = getattr(credentials, "service_account_email", None)
    return isinstance(email, str) and bool(email) and not config.google.subject


def check_calendar_access(config: Config) -> tuple[bool, str]:
    """For `formsync doctor`: can formsync read the calendar? One line, with a fix if not."""
    from formsync.google.auth import SCOPE_CALENDAR, load_credentials
    from formsync.google.transport import build_service

    calendar_id = config.calendar.calendar_id
    try:
        credentials = load_credentials(config.google, [SCOPE_CALENDAR], base_dir=config.root)
        account = account_of(credentials, config)
        if calendar_id == "primary" and _undelegated_service_account(credentials, config):
            return False, (f"calendar 'primary' is the service account's own calendar "
                           f"({account}), which members never see (fix: "
                           f"{_share_fix(calendar_id, account)})")
        service = build_service("calendar", "v3", config.google, credentials)
        calendar = GoogleCalendar(service, calendar_id, config.group.name, account=account,
                                  group_id=group_key(config))
        events = calendar.read()
    except FormsyncError as error:
        return False, f"calendar {calendar_id!r}: {error.message} (fix: {error.fix})"
    live = sum(1 for e in events if not e.cancelled)
    return True, f"calendar {calendar_id!r}: readable as {account or 'these credentials'}, " \
                 f"{live} formsync event(s)"
