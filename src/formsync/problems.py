"""The Problems worksheet: every current problem with its place, its fix and when it was first
seen, so that organizers can act on them, and a run exits 1 only for what is new.

Pure: `list_problems` compares what a run found with the sheet as read and returns the edit;
`due_digests` plans the organizers' digest emails. The core (formsync.sync) writes and sends.

Identity. A problem is the same from run to run when its step, sheet, row, column and message
match, numbers in the message aside (counts and dates change while the problem stays): its `Key`.
So `First seen` and an organizer's tick in `Ignore` stay with it.

Rows. A listed problem keeps its row. A solved one is cleared: every cell written empty, which is
safe twice or late (deleting the row is not: a repeated delete removes another row), and the
Problems sheet is where organizers look for what is wrong now, not a history. New problems take
the blank rows, top first, then the rows after the last one read: explicit positions derived from
what was read, so a repeated or late write lands on the same cells. Only rows of the steps that
ran are compared (`--only members` leaves the others as they are). A run with nothing new or
solved writes nothing.

Digest. Each error goes to the organizers once, in the digest of the run that first listed it.
The digest is a reminder of kind `problems` in the Reminders ledger, keyed by the `First seen`
stamp that its problems share, so the ledger sends it exactly once per organizer, and a run that
listed problems but was stopped before mailing them is caught up by the next one (within
DIGEST_WINDOW: problems listed while the reminders step was off are not mailed later). Only
errors are mailed, the problems that fail a run: warnings were synced anyway (and some have
their own email, such as the no-guide alert). Failed actions are listed but not mailed: they
are this run's, and the next run retries them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

from formsync.actions import CellWrite, SheetEdit
from formsync.columns import fold
from formsync.model import PROBLEM_HEADER, PROBLEMS, Problem, Table
from formsync.reminders.ledger import is_open, parse_time, read_ledger
from formsync.reminders.plan import PROBLEMS as DIGEST
from formsync.reminders.plan import Person, Reminder, local

CORE_STEP = "sheets"  # problems of the core itself (the sheets could not be written)
DIGEST_WINDOW = dt.timedelta(days=1)
_NUMBER = re.compile(r"\d+")
_NOT_TICKED = frozenset({"", "false", "falso", "no", "n", "0"})


def problem_key(problem: Problem) -> str:
    """The problem's identity: step, place and message, numbers in the message aside."""
    message = _NUMBER.sub("#", " ".join(problem.message.split()))
    row = "" if problem.row is None else str(problem.row)
    text = "\x1f".join((problem.step, problem.sheet, row, problem.column, message))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def stamp(now: dt.datetime, tz: dt.tzinfo) -> str:
    """`First seen`: group-local, to the second (the digest's key, so not to the minute)."""
    return local(now, tz).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Listed:
    """A row of the Problems sheet as read."""

    row: int  # sheet row
    key: str
    problem: Problem
    first_seen: str
    ignored: bool


def _positions(header: Sequence[str]) -> dict[str, int]:
    folded = [fold(name) for name in header]
    return {name: folded.index(fold(name)) for name in PROBLEM_HEADER if fold(name) in folded}


def read_listed(table: Table | None) -> list[Listed]:
    """formsync's rows (those with a Key), in sheet order; the first row of a key counts."""
    if table is None or not table.header:
        return []
    at = _positions(table.header)

    def cell(line: tuple[str, ...], name: str) -> str:
        index = at.get(name)
        return line[index].strip() if index is not None and index < len(line) else ""

    found: dict[str, Listed] = {}
    for index, line in enumerate(table.rows):
        key = cell(line, "Key")
        if not key or key in found:
            continue
        row = cell(line, "Row")
        problem = Problem(cell(line, "Step"), cell(line, "Problem"), sheet=cell(line, "Sheet"),
                          row=int(row) if row.isdigit() else None, column=cell(line, "Column"),
                          fix=cell(line, "Fix"), severity=cell(line, "Severity") or "warning")
        found[key] = Listed(Table.sheet_row(index), key, problem, cell(line, "First seen"),
                            fold(cell(line, "Ignore")) not in _NOT_TICKED)
    return list(found.values())


@dataclass(frozen=True)
class Listing:
    """How a run's problems compare with the Problems sheet, and the edit that brings it up to
    date (None: nothing to write)."""

    new: tuple[Problem, ...] = ()
    known: tuple[Problem, ...] = ()  # listed before, not ignored
    ignored: tuple[Problem, ...] = ()  # listed before, ticked in Ignore
    solved: tuple[Problem, ...] = ()  # listed before, gone now: their rows are cleared
    edit: SheetEdit | None = None


