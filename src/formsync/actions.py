"""What a sync decides to change: plain, comparable values that adapters apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class ReadmeChange:
    path: Path
    new_text: str
    migrated: bool
    summary: str


@dataclass(frozen=True)
class Plan:
    """Everything one sync would change. Steps add their actions; order is stable."""

    sheet_edits: tuple[SheetEdit, ...] = ()
    readme: ReadmeChange | None = None
    calendar: tuple[Any, ...] = ()  # calendar step actions
    reminders: tuple[Any, ...] = ()  # reminders step actions
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = field(default=())  # facts worth printing (counts, what was read)
    # The group as it will be once the sheet edits are applied (what later steps act on).
    members: tuple[Member, ...] = ()
    sessions: tuple[Session, ...] = ()

    def is_empty(self) -> bool:
        return (all(e.is_empty() for e in self.sheet_edits) and self.readme is None
                and not self.calendar and not self.reminders)

    def describe(self) -> list[str]:
        """'Would …' lines in a stable order, for --dry-run."""
        lines: list[str] = []
        for edit in self.sheet_edits:
            lines += [f"Would {line}" for line in edit.summary]
        if self.readme is not None:
            lines.append(f"Would {self.readme.summary}")
        lines += [f"Would {describe_action(a)}" for a in self.calendar]
        lines += [f"Would {describe_action(a)}" for a in self.reminders]
        return lines


def describe_action(action: object) -> str:
    describe = getattr(action, "describe", None)
    return str(describe()) if callable(describe) else repr(action)
