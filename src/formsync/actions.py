"""What a sync decides to change: plain, comparable values that adapters apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from formsync.model import Member, Problem, Session


@dataclass(frozen=True)
class CellWrite:
    row: int  # 1-based sheet row (header is row 1)
    column: str  # header text
    value: str


@dataclass(frozen=True)
class SheetEdit:
    """All changes to one worksheet, applied as one batch.

    Every edit must be safe to apply twice or late (Google may apply a request after the
    client gave up, and a person reruns at once). Cell writes are. New rows are too:
    by default they are written to the rows right after the last row read, in an order the
    planner derives from their identity, so a repeated or late write lands on the same cells.
    With `log=True` they are instead added wherever the sheet ends when the write is applied
    (Sheets' values.append): a repeated or late write then adds the rows again, which is only
    right for a sheet whose reader merges rows sharing a key (the Reminders ledger).
    """

    sheet: str
    header: tuple[str, ...]  # the header after the edit
    add_header: bool = False  # the header row itself must be (re)written
    writes: tuple[CellWrite, ...] = ()
    appends: tuple[tuple[str, ...], ...] = ()
    summary: tuple[str, ...] = ()  # one line per change, for people
    log: bool = False  # appends go wherever the sheet ends when applied (see above)

    def is_empty(self) -> bool:
        return not (self.add_header or self.writes or self.appends)


class Action(Protocol):
    """One change a step plans beyond sheet cells (an event, an email, a file)."""

    def describe(self) -> str:
        """What it does, for people: 'send the reading reminder for session 3 to …'."""
        ...


@dataclass(frozen=True)
class ReadmeChange:
    path: Path
    new_text: str
    migrated: bool
    summary: str

    def describe(self) -> str:
        return self.summary


@dataclass(frozen=True)
class StepPlan:
    """What one step would change: its sheet edits (the core applies every step's edits
    first, in one batch per spreadsheet) and its other actions, with what it found."""

    step: str
    edits: tuple[SheetEdit, ...] = ()
    actions: tuple[Action, ...] = ()
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()  # facts worth printing (counts, what was read)

    def is_empty(self) -> bool:
        return not self.actions and all(edit.is_empty() for edit in self.edits)


@dataclass(frozen=True)
class Plan:
    """Everything one sync would change, step by step, in a stable order."""

    steps: tuple[StepPlan, ...] = ()
    # The group as it will be once the sheet edits are applied (what later steps act on).
    members: tuple[Member, ...] = ()
    sessions: tuple[Session, ...] = ()
    extra_notes: tuple[str, ...] = field(default=())

    def step(self, name: str) -> StepPlan:
        return next((s for s in self.steps if s.step == name), StepPlan(name))

    @property
    def sheet_edits(self) -> tuple[SheetEdit, ...]:
        return tuple(edit for s in self.steps for edit in s.edits if not edit.is_empty())

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(problem for s in self.steps for problem in s.problems)

    @property
    def notes(self) -> tuple[str, ...]:
        return (*(note for s in self.steps for note in s.notes), *self.extra_notes)

    @property
    def readme(self) -> ReadmeChange | None:
        return next((a for a in self.step("readme").actions if isinstance(a, ReadmeChange)),
                    None)

    @property
    def calendar(self) -> tuple[Action, ...]:
        return self.step("calendar").actions

    @property
    def reminders(self) -> tuple[Action, ...]:
        return self.step("reminders").actions

    def is_empty(self) -> bool:
        return all(s.is_empty() for s in self.steps)

    def describe(self) -> list[str]:
        """'Would …' lines in a stable order, for --dry-run."""
        lines: list[str] = []
        for edit in self.sheet_edits:
            lines += [f"Would {line}" for line in edit.summary]
        for step in self.steps:
            lines += [f"Would {action.describe()}" for action in step.actions]
        return lines
