"""The calendar step's pure core: sessions and existing events in, calendar actions out.

Per place an event lives (Google Calendar and/or the `.ics` file), each session with a date gets
exactly one event, keyed by its derived id:

- no event with that id yet                  -> CreateEvent
- the event exists but was cancelled         -> ReviveEvent (the id stays taken on Google)
- the event exists with another content hash -> UpdateEvent ("move" when the time changed)
- an event of the group without a session    -> CancelEvent (session removed or lost its date)

Safety stop: when no session has an event any more but events exist, nothing is cancelled
unless forced (an empty or misread Sessions sheet must not wipe members' calendars).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from formsync.backends import calendar_targets
from formsync.calendar.event import (
    GOOGLE,
    ICS,
    DesiredEvent,
    ExistingEvent,
    attendee_emails,
    desired_event,
    local_text,
)
from formsync.config import Config
from formsync.model import SESSIONS, Member, Problem, Session

STEP = "calendar"
_TARGET_ORDER = {GOOGLE: 0, ICS: 1}
_KIND_ORDER = {"cancel": 0, "revive": 1, "update": 2, "create": 3}


@dataclass(frozen=True)
class CreateEvent:
    target: str
    where: str  # for people: "Google Calendar", "calendar.ics"
    event: DesiredEvent
    kind: ClassVar[str] = "create"

    @property
    def session(self) -> str:
        return self.event.session

    def describe(self) -> str:
        return f"create event {self.event.label} on {local_text(self.event.start)} " \
               f"in {self.where}"


@dataclass(frozen=True)
class UpdateEvent:
    target: str
    where: str
    event: DesiredEvent
    previous: ExistingEvent
    kind: ClassVar[str] = "update"

    @property
    def session(self) -> str:
        return self.event.session

    @property
    def moved(self) -> bool:
        return self.previous.start is not None and self.previous.start != self.event.start

    def describe(self) -> str:
        if self.moved and self.previous.start is not None:
            return (f"move event {self.event.label} from {local_text(self.previous.start)} "
                    f"to {local_text(self.event.start)} in {self.where}")
        return f"update event {self.event.label} on {local_text(self.event.start)} " \
               f"in {self.where}"


@dataclass(frozen=True)
class ReviveEvent:
    target: str
    where: str
    event: DesiredEvent
    previous: ExistingEvent
    kind: ClassVar[str] = "revive"

    @property
    def session(self) -> str:
        return self.event.session

    def describe(self) -> str:
        return f"restore cancelled event {self.event.label} on " \
               f"{local_text(self.event.start)} in {self.where}"


@dataclass(frozen=True)
class CancelEvent:
    target: str
    where: str
    previous: ExistingEvent
    kind: ClassVar[str] = "cancel"

    @property
    def session(self) -> str:
        return self.previous.session

    def describe(self) -> str:
        label = self.previous.label or f"of session {self.previous.session or '?'}"
        when = f" on {local_text(self.previous.start)}" if self.previous.start else ""
        return f"cancel event {label}{when} in {self.where}"


CalendarAction = CreateEvent | UpdateEvent | ReviveEvent | CancelEvent


def target_label(target: str, config: Config) -> str:
    return "Google Calendar" if target == GOOGLE else config.calendar.ics_path.name


def plan_calendar(sessions: Sequence[Session], members: Sequence[Member],
                  existing: Sequence[ExistingEvent], config: Config, now: dt.datetime, *,
                  force: bool = False) -> tuple[list[CalendarAction], list[Problem]]:
    """Actions that make every place's events match the sessions. Pure; `now` is unused today
    (kept so that the signature matches the other steps)."""
    del now
    problems: list[Problem] = []
    numbered = _numbered_sessions(sessions, problems)
    actions: list[CalendarAction] = []
    for target in calendar_targets(config):
        invite = target == GOOGLE and config.calendar.invite_members
        attendees = attendee_emails(members) if invite else ()
        desired = [e for n, s in numbered if (e := desired_event(s, n, config, attendees))]
        mine = [_in_zone(e, config) for e in existing if e.target == target]
        found, stop = _diff(target, target_label(target, config), desired, mine, force=force)
        actions += found
        problems += stop
    problems += _time_problems(sessions)
    return sorted(actions, key=_order), problems


def _numbered_sessions(sessions: Sequence[Session], problems: list[Problem]
                       ) -> list[tuple[int, Session]]:
    seen: dict[int, Session] = {}
    for session in sessions:
        number = session.number
        if number is None:
            if session.date is not None:
                problems.append(Problem(
                    STEP, f"session {session.key or session.chapter[:40]!r} has a date but no "
                          "number, so it gets no calendar event", sheet=SESSIONS,
                    row=session.row, column="Session",
                    fix="write its number in the Session column (1, 2, ...)"))
            continue
        if number in seen:
            problems.append(Problem(
                STEP, f"session {number} appears twice (rows {seen[number].row} and "
                      f"{session.row}); only row {seen[number].row} gets a calendar event",
                sheet=SESSIONS, row=session.row, column="Session", severity="error",
                fix="give each session its own number"))
            continue
        seen[number] = session
    return sorted(seen.items(), key=lambda item: item[0])


def _time_problems(sessions: Sequence[Session]) -> list[Problem]:
    return [Problem(STEP, f"session {s.key or s.chapter[:40]!r} ends ({s.end:%H:%M}) before it "
                          f"starts; the event uses the default length", sheet=SESSIONS,
                    row=s.row, column="End", fix="correct the End time")
            for s in sessions
            if s.date is not None and s.number is not None and s.end is not None
            and s.start is not None and s.end <= s.start]


def _in_zone(event: ExistingEvent, config: Config) -> ExistingEvent:
    if event.start is None:
        return event
    return replace(event, start=event.start.astimezone(config.group.tz))


def _diff(target: str, where: str, desired: Sequence[DesiredEvent],
          existing: Sequence[ExistingEvent], *, force: bool
          ) -> tuple[list[CalendarAction], list[Problem]]:
    by_id = {e.event_id: e for e in existing}
    actions: list[CalendarAction] = []
    for event in desired:
        previous = by_id.get(event.event_id)
        if previous is None:
            actions.append(CreateEvent(target, where, event))
        elif previous.cancelled:
            actions.append(ReviveEvent(target, where, event, previous))
        elif previous.content_hash != event.content_hash():
            actions.append(UpdateEvent(target, where, event, previous))
    wanted = {e.event_id for e in desired}
    stale = [e for e in existing if e.event_id not in wanted and not e.cancelled]
    if stale and not desired and not force:
        return actions, [Problem(
            STEP, f"no session has a date any more, but {len(stale)} event(s) exist in "
                  f"{where}; nothing was cancelled", severity="error",
            fix="check the Sessions sheet (a renamed Date column reads as undated); if every "
                "session really was removed, run again with --force")]
    actions += [CancelEvent(target, where, e) for e in stale]
    return actions, []


def _order(action: CalendarAction) -> tuple[int, int, str, int, str]:
    session = action.session
    number = int(session) if session.isdigit() else 1 << 30
    event_id = action.previous.event_id if isinstance(action, CancelEvent) \
        else action.event.event_id
    return (_TARGET_ORDER[action.target], number, session, _KIND_ORDER[action.kind], event_id)
