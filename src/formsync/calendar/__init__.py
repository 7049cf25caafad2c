"""The calendar step: one event per dated session, in an `.ics` file and/or Google Calendar.

- `event.py`: the desired event of a session, its derived id and content hash (domain).
- `plan.py`: `plan_calendar(...)`, pure: sessions and existing events in, actions out.
- `ics.py`: `IcsCalendar`, the local backend (`calendar.ics`).
- `google.py`: `GoogleCalendar`, the Calendar v3 adapter (imported lazily: googleapiclient).

With the Google backend, events go to Google Calendar *and* to the `.ics` file next to the
README (for people who subscribe from Apple or Outlook calendars); each place is planned on its
own (`calendar_targets`), so a stale or deleted file is repaired without touching Google.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from formsync.calendar.event import ExistingEvent
from formsync.calendar.ics import IcsCalendar
from formsync.calendar.plan import CalendarAction, plan_calendar
from formsync.config import Config
from formsync.model import Problem

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

    from formsync.google.transport import RetryPolicy

__all__ = ["CalendarAction", "CalendarBackend", "ExistingEvent", "IcsCalendar",
           "MirroredCalendar", "build_calendar_backend", "plan_calendar"]


class CalendarBackend(Protocol):
    """A place events live. `apply` ignores actions of other targets and records as it goes:
    one failed action does not stop the others, each failure is a Problem."""

    def read(self) -> list[ExistingEvent]: ...

    def apply(self, actions: Sequence[CalendarAction], now: dt.datetime) -> list[Problem]: ...


class MirroredCalendar:
    """Google Calendar plus the `.ics` file: both read, each applies its own actions."""

    def __init__(self, primary: CalendarBackend, mirror: CalendarBackend) -> None:
        self.primary, self.mirror = primary, mirror

    def read(self) -> list[ExistingEvent]:
        return [*self.primary.read(), *self.mirror.read()]

    def apply(self, actions: Sequence[CalendarAction], now: dt.datetime) -> list[Problem]:
        return [*self.primary.apply(actions, now), *self.mirror.apply(actions, now)]


def ics_backend(config: Config) -> IcsCalendar:
    return IcsCalendar(config.path(config.calendar.ics_path), name=config.group.name,
                       timezone=config.group.timezone)


def build_calendar_backend(config: Config, *, policy: RetryPolicy | None = None,
                           credentials: Credentials | None = None) -> CalendarBackend:
    """Local backend: the `.ics` file. Google backend: Google Calendar mirrored to the file,
    its calls retried under `policy` (the run's, to share its retry budget)."""
    if config.backend.kind != "google":
        return ics_backend(config)
    from formsync.calendar.google import GoogleCalendar

    return MirroredCalendar(GoogleCalendar.from_config(config, policy=policy,
                                                       credentials=credentials),
                            ics_backend(config))