def list_problems(found: Sequence[Problem], failed: Sequence[Problem], table: Table | None,
                  *, ran: Collection[str], now: dt.datetime, tz: dt.tzinfo) -> Listing:
    """Compare the problems a run found (`found`: planning; `failed`: actions) with the sheet
    as read. Rows of steps that did not run (`ran`) are left alone."""
    failures = {problem_key(p) for p in failed}
    current = {problem_key(p): p for p in reversed([*found, *failed])}  # the first one counts
    listed = {entry.key: entry for entry in read_listed(table)}
    # Failed actions go below the rows' problems: the next run usually clears them, and the
    # sheet then ends where it would have without them.
    new = sorted((p for key, p in current.items() if key not in listed),
                 key=lambda p: (problem_key(p) in failures, *_place(p)))
    known = [p for key, p in current.items() if key in listed and not listed[key].ignored]
    ignored = [p for key, p in current.items() if key in listed and listed[key].ignored]
    solved = [e for e in listed.values()
              if e.key not in current and (e.problem.step in ran or e.problem.step == CORE_STEP)]
    return Listing(tuple(sorted(new, key=_place)), tuple(sorted(known, key=_place)),
                   tuple(sorted(ignored, key=_place)), tuple(e.problem for e in solved),
                   _edit(table, new, [e.row for e in solved], stamp(now, tz)))


def _place(problem: Problem) -> tuple[str, int, str, str]:
    return (problem.sheet, problem.row or 0, problem.column, problem.message)


def _edit(table: Table | None, new: Sequence[Problem], solved_rows: Sequence[int],
          first_seen: str) -> SheetEdit | None:
    old = table.header if table is not None else ()
    header = (*old, *(name for name in PROBLEM_HEADER if fold(name) not in map(fold, old)))
    add_header = header != old
    if not (new or solved_rows or add_header):
        return None
    names = {name: header[index] for name, index in _positions(header).items()}
    cleared = set(solved_rows)
    writes: list[CellWrite] = []
    for problem, row in zip(new, _free_rows(table, cleared), strict=False):
        cleared.discard(row)
        cells = _cells(problem, first_seen)
        writes += [CellWrite(row, column, cells.get(name, "")) for name, column in names.items()]
    for row in sorted(cleared):
        writes += [CellWrite(row, column, "") for column in header]
    summary = (*(f"list the problem at {p.place() or p.step}: {p.message}" for p in new),
               *(f"remove the solved problem of row {row}" for row in sorted(solved_rows)))
    return SheetEdit(PROBLEMS, header, add_header=add_header, writes=tuple(writes),
                     summary=summary)


def _free_rows(table: Table | None, cleared: Collection[int]) -> Iterator[int]:
    """Blank rows (and those being cleared), top first, then the rows after the last one."""
    rows = table.rows if table is not None else ()
    blank = [Table.sheet_row(i) for i, line in enumerate(rows)
             if Table.sheet_row(i) in cleared or not any(cell.strip() for cell in line)]
    return itertools.chain(blank, itertools.count(Table.sheet_row(len(rows))))


def _cells(problem: Problem, first_seen: str) -> dict[str, str]:
    return {"Sheet": problem.sheet, "Row": "" if problem.row is None else str(problem.row),
            "Column": problem.column, "Problem": problem.message, "Fix": problem.fix,
            "Severity": problem.severity, "First seen": first_seen, "Step": problem.step,
            "Key": problem_key(problem)}


@dataclass(frozen=True)
class Digest:
    """One organizer's email listing the problems first seen at one moment."""

    reminder: Reminder
    problems: tuple[Problem, ...]


def due_digests(table: Table | None, ledger: Table | None, people: Sequence[Person],
                now: dt.datetime, tz: dt.tzinfo, *, failed: Collection[str] = ()
                ) -> list[Digest]:
    """The digests to send: the errors of the Problems sheet as the run leaves it, grouped by
    `First seen`, for batches of the last DIGEST_WINDOW that the ledger has not settled.
    `failed`: keys of this run's failed actions, never mailed."""
    now = local(now, tz)
    batches: dict[str, list[Problem]] = {}
    for entry in read_listed(table):
        when = parse_time(entry.first_seen, tz)
        mailed = entry.problem.severity == "error" and not entry.ignored
        if not mailed or entry.key in failed or when is None:
            continue
        if now - DIGEST_WINDOW < when <= now:
            batches.setdefault(entry.first_seen, []).append(entry.problem)
    sent = read_ledger(ledger)
    found = []
    for first_seen, problems in sorted(batches.items()):
        when = parse_time(first_seen, tz) or now
        for person in people:
            reminder = Reminder(DIGEST, first_seen, person.email, when, person.language,
                                person.name)
            if is_open(sent.get(reminder.key)):
                found.append(Digest(reminder, tuple(sorted(problems, key=_place))))
    return found


def digest_entries(problems: Sequence[Problem]) -> list[Mapping[str, str]]:
    """The problems as the digest templates show them."""
    return [{"place": p.place(), "message": p.message, "fix": p.fix, "severity": p.severity}
            for p in problems]
