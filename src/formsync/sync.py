"""Read state through the adapters, plan, apply, and say what happened."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from formsync.actions import Plan
from formsync.config import Config
from formsync.errors import FormsyncError
from formsync.model import MEMBERS, REMINDERS, RESPONSES, SESSIONS, Problem, Snapshot
from formsync.plan import plan
from formsync.ports import Places
from formsync.registry import steps as registered_steps
from formsync.step import ApplyContext


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


def sheets_to_read(chosen: Collection[str]) -> list[str]:
    """Members and Sessions (every step acts on the group), and what the chosen steps read."""
    reads = [name for step in registered_steps() if step.name in chosen for name in step.reads]
    return list(dict.fromkeys([MEMBERS, SESSIONS, *reads]))


def read_snapshot(config: Config, places: Places, chosen: Collection[str]) -> Snapshot:
    tables = places.sheets.read_many(sheets_to_read(chosen))
    events = tuple(places.calendar.read()) if places.calendar is not None else ()
    readme_text, readme_problem, readme_record = None, None, None
    if "readme" in chosen:
        readme_text, readme_problem = _read_readme(config)
        readme_record = _read_readme_record(config)
    known = (RESPONSES, MEMBERS, SESSIONS, REMINDERS)
    return Snapshot(responses=tables.get(RESPONSES), members=tables.get(MEMBERS),
                    sessions=tables.get(SESSIONS), reminders=tables.get(REMINDERS),
                    readme_text=readme_text, readme_problem=readme_problem,
                    readme_record=readme_record, events=events,
                    others={k: v for k, v in tables.items() if k not in known})


def _read_readme(config: Config) -> tuple[str | None, Problem | None]:
    path = config.path(config.readme.path)
    try:
        return path.read_text(encoding="utf-8"), None
    except FileNotFoundError:
        return None, None
    except UnicodeDecodeError as error:
        return None, _readme_error(f"{path} is not UTF-8 text ({error.reason} at byte "
                                   f"{error.start})", f"save {path.name} as UTF-8 text")
    except PermissionError as error:
        return None, _readme_error(f"cannot read the README at {path}: {error.strerror}",
                                   "let the user running formsync read it")
    except OSError as error:
        return None, _readme_error(f"cannot read the README at {path}: {error.strerror or error}",
                                   "set [readme] path in formsync.toml to the README file")


def _read_readme_record(config: Config) -> str | None:
    """formsync's record of the README table it wrote; an unreadable one counts as missing
    (formsync.readme_edits then compares without it)."""
    from formsync.readme_edits import record_path

    try:
        return record_path(config.path(config.readme.path)).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _readme_error(message: str, fix: str) -> Problem:
    return Problem("readme", message, severity="error",
                   fix=f"{fix}, or set [readme] enabled = false to skip this step")


def enabled_steps(config: Config, only: Collection[str] | None) -> list[str]:
    return [step.name for step in registered_steps()
            if (not only or step.name in only) and step.enabled(config)]


def run_sync(config: Config, places: Places, now: dt.datetime, *,
             steps: Collection[str], dry_run: bool = False, force: bool = False) -> Report:
    snapshot = read_snapshot(config, places, steps)
    the_plan = plan(snapshot, config, now, steps, force=force)
    report = Report(the_plan, applied=not dry_run)
    if dry_run or the_plan.is_empty():
        return report
    _apply(the_plan, ApplyContext(config, places, now, the_plan, snapshot), report)
    return report


def _apply(the_plan: Plan, context: ApplyContext, report: Report) -> None:
    try:
        context.places.sheets.apply(the_plan.sheet_edits)
    except FormsyncError as error:
        report.failures.append(Problem("sheets", f"could not write the sheets: {error.message}",
                                       fix=error.fix, severity="error"))
        return  # later steps build on the sheets; they run again next time
    for step in registered_steps():
        result = the_plan.step(step.name)
        if step.apply is not None and result.actions:
            report.failures += step.apply(result, context)
