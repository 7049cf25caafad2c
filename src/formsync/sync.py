"""Read state through the adapters, plan, apply, and say what happened."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

    from formsync.calendar import CalendarBackend
    from formsync.google.transport import RetryPolicy
    from formsync.reminders import Transport

from formsync.actions import Plan, SheetEdit
from formsync.config import Config
from formsync.errors import FormsyncError
from formsync.local.files import write_if_changed
from formsync.model import MEMBERS, REMINDERS, RESPONSES, SESSIONS, Problem, Snapshot, Table
from formsync.plan import STEPS, plan


class SheetsBackend(Protocol):
    """Where the responses and the master sheet's worksheets live (CSV folder or Google)."""

    def read_many(self, sheets: Iterable[str]) -> dict[str, Table | None]: ...

    def apply(self, edits: Iterable[SheetEdit]) -> Mapping[str, int]:
        """Apply the edits; for each sheet that got new rows, the sheet row of the first."""
        ...


@dataclass
class Report:
    plan: Plan
    applied: bool
    failures: list[Problem] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [*self.plan.problems, *self.failures]

    @property
    def exit_code(self) -> int:
        return 1 if any(p.severity == "error" for p in self.problems) else 0


def sheets_to_read(steps: Collection[str]) -> list[str]:
    wanted = [MEMBERS, SESSIONS]
    if "members" in steps:
        wanted.insert(0, RESPONSES)
    if "reminders" in steps:
        wanted.append(REMINDERS)
    return wanted


@dataclass
class Places:
    """The adapters one sync reads and writes; the calendar is built only if its step runs."""

    sheets: SheetsBackend
    calendar: CalendarBackend | None = None
    mail: Transport | None = None


def build_places(config: Config, sheets: SheetsBackend, steps: Collection[str], *,
                 policy: RetryPolicy | None = None,
                 credentials: Credentials | None = None) -> Places:
    """`policy` and `credentials`: the run's, shared with `sheets`, so the whole run has one
    retry budget and makes one token exchange."""
    places = Places(sheets)
    if "calendar" in steps:
        from formsync.calendar import build_calendar_backend

        places.calendar = build_calendar_backend(config, policy=policy, credentials=credentials)
    if "reminders" in steps:
        places.mail = _mail_transport(config, policy, credentials)
    return places


def _mail_transport(config: Config, policy: RetryPolicy | None,
                    credentials: Credentials | None) -> Transport:
    if config.reminders.transport == "gmail":
        from formsync.reminders.transports import GmailTransport

        return GmailTransport.from_config(config, policy=policy, credentials=credentials)
    from formsync.reminders import build_transport

    return build_transport(config)


def read_snapshot(config: Config, places: Places, steps: Collection[str]) -> Snapshot:
    tables = places.sheets.read_many(sheets_to_read(steps))
    events = tuple(places.calendar.read()) if places.calendar is not None else ()
    readme_text = None
    if "readme" in steps:
        try:
            readme_text = config.path(config.readme.path).read_text(encoding="utf-8")
        except FileNotFoundError:
            readme_text = None
    return Snapshot(responses=tables.get(RESPONSES), members=tables.get(MEMBERS),
                    sessions=tables.get(SESSIONS), reminders=tables.get(REMINDERS),
                    readme_text=readme_text, events=events)


def enabled_steps(config: Config, only: Collection[str] | None) -> list[str]:
    chosen = [s for s in STEPS if not only or s in only]
    disabled = {"readme": not config.readme.enabled, "calendar": not config.calendar.enabled,
                "reminders": not config.reminders.enabled}
    return [s for s in chosen if not disabled.get(s, False)]


def run_sync(config: Config, sheets: SheetsBackend | Places, now: dt.datetime, *,
             steps: Collection[str], dry_run: bool = False, force: bool = False) -> Report:
    places = sheets if isinstance(sheets, Places) else build_places(config, sheets, steps)
    snapshot = read_snapshot(config, places, steps)
    the_plan = plan(snapshot, config, now, steps, force=force)
    report = Report(the_plan, applied=not dry_run)
    if dry_run or the_plan.is_empty():
        return report
    _apply(the_plan, config, places, now, report, snapshot.reminders)
    return report


def _apply(the_plan: Plan, config: Config, places: Places, now: dt.datetime,
           report: Report, ledger: Table | None) -> None:
    try:
        places.sheets.apply(the_plan.sheet_edits)
    except FormsyncError as error:
        report.failures.append(Problem("sheets", f"could not write the sheets: {error.message}",
                                       fix=error.fix, severity="error"))
        return  # later steps build on the sheets; they run again next time
    if the_plan.readme is not None:
        write_if_changed(the_plan.readme.path, the_plan.readme.new_text)
    if the_plan.calendar and places.calendar is not None:
        report.failures += places.calendar.apply(the_plan.calendar, now)
    if the_plan.reminders and places.mail is not None:
        from formsync.reminders import send_reminders

        report.failures += send_reminders(the_plan.reminders, the_plan.sessions,
                                          the_plan.members, config, places.sheets, places.mail,
                                          now, ledger=ledger)
