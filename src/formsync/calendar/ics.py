"""The local calendar backend: one RFC 5545 `calendar.ics` file (via the icalendar library).

The file is its own record: each formsync VEVENT carries its session, the content hash
(`X-FORMSYNC-HASH`), its SEQUENCE and its DTSTAMP, so the next run knows what changed without
other state. DTSTAMP is the time of the run that last changed the event (RFC 5545: without a
METHOD it is the last revision time), so a run that changes nothing leaves the file untouched.
Withdrawn sessions stay in the file with STATUS:CANCELLED so subscribers drop them.
VEVENTs formsync did not write (no X-FORMSYNC-HASH) are kept as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from icalendar import Calendar, Event, Timezone, vDuration

from formsync.calendar.event import (
    CANCELLED,
    ICS,
    DesiredEvent,
    ExistingEvent,
    ics_uid,
    id_from_uid,
)
from formsync.calendar.plan import STEP, CalendarAction, CancelEvent
from formsync.errors import BackendError
from formsync.local.files import write_if_changed
from formsync.model import Problem

PRODID = "-//formsync//formsync calendar//EN"
X_HASH, X_SESSION, X_GROUP = "X-FORMSYNC-HASH", "X-FORMSYNC-SESSION", "X-FORMSYNC-GROUP"
# How often a subscribed calendar should fetch the feed again: soon enough that a moved session
# shows the same day, rarely enough to be polite to the host (raw.githubusercontent.com).
REFRESH = dt.timedelta(hours=6)


@dataclass
class _Contents:
    """The parsed file: formsync's events by UID, and everything else kept verbatim."""

    ours: dict[str, Event] = field(default_factory=dict)
    foreign: list[Event] = field(default_factory=list)
    timezones: list[Timezone] = field(default_factory=list)


class IcsCalendar:
    """`calendar.ics`; `name` and `timezone` label the calendar for subscribing apps."""

    def __init__(self, path: Path, *, name: str = "", timezone: str = "") -> None:
        self.path = path
        self.name = name
        self.timezone = timezone

    def read(self) -> list[ExistingEvent]:
        return [_existing(uid, event) for uid, event in sorted(self._load().ours.items())]

    def apply(self, actions: Sequence[CalendarAction], now: dt.datetime) -> list[Problem]:
        """Apply this file's actions in memory, then write the file once (atomically)."""
        mine = [a for a in actions if a.target == ICS]
        if not mine:
            return []
        try:
            contents = self._load()
        except BackendError as error:
            return [_failure(self.path, error.message, error.fix)]
        stamp = now.astimezone(dt.UTC).replace(microsecond=0)
        for action in mine:
            _apply_one(contents, action, stamp)
        try:
            write_if_changed(self.path, self._render(contents))
        except OSError as error:
            return [_failure(self.path, f"could not write it: {error}",
                             "check that the folder exists and is writable")]
        return []

    # -- reading and writing the file ------------------------------------------------------

    def _load(self) -> _Contents:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return _Contents()
        except OSError as error:
            raise BackendError(f"cannot read {self.path}: {error}",
                               fix="check the file's permissions") from None
        try:
            calendar = Calendar.from_ical(text)
        except ValueError as error:
            raise BackendError(f"{self.path} is not a valid iCalendar file ({error})",
                               fix="move it away; formsync writes a new one next time") from None
        contents = _Contents()
        for component in calendar.subcomponents:
            if isinstance(component, Timezone):
                contents.timezones.append(component)
            elif isinstance(component, Event) and X_HASH in component and "UID" in component:
                contents.ours[str(component["UID"])] = component
            elif isinstance(component, Event):
                contents.foreign.append(component)
        return contents

    def _render(self, contents: _Contents) -> str:
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        if self.name:
            calendar.add("x-wr-calname", self.name)
        if self.timezone:
            calendar.add("x-wr-timezone", self.timezone)
        # RFC 7986 REFRESH-INTERVAL (Apple, Thunderbird); X-PUBLISHED-TTL for Outlook.
        calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(REFRESH))
        events = [event for _, event in sorted(contents.ours.items(), key=_session_order)]
        for event in [*events, *contents.foreign]:
            calendar.add_component(event)
        _add_timezones(calendar, contents.timezones, events)
        text: bytes = calendar.to_ical()
        return text.decode("utf-8")


