"""Sessions, configs and a read → plan → apply loop shared by the calendar tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from formsync.calendar.plan import CalendarAction, plan_calendar
from formsync.config import Config, parse_config
from formsync.model import Member, Problem, Session
from formsync.ports import CalendarBackend

NOW = dt.datetime(2020, 10, 1, 12, 0, tzinfo=dt.UTC)
GROUP = "Deep Learning Study Group"
CALENDAR_ID = "study-group@group.calendar.google.com"
FIRST_DAY = dt.date(2020, 10, 20)


def session(number: int | str, chapter: str = "", *, date: dt.date | None = None,
            start: dt.time | None = None, end: dt.time | None = None, **cells: Any) -> Session:
    key = str(number)
    return Session(row=int(key) + 1 if key.isdigit() else 99, key=key,
                   chapter=chapter or f"Chapter {key}", date=date, start=start, end=end,
                   **cells)


def fortnightly(count: int, *, first: dt.date = FIRST_DAY) -> list[Session]:
    """`count` dated sessions, one every two weeks from `first`, 17:00–19:30."""
    return [session(n, date=first + dt.timedelta(days=14 * (n - 1)), start=dt.time(17),
                    end=dt.time(19, 30)) for n in range(1, count + 1)]


def member(email: str, status: str = "active") -> Member:
    return Member(email=email, name=email.split("@")[0], registered="", updated="",
                  status=status, guide_volunteer="no", language="es", notes="")


def make_config(root: Path, *, timezone: str = "Europe/Madrid", language: str = "es",
                backend: str = "local", google: dict[str, Any] | None = None,
                **calendar: Any) -> Config:
    data: dict[str, Any] = {
        "group": {"name": GROUP, "timezone": timezone, "language": language},
        "backend": {"kind": backend}, "calendar": calendar}
    if google is not None:
        data["google"] = google
    return parse_config(data, root)


def sync(backend: CalendarBackend, sessions: Sequence[Session], config: Config, *,
         members: Sequence[Member] = (), now: dt.datetime = NOW, force: bool = False
         ) -> tuple[list[CalendarAction], list[Problem]]:
    """One calendar step: read, plan, apply. Returns the actions and every problem."""
    actions, problems = plan_calendar(sessions, members, backend.read(), config, now,
                                      force=force)
    failures = backend.apply(actions, now) if actions else []
    return actions, [*problems, *failures]
