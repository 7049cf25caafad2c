"""Read state through the adapters, plan, apply, and say what happened."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from formsync.actions import Plan, SheetEdit
from formsync.config import Config
from formsync.errors import FormsyncError
from formsync.model import MEMBERS, PROBLEMS, REMINDERS, RESPONSES, SESSIONS, Problem, Snapshot
from formsync.plan import plan
from formsync.ports import Places
from formsync.problems import (
    CORE_STEP,
    Digest,
    Listing,
    digest_entries,
    due_digests,
    list_problems,
    problem_key,
)
from formsync.registry import steps as registered_steps
from formsync.reminders.plan import STEP as REMINDERS_STEP
from formsync.reminders.plan import organizers, reachable
from formsync.step import ApplyContext
from formsync.tables import apply_edit


@dataclass
class Report:
    plan: Plan
    applied: bool
    failures: list[Problem] = field(default_factory=list)
    listing: Listing = field(default_factory=Listing)  # the problems against the Problems sheet
    digests: list[Digest] = field(default_factory=list)  # organizers' emails of new problems

    @property
    def problems(self) -> list[Problem]:
        return [*self.plan.problems, *self.failures]

    @property
    def exit_code(self) -> int:
        """1 when an action failed or an error appeared that the Problems sheet did not list;
        errors listed before (or ignored there) do not fail every run until someone fixes them."""
        errors = [*self.failures, *self.listing.new]
        return 1 if any(p.severity == "error" for p in errors) else 0


def sheets_to_read(chosen: Collection[str]) -> list[str]:
    """Members and Sessions (every step acts on the group), what the chosen steps read, and
    the Problems sheet (what the run finds is compared with it)."""
    reads = [name for step in registered_steps() if step.name in chosen for name in step.reads]
    return list(dict.fromkeys([MEMBERS, SESSIONS, *reads, PROBLEMS]))


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
    context = ApplyContext(config, places, now, the_plan, snapshot)
    sheets_written = not dry_run and (the_plan.is_empty() or _apply(the_plan, context, report))
    _keep_problems(context, steps, report, sheets_written=sheets_written)
    return report


def _apply(the_plan: Plan, context: ApplyContext, report: Report) -> bool:
    """Apply the plan; False when the sheets could not be written (nothing else was done)."""
    try:
        context.places.sheets.apply(the_plan.sheet_edits)
    except FormsyncError as error:
        report.failures.append(Problem(CORE_STEP, f"could not write the sheets: {error.message}",
                                       fix=error.fix, severity="error"))
        return False  # later steps build on the sheets; they run again next time
    for step in registered_steps():
        result = the_plan.step(step.name)
        if step.apply is not None and result.actions:
            report.failures += step.apply(result, context)
    return True


def _keep_problems(context: ApplyContext, steps: Collection[str], report: Report, *,
                   sheets_written: bool) -> None:
    """Compare the run's problems (failed actions too, so after every step applied) with the
    Problems sheet, bring the sheet up to date, then mail the organizers the new ones. A dry
    run only compares and plans."""
    table = context.snapshot.tables().get(PROBLEMS)
    report.listing = list_problems(report.plan.problems, report.failures, table, ran=steps,
                                   now=context.now, tz=context.config.group.tz)
    if report.applied and not sheets_written:
        return  # the sheets could not be written: the next run lists and mails these
    edit = report.listing.edit
    if edit is not None:
        if report.applied and not _write_problems(context, edit, report):
            return
        table = apply_edit(table, edit)
    if context.places.mail is not None and not _mail_failed(report):
        people = organizers(context.config, reachable(context.plan.members))
        failed = {problem_key(p) for p in report.failures}
        report.digests = due_digests(table, context.snapshot.reminders, people, context.now,
                                     context.config.group.tz, failed=failed)
    if report.applied and report.digests:
        _send_digests(context, report)


def _mail_failed(report: Report) -> bool:
    """The reminders step could not send (the transport or the account refused): the digests
    wait for the next run rather than try the same transport again now."""
    return any(p.step == REMINDERS_STEP and p.severity == "error" for p in report.failures)


def _write_problems(context: ApplyContext, edit: SheetEdit, report: Report) -> bool:
    try:
        context.places.sheets.apply([edit])
    except FormsyncError as error:
        report.failures.append(Problem(CORE_STEP, f"could not write the {PROBLEMS} sheet: "
                                       f"{error.message}", fix=error.fix, severity="error"))
        return False
    return True


def _send_digests(context: ApplyContext, report: Report) -> None:
    from formsync.reminders.send import send_reminders

    assert context.places.mail is not None
    extras = {d.reminder.key: {"problems": digest_entries(d.problems)} for d in report.digests}
    report.failures += send_reminders(
        [d.reminder for d in report.digests], context.plan.sessions, context.plan.members,
        context.config, context.places.sheets, context.places.mail, context.now, extras=extras)