def _session_order(item: tuple[str, Event]) -> tuple[int, str]:
    uid, event = item
    session = str(event.get(X_SESSION, ""))
    return (int(session) if session.isdigit() else 1 << 30, uid)


def _add_timezones(calendar: Calendar, old: Iterable[Timezone], events: Sequence[Event]) -> None:
    """A VTIMEZONE per zone used, covering the years of the events (stable, sorted)."""
    starts = [e.decoded("DTSTART") for e in events if "DTSTART" in e]
    years = [s.year for s in starts if isinstance(s, dt.date)]
    first = dt.date(min(years, default=2000), 1, 1)
    last = dt.date(max(years, default=2000) + 1, 12, 31)
    used = calendar.get_used_tzids() - {"UTC"}
    zones: list[Timezone] = []
    for tzid in sorted(used):
        try:
            zones.append(Timezone.from_tzid(tzid, first_date=first, last_date=last))
        except ValueError:
            zones += [tz for tz in old if str(tz.get("TZID")) == tzid]
    calendar.subcomponents[0:0] = zones


def _apply_one(contents: _Contents, action: CalendarAction, stamp: dt.datetime) -> None:
    if isinstance(action, CancelEvent):
        uid = ics_uid(action.previous.event_id)
        if uid in contents.ours:
            contents.ours[uid] = _cancelled(contents.ours[uid], stamp)
        return
    uid = ics_uid(action.event.event_id)
    old = contents.ours.get(uid)
    sequence = int(old.get("SEQUENCE", 0)) + 1 if old is not None else 0
    contents.ours[uid] = event_component(action.event, sequence, stamp)


def event_component(event: DesiredEvent, sequence: int, stamp: dt.datetime) -> Event:
    component = Event()
    component.add("uid", ics_uid(event.event_id))
    component.add("dtstamp", stamp)
    component.add("last-modified", stamp)
    component.add("sequence", sequence)
    component.add("status", event.status.upper())
    component.add("summary", event.title)
    component.add("dtstart", event.start)
    component.add("dtend", event.end)
    component.add("description", event.description)
    if event.location:
        component.add("location", event.location)
    component.add(X_GROUP.lower(), event.group)
    component.add(X_SESSION.lower(), event.session)
    component.add(X_HASH.lower(), event.content_hash())
    return component


def _cancelled(old: Event, stamp: dt.datetime) -> Event:
    component = old.copy()
    for name in ("STATUS", "SEQUENCE", "DTSTAMP", "LAST-MODIFIED"):
        component.pop(name, None)
    component.add("dtstamp", stamp)
    component.add("last-modified", stamp)
    component.add("sequence", int(old.get("SEQUENCE", 0)) + 1)
    component.add("status", CANCELLED.upper())
    return component


def _existing(uid: str, event: Event) -> ExistingEvent:
    start = event.decoded("DTSTART") if "DTSTART" in event else None
    summary = str(event.get("SUMMARY", ""))
    return ExistingEvent(
        target=ICS, event_id=id_from_uid(uid), session=str(event.get(X_SESSION, "")),
        content_hash=str(event.get(X_HASH, "")),
        status=str(event.get("STATUS", "CONFIRMED")).lower(),
        sequence=int(event.get("SEQUENCE", 0)), label=summary.rsplit(" · ", 1)[0],
        start=start if isinstance(start, dt.datetime) else None)


def _failure(path: Path, message: str, fix: str) -> Problem:
    return Problem(STEP, f"{path.name}: {message}; calendar events were not updated",
                   fix=fix, severity="error")
