"""Read state through the adapters, plan, apply, and say what happened."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from formsync.actions import Plan, SheetEdit
from formsync.config import Config
from formsync.errors import FormsyncError
from formsync.local.files import write_if_changed
from formsync.model import MEMBERS, REMINDERS, RESPONSES, SESSIONS, Problem, Snapshot, Table
from formsync.plan import STEPS, plan


class SheetsBackend(Protocol):
    """Where the responses and the master sheet's worksheets live (CSV folder or Google)."""

    def read_many(self, sheets: Iterable[str]) -> dict[str, Table | None]: ...

    def apply(self, edits: Iterable[SheetEdit]) -> None: ...


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


def read_snapshot(config: Config, sheets: SheetsBackend, steps: Collection[str]) -> Snapshot:
    tables = sheets.read_many(sheets_to_read(steps))
    readme_text = None
    if "readme" in steps:
        try:
            readme_text = config.path(config.readme.path).read_text(encoding="utf-8")
        except FileNotFoundError:
            readme_text = None
    return Snapshot(responses=tables.get(RESPONSES), members=tables.get(MEMBERS),
                    sessions=tables.get(SESSIONS), reminders=tables.get(REMINDERS),
                    readme_text=readme_text)


def enabled_steps(config: Config, only: Collection[str] | None) -> list[str]:
    chosen = [s for s in STEPS if not only or s in only]
    disabled = {"readme": not config.readme.enabled, "calendar": not config.calendar.enabled,
                "reminders": not config.reminders.enabled}
    return [s for s in chosen if not disabled.get(s, False)]


def run_sync(config: Config, sheets: SheetsBackend, now: dt.datetime, *,
             steps: Collection[str], dry_run: bool = False) -> Report:
    snapshot = read_snapshot(config, sheets, steps)
    the_plan = plan(snapshot, config, now, steps)
    report = Report(the_plan, applied=not dry_run)
    if dry_run or the_plan.is_empty():
        return report
    _apply(the_plan, sheets, report)
    return report


def _apply(the_plan: Plan, sheets: SheetsBackend, report: Report) -> None:
    try:
        sheets.apply(the_plan.sheet_edits)
    except FormsyncError as error:
        report.failures.append(Problem("sheets", f"could not write the sheets: {error.message}",
                                       fix=error.fix, severity="error"))
        return  # later steps build on the sheets; they run again next time
    if the_plan.readme is not None:
        write_readme(the_plan.readme.path, the_plan.readme.new_text)


def write_readme(path: Path, text: str) -> bool:
    return write_if_changed(path, text)
