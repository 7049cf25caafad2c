"""The calendar event a session should have: its identity, its content and a hash of it.

Both backends (the `.ics` file and Google Calendar) use the same identity and the same hash, so
formsync needs no stored state to know which event belongs to which session or whether it
changed: each event records its session and the hash of its content (`X-FORMSYNC-*`, or Google's
private extended properties). A new event's id is derived from (calendar id, group name, session);
after that the id recorded on the event is the session's, whatever the group is called later
(see calendar.plan). On Google the group's events are found by `group_key`, which a rename of
the group does not change.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from formsync.config import Config
from formsync.model import CANCELLED, CONFIRMED, TENTATIVE, ExistingEvent, Member, Session
from formsync.names import session_label

__all__ = ["CANCELLED", "CONFIRMED", "TENTATIVE", "ExistingEvent"]  # re-exported for adapters
GOOGLE, ICS = "google", "ics"  # the places an event lives (action and ExistingEvent targets)
UID_DOMAIN = "formsync"
HASH_VERSION = "1"  # bump when the content rules change on purpose (every event is rewritten)

_PLACEHOLDERS = frozenset({"", "tba", "tbd", "na", "n/a", "-", "por definir", "pendiente"})
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\((\S+?)\)")
_SPREADSHEET_IN_URL = re.compile(r"/spreadsheets/d/([a-zA-Z0-9_-]+)")

_WORDS = {
    "es": {"tentative": "tentativa", "guide": "Guía",
           "no_guide": "por definir", "readings": "Lecturas", "homework": "Tarea",
           "slides": "Diapositivas", "recording": "Grabación",
           "link": "Enlace de la reunión", "location": "Lugar"},
    "en": {"tentative": "tentative", "guide": "Guide",
           "no_guide": "to be decided", "readings": "Readings", "homework": "Homework",
           "slides": "Slides", "recording": "Recording", "link": "Meeting link",
           "location": "Location"},
}


def event_id(calendar_id: str, group: str, session: int | str) -> str:
    """A Google Calendar event id (base32hex, lower case, 32 chars) unique to the session: its
    number, or the ident of a session without one (a number and its text give the same id).

    The same value (plus `@formsync`) is the `.ics` UID, so both places share one identity.
    """
    seed = f"formsync\n{calendar_id}\n{group}\n{session}".encode()
    digest = hashlib.sha256(seed).digest()[:20]
    return base64.b32hexencode(digest).decode("ascii").lower()


def group_key(config: Config) -> str:
    """The group's mark on its Google events, the same whatever the group is called: a digest
    of its master spreadsheet's id (the group's own), or of its name when there is none."""
    master = config.google.master_spreadsheet.strip()
    if master:
        match = _SPREADSHEET_IN_URL.search(master)
        seed = f"formsync\nsheet\n{match.group(1) if match else master}"
    else:
        seed = f"formsync\nname\n{config.group.name}"
    return hashlib.sha256(seed.encode()).hexdigest()[:24]


def ics_uid(identifier: str) -> str:
    return f"{identifier}@{UID_DOMAIN}"


def id_from_uid(uid: str) -> str:
    return uid.removesuffix(f"@{UID_DOMAIN}")


@dataclass(frozen=True)
class DesiredEvent:
    """The event a session should have, in the group's zone."""

    event_id: str
    session: str  # the session number as text, or the ident of a session without one
    row: int  # the Sessions sheet row, for problems
    label: str  # short title for people: "Sesión 3 – Linear Neural Networks"
    title: str  # label plus " · group name"
    start: dt.datetime  # aware, in the group's zone
    end: dt.datetime
    timezone: str  # IANA name
    description: str
    location: str
    status: str  # CONFIRMED or TENTATIVE
    group: str
    attendees: tuple[str, ...] = ()  # lower-case emails, sorted
    group_id: str = ""  # group_key: how the Google backend finds the group's events

    def content_hash(self) -> str:
        """What formsync compares to decide whether the event changed."""
        content = [HASH_VERSION, self.title, self.start.isoformat(), self.end.isoformat(),
                   self.timezone, self.description, self.location, self.status,
                   list(self.attendees)]
        text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def clean_cell(text: str) -> str:
    """A sheet cell as plain text: placeholders dropped, markdown links made readable."""
    value = text.strip()
    if value.casefold() in _PLACEHOLDERS:
        return ""
    return _MARKDOWN_LINK.sub(lambda m: f"{m[1]} ({m[2]})" if m[1] else m[2], value)


def event_label(session: Session, language: str, *, tentative: bool) -> str:
    """"Sesión 3 – Linear Neural Networks", "Sesión opcional – Tools for Deep Learning"."""
    return session_label(session, language, note=_WORDS[language]["tentative"] if tentative
                         else "")


def event_description(session: Session, config: Config) -> str:
    words = _WORDS[config.group.language]
    lines = [f"{words['guide']}: {clean_cell(session.guide) or words['no_guide']}"]
    for key, cell in (("readings", session.readings), ("homework", session.exercises),
                      ("slides", session.slides), ("recording", session.recording)):
        value = clean_cell(cell)
        if value:
            lines.append(f"{words[key]}: {value}")
    if config.calendar.meeting_link:
        lines.append(f"{words['link']}: {config.calendar.meeting_link}")
    if config.calendar.location:
        lines.append(f"{words['location']}: {config.calendar.location}")
    return "\n".join(lines)


def session_times(session: Session, config: Config) -> tuple[dt.datetime, dt.datetime] | None:
    """Start and end in the group's zone; None when the session has no (usable) date.

    A tentative (proposed) session uses its proposed start and the default length.
    """
    group = config.group
    length = dt.timedelta(minutes=group.session_minutes)
    if session.date is not None:
        start = dt.datetime.combine(session.date, session.start or group.default_start,
                                    tzinfo=group.tz)
        if session.end is not None and session.end > (session.start or group.default_start):
            return start, dt.datetime.combine(session.date, session.end, tzinfo=group.tz)
        return start, _add_wall_time(start, length)
    if session.proposed is not None and config.calendar.publish_tentative:
        start = session.proposed.replace(tzinfo=group.tz)
        return start, _add_wall_time(start, length)
    return None


def _add_wall_time(start: dt.datetime, length: dt.timedelta) -> dt.datetime:
    # Elapsed time (UTC arithmetic): a 2-hour session lasts 2 hours even across a DST change.
    utc = start.astimezone(dt.UTC) + length
    return utc.astimezone(start.tzinfo)


def attendee_emails(members: Sequence[Member]) -> tuple[str, ...]:
    return tuple(sorted({m.email.strip().lower() for m in members
                         if m.is_active() and "@" in m.email}))


def desired_event(session: Session, ident: int | str, config: Config,
                  attendees: tuple[str, ...]) -> DesiredEvent | None:
    """The event of a session (`ident`: its number, or its ident without one), or None when
    it should have none."""
    times = session_times(session, config)
    if times is None:
        return None
    tentative = session.date is None
    label = event_label(session, config.group.language, tentative=tentative)
    return DesiredEvent(
        event_id=event_id(config.calendar.calendar_id, config.group.name, ident),
        session=str(ident), row=session.row, label=label,
        title=f"{label} · {config.group.name}", start=times[0], end=times[1],
        timezone=config.group.timezone, description=event_description(session, config),
        location=config.calendar.location or config.calendar.meeting_link,
        status=TENTATIVE if tentative else CONFIRMED, group=config.group.name,
        attendees=attendees, group_id=group_key(config))


def local_text(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
