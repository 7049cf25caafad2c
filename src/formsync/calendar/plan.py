"""The calendar step's pure core: sessions and existing events in, calendar actions out.

Per place an event lives (Google Calendar and/or the `.ics` file), each session with a date gets
exactly one event. A session's event is the one with its derived id, else the one that records
its session (so renaming the group, which changes derived ids, updates the events in place),
else a new one, with the id the other place's copy has if there is one:

- no event for the session yet               -> CreateEvent
- the event exists but was cancelled         -> ReviveEvent (the id stays taken on Google)
- the event exists with another content hash -> UpdateEvent ("move" when the time changed);
  also when it lacks the group's mark (an event written before formsync marked them)
- an event of the group without a session    -> CancelEvent (session removed or lost its date)

Safety stop: when no session has an event any more but events exist, nothing is cancelled
unless forced (an empty or misread Sessions sheet must not wipe members' calendars).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
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
from formsync.names import public_sessions, session_ident

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

    @property
    def mark_only(self) -> bool:
        """Only the group's mark is added (an event an older formsync wrote)."""
        return self.previous.content_hash == self.event.content_hash()

    def describe(self) -> str:
        if self.mark_only:
            return f"mark event {self.event.label} as this group's in {self.where}"
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
    identified = _identified_sessions(public_sessions(sessions, members), problems)
    actions: list[CalendarAction] = []
    for target in calendar_targets(config):
        invite = target == GOOGLE and config.calendar.invite_members
        attendees = attendee_emails(members) if invite else ()
        desired = [e for n, s in identified if (e := desired_event(s, n, config, attendees))]
        mine = [_in_zone(e, config) for e in existing if e.target == target]
        mirror = _ids_by_session(e for e in existing if e.target != target)
        found, stop = _diff(target, target_label(target, config), desired, mine, mirror,
                            force=force)
        actions += found
        problems += stop
    problems += _time_problems(sessions)
    return sorted(actions, key=_order), problems


def _identified_sessions(sessions: Sequence[Session], problems: list[Problem]
                         ) -> list[tuple[int | str, Session]]:
    """Each session that may have an event, with what identifies it: its number, else its
    ident ("Optional Session - Tools"); undated sessions without a number have none."""
    seen: dict[str, tuple[int | str, Session]] = {}
    for session in sessions:
        ident: int | str = session.number if session.number is not None \
            else session_ident(session)
        if session.number is None and (session.date is None or not ident):
            continue
        if str(ident) in seen:
            first = seen[str(ident)][1]
            problems.append(Problem(
                STEP, f"session {ident} appears twice (rows {first.row} and {session.row}); "
                      f"only row {first.row} gets a calendar event",
                sheet=SESSIONS, row=session.row, column="Session", severity="error",
                fix="give each session its own number"))
            continue
        seen[str(ident)] = (ident, session)
    return sorted(seen.values(), key=lambda item: _session_order(str(item[0])))


def _session_order(session: str) -> tuple[int, str]:
    return (int(session) if session.isdigit() else 1 << 30, session)


def _ids_by_session(events: Iterable[ExistingEvent]) -> dict[str, str]:
    """The id each session's event has in the other place (a live one first)."""
    found: dict[str, str] = {}
    for event in sorted(events, key=lambda e: (e.cancelled, e.event_id)):
        if event.session:
            found.setdefault(event.session, event.event_id)
    return found


def _time_problems(sessions: Sequence[Session]) -> list[Problem]:
    return [Problem(STEP, f"session {s.key or s.chapter[:40]!r} ends ({s.end:%H:%M}) before it "
                          f"starts; the event uses the default length", sheet=SESSIONS,
                    row=s.row, column="End", fix="correct the End time")
            for s in sessions
            if s.date is not None and s.end is not None
            and s.start is not None and s.end <= s.start]


def _in_zone(event: ExistingEvent, config: Config) -> ExistingEvent:
    if event.start is None:
        return event
    return replace(event, start=event.start.astimezone(config.group.tz))


def _diff(target: str, where: str, desired: Sequence[DesiredEvent],
          existing: Sequence[ExistingEvent], mirror: Mapping[str, str], *, force: bool
          ) -> tuple[list[CalendarAction], list[Problem]]:
    actions: list[CalendarAction] = []
    claimed = _claim(desired, existing, mirror)
    for event, previous in claimed:
        if previous is None:
            actions.append(CreateEvent(target, where, event))
        elif previous.cancelled:
            actions.append(ReviveEvent(target, where, event, previous))
        elif previous.content_hash != event.content_hash() or _unmarked(previous, event):
            actions.append(UpdateEvent(target, where, event, previous))
    kept = {previous.event_id for _, previous in claimed if previous is not None}
    stale = [e for e in existing if e.event_id not in kept and not e.cancelled]
    if stale and not desired and not force:
        return actions, [Problem(
            STEP, f"no session has a date any more, but {len(stale)} event(s) exist in "
                  f"{where}; nothing was cancelled", severity="error",
            fix="check the Sessions sheet (a renamed Date column reads as undated); if every "
                "session really was removed, run again with --force")]
    actions += [CancelEvent(target, where, e) for e in stale]
    return actions, []


def _claim(desired: Sequence[DesiredEvent], existing: Sequence[ExistingEvent],
           mirror: Mapping[str, str]) -> list[tuple[DesiredEvent, ExistingEvent | None]]:
    """Each desired event with the event it becomes (None: a new one), carrying that event's
    id. By derived id first, then by recorded session (live events first), then a new event
    with the id the other place's copy has (Google keeps that id taken: inserting it again
    revives the event in place)."""
    by_id = {e.event_id: e for e in existing}
    taken = {e.event_id for e in desired if e.event_id in by_id}
    spare: dict[str, list[ExistingEvent]] = {}
    for found in sorted(existing, key=lambda e: (e.cancelled, e.event_id)):
        if found.event_id not in taken:
            spare.setdefault(found.session, []).append(found)
    claimed: list[tuple[DesiredEvent, ExistingEvent | None]] = []
    for event in desired:
        previous = by_id.get(event.event_id) or _pop(spare.get(event.session))
        if previous is not None:
            claimed.append((replace(event, event_id=previous.event_id), previous))
            continue
        hint = mirror.get(event.session, "")
        if hint and hint not in by_id and hint not in taken:
            event = replace(event, event_id=hint)
        taken.add(event.event_id)
        claimed.append((event, None))
    return claimed


def _pop(events: list[ExistingEvent] | None) -> ExistingEvent | None:
    return events.pop(0) if events else None


def _unmarked(previous: ExistingEvent, event: DesiredEvent) -> bool:
    """An event the place keeps the group mark of, without this group's mark."""
    return previous.group_id is not None and previous.group_id != event.group_id


def _order(action: CalendarAction) -> tuple[int, int, str, int, str]:
    session = action.session
    number = int(session) if session.isdigit() else 1 << 30
    event_id = action.previous.event_id if isinstance(action, CancelEvent) \
        else action.event.event_id
    return (_TARGET_ORDER[action.target], number, session, _KIND_ORDER[action.kind], event_id)
