"""What a sync prints: counts first, then the new problems, each with its place and its fix,
and one line for those the Problems sheet already lists. Also as Markdown (a GitHub Actions job
summary)."""

from __future__ import annotations

from collections.abc import Iterable

from formsync.markdown import escape_text
from formsync.model import PROBLEMS, Problem
from formsync.problems import problem_key
from formsync.sync import Report

SHOWN = 8  # changes listed per place unless --verbose
_TITLES = {"readme": "README"}


def _listing(title: str, lines: Iterable[str], verbose: bool, prefix: str) -> list[str]:
    items = list(lines)
    if not items:
        return []
    shown = items if verbose else items[:SHOWN]
    out = [f"{title}: {len(items)} change{'s' if len(items) != 1 else ''}"]
    out += [f"  {prefix}{line}" for line in shown]
    if len(items) > len(shown):
        out.append(f"  … and {len(items) - len(shown)} more (--verbose lists them all)")
    return out


def render_report(report: Report, *, verbose: bool) -> str:
    plan = report.plan
    prefix = "" if report.applied else "would "
    lines: list[str] = []
    for note in plan.notes:
        lines.append(f"Read: {note}")
    for edit in plan.sheet_edits:
        lines += _listing(edit.sheet, edit.summary, verbose, prefix)
    failed_steps = {p.step for p in report.failures}
    for step in plan.steps:
        title = _TITLES.get(step.step, step.step.capitalize())
        step_prefix = prefix
        if report.applied and step.step in failed_steps:
            # Not "send …" as if done: some of these failed (each is listed below).
            title, step_prefix = f"{title} (not all done: see the errors below)", "tried to "
        lines += _listing(title, [a.describe() for a in step.actions], verbose, step_prefix)
    lines += _listing("Digest", [d.reminder.describe() for d in report.digests], verbose,
                      prefix)
    shown, quiet = _problems(report)
    if shown:
        lines.append(f"Problems ({len(shown)}):")
        lines += [f"  {_severity(p)} [{p.step}] {p}" for p in shown]
    lines += _known_summary(report, quiet) + _sheet_summary(report, prefix)
    lines.append(_verdict(report))
    return "\n".join(lines)


def _severity(problem: Problem) -> str:
    return "ERROR" if problem.severity == "error" else "warning"


def _problems(report: Report) -> tuple[list[Problem], list[Problem]]:
    """The problems shown in full (new ones, and this run's failed actions) and the others."""
    new = list(report.listing.new)
    keys = {problem_key(p) for p in new}
    failed = [p for p in report.failures if problem_key(p) not in keys]
    keys |= {problem_key(p) for p in failed}
    quiet = [p for p in (*report.listing.known, *report.listing.ignored)
             if problem_key(p) not in keys]
    return new + failed, quiet


def _known_summary(report: Report, quiet: list[Problem]) -> list[str]:
    if not quiet:
        return []
    ignored = sum(1 for p in quiet if p in report.listing.ignored)
    count = f"{len(quiet)} known problem{'s' if len(quiet) != 1 else ''}: see {PROBLEMS}"
    return [f"{count} ({ignored} ignored)" if ignored else count]


def _sheet_summary(report: Report, prefix: str) -> list[str]:
    listing = report.listing
    if listing.edit is None:
        return []
    parts = [f"{prefix}list {len(listing.new)} new"] if listing.new else []
    parts += [f"{prefix}remove {len(listing.solved)} solved"] if listing.solved else []
    return [f"{PROBLEMS} sheet: {', '.join(parts) or prefix + 'add its header'}"]


def _verdict(report: Report) -> str:
    if report.plan.is_empty() and report.listing.edit is None and not report.digests:
        return "Nothing to do: everything is already in step."
    if not report.applied:
        return "Dry run: nothing was changed."
    if report.exit_code:
        return "Done, with errors above: fix them and run again (the rest was applied)."
    return "Done."


def render_markdown(report: Report) -> str:
    """The report as a GitHub Actions job summary: the verdict, the changes by place, and a
    table of the problems (new ones and failed actions first)."""
    lines = ["## formsync sync", "", _verdict(report), ""]
    changes = [(edit.sheet, len(edit.summary)) for edit in report.plan.sheet_edits]
    changes += [(_TITLES.get(s.step, s.step.capitalize()), len(s.actions))
                for s in report.plan.steps if s.actions]
    if changes:
        verb = "Changes" if report.applied else "Changes (dry run, not applied)"
        lines += [f"{verb}: " + ", ".join(f"{name} {count}" for name, count in changes), ""]
    shown, quiet = _problems(report)
    known = [p for p in quiet if p not in report.listing.ignored]
    if shown or known:
        lines += ["| | Place | What is wrong | Fix |", "| --- | --- | --- | --- |"]
        lines += [_markdown_row("new" if p in report.listing.new else "failed", p)
                  for p in shown]
        lines += [_markdown_row("known", p) for p in known]
        lines.append("")
    lines += [line + "  " for line in _known_summary(report, quiet)]
    return "\n".join(lines).rstrip() + "\n"


def _markdown_row(status: str, problem: Problem) -> str:
    cells = [f"{status} {problem.severity}", problem.place() or problem.step, problem.message,
             problem.fix]
    return "| " + " | ".join(escape_text(" ".join(cell.split())) for cell in cells) + " |"
