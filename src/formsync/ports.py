"""Where the core meets the adapters: the protocols every backend implements, and the places
one run reads and writes. Types only: nothing here does I/O or imports an adapter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from formsync.actions import SheetEdit
from formsync.model import ExistingEvent, Problem, Table

if TYPE_CHECKING:
    from formsync.calendar.plan import CalendarAction
    from formsync.reminders.delivery import MailTransport


class SheetsBackend(Protocol):
    """Where the form's responses and the master sheet's worksheets live (CSV files or Google
    Sheets). Which worksheet lives in which spreadsheet is the backend's business."""

    def read_many(self, sheets: Iterable[str]) -> dict[str, Table | None]:
        """The worksheets by name; None for one that does not exist."""
        ...

    def apply(self, edits: Iterable[SheetEdit]) -> Mapping[str, int]:
        """Apply the edits; for each sheet that got new rows, the sheet row of the first."""
        ...


class CalendarBackend(Protocol):
    """A place events live. `apply` ignores actions of other targets and records as it goes:
    one failed action does not stop the others, each failure is a Problem."""

    def read(self) -> list[ExistingEvent]: ...

    def apply(self, actions: Sequence[CalendarAction], now: dt.datetime) -> list[Problem]: ...


@dataclass
class Places:
    """The adapters one run reads and writes; the calendar and the mail transport are built
    only when their step runs."""

    sheets: SheetsBackend
    calendar: CalendarBackend | None = None
    mail: MailTransport | None = None
