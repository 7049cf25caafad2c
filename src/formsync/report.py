"""What a sync prints: counts first, then the problems, each with its place and its fix."""

from __future__ import annotations

from collections.abc import Iterable

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
    for step in plan.steps:
        title = _TITLES.get(step.step, step.step.capitalize())
        lines += _listing(title, [a.describe() for a in step.actions], verbose, prefix)
    problems = report.problems
    if problems:
        lines.append(f"Problems ({len(problems)}):")
        lines += [f"  {'ERROR' if p.severity == 'error' else 'warning'} [{p.step}] {p}"
                  for p in problems]
    lines.append(_verdict(report))
    return "\n".join(lines)


def _verdict(report: Report) -> str:
    if report.plan.is_empty():
        return "Nothing to do: everything is already in step."
    if not report.applied:
        return "Dry run: nothing was changed."
    if report.exit_code:
        return "Done, with errors above: fix them and run again (the rest was applied)."
    return "Done."
