"""Plain domain values shared by the core, the adapters and the CLI."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

# Worksheet names of the master spreadsheet (and CSV file stems of the local workspace).
MEMBERS = "Members"
SESSIONS = "Sessions"
REMINDERS = "Reminders"
RESPONSES = "responses"
PROBLEMS = "Problems"  # formsync's list of current problems (see formsync.problems)
SUBMISSIONS = "submissions"  # the homework Form's responses (see formsync.homework)
HOMEWORK = "Homework"  # formsync's matrix of who handed in which session's exercises

MEMBER_HEADER = ("Email", "Name", "Registered", "Updated", "Status", "Guide volunteer",
                 "Language", "Notes")
SESSION_HEADER = ("Session", "Chapter", "Guide", "Readings", "Exercises", "Date", "Start", "End",
                  "Slides", "Recording", "Notes", "Proposed date")
REMINDER_HEADER = ("Kind", "Session", "Recipient", "Status", "Message id", "Time", "Detail")
PROBLEM_HEADER = ("Sheet", "Row", "Column", "Problem", "Fix", "Severity", "First seen", "Ignore",
                  "Step", "Key")

# Members → Status. Only active members get email; paused ones are still members (they keep
# their row and may guide) but get nothing while paused; unsubscribed and removed ones neither.
ACTIVE, PAUSED, UNSUBSCRIBED, REMOVED = "active", "paused", "unsubscribed", "removed"
STATUSES = (ACTIVE, PAUSED, UNSUBSCRIBED, REMOVED)
# What people write, folded (case, accents and spaces ignored); a blank cell is active.
STATUS_WORDS: Mapping[str, str] = {
    **dict.fromkeys(("", "active", "activo", "activa", "alta"), ACTIVE),
    **dict.fromkeys(("paused", "pause", "pausa", "en pausa", "pausado", "pausada"), PAUSED),
    **dict.fromkeys(("unsubscribed", "unsubscribe", "baja", "de baja", "dado de baja",
                     "dada de baja"), UNSUBSCRIBED),
    **dict.fromkeys(("removed", "eliminado", "eliminada", "borrado", "borrada"), REMOVED),
}
CONFIRMED, TENTATIVE, CANCELLED = "confirmed", "tentative", "cancelled"  # calendar event status


@dataclass(frozen=True)
class Table:
    """A worksheet as read: its header and its data rows (row i is sheet row i + 2)."""

    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = ()

    @staticmethod
    def sheet_row(index: int) -> int:
        """The 1-based sheet row of data row `index` (the header is row 1)."""
        return index + 2


@dataclass(frozen=True)
class Problem:
    """Something a person should know: a skipped row, a broken rule, a failed action."""

    step: str
    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""
    fix: str = ""
    severity: str = "warning"  # "warning" (synced anyway) or "error" (skipped or failed)

    def place(self) -> str:
        parts = [self.sheet, f"row {self.row}" if self.row is not None else "",
                 f"column {self.column!r}" if self.column else ""]
        return ", ".join(p for p in parts if p)

    def __str__(self) -> str:
        place = self.place()
        text = f"{place}: {self.message}" if place else self.message
        return f"{text} (fix: {self.fix})" if self.fix else text


@dataclass(frozen=True)
class Member:
    email: str
    name: str
    registered: str
    updated: str
    status: str
    guide_volunteer: str
    language: str
    notes: str
    row: int | None = None  # sheet row when read from the Members sheet

    @property
    def standing(self) -> str | None:
        """The Status as one of STATUSES; None when formsync does not know the word."""
        return canonical_status(self.status)

    def is_active(self) -> bool:
        """Gets email (an unknown Status does not: formsync warns about it instead)."""
        return self.standing == ACTIVE


def canonical_status(text: str) -> str | None:
    """"Activo", " ACTIVE " and "activa" are ACTIVE; "Dada de baja" is UNSUBSCRIBED."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return STATUS_WORDS.get(" ".join(plain.split()))


@dataclass(frozen=True)
class Session:
    """One row of the Sessions sheet; link and text cells are kept as the organizers wrote them."""

    row: int
    key: str  # the Session cell as written ("3", "Optional", "")
    chapter: str
    guide: str = ""
    readings: str = ""
    exercises: str = ""
    date: dt.date | None = None
    start: dt.time | None = None
    end: dt.time | None = None
    slides: str = ""
    recording: str = ""
    notes: str = ""
    proposed: dt.datetime | None = None  # formsync's tentative date (naive, group-local)

    @property
    def number(self) -> int | None:
        return int(self.key) if self.key.strip().isdigit() else None

    @property
    def confirmed(self) -> bool:
        return self.date is not None

    def day(self) -> dt.date | None:
        """The confirmed date, else the proposed one."""
        if self.date is not None:
            return self.date
        return self.proposed.date() if self.proposed else None


@dataclass(frozen=True)
class ExistingEvent:
    """An event formsync made, as read back from a calendar backend (the same shape for all)."""

    target: str  # "google" or "ics"
    event_id: str
    session: str  # as recorded on the event ("" when the backend dropped it)
    content_hash: str
    status: str  # CONFIRMED, TENTATIVE or CANCELLED
    sequence: int = 0
    label: str = ""
    start: dt.datetime | None = None
    group_id: str | None = None  # the group mark it carries ("": none yet; None: not kept here)

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED


@dataclass(frozen=True)
class Snapshot:
    """Everything the planner needs, as read by the adapters. Absent tables mean 'not read'."""

    responses: Table | None = None
    members: Table | None = None
    sessions: Table | None = None
    reminders: Table | None = None
    readme_text: str | None = None
    readme_problem: Problem | None = None  # why the README could not be read (not: missing)
    readme_record: str | None = None  # formsync's record of the README table it wrote
    events: tuple[ExistingEvent, ...] = field(default=())  # calendar step: existing events
    others: Mapping[str, Table | None] = field(default_factory=dict)  # other steps' worksheets

    def tables(self) -> dict[str, Table | None]:
        """Every worksheet read, by name."""
        return {**self.others, RESPONSES: self.responses, MEMBERS: self.members,
                SESSIONS: self.sessions, REMINDERS: self.reminders}
