"""What a step of a sync is: the worksheets it reads, when it runs, a pure plan function and an
apply function. The steps themselves are listed once, in `formsync.registry`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from formsync.actions import Plan, SheetEdit, StepPlan
from formsync.config import Config
from formsync.model import MEMBERS, SESSIONS, Member, Problem, Session, Snapshot, Table
from formsync.tables import apply_edit

if TYPE_CHECKING:
    from formsync.ports import Places


@dataclass(frozen=True)
class PlanContext:
    """What a step plans from: everything read, the config, `now`, and the sheets as the
    steps before it will leave them."""

    snapshot: Snapshot
    config: Config
    now: dt.datetime
    force: bool = False
    tables: Mapping[str, Table | None] = field(default_factory=dict)

    @classmethod
    def start(cls, snapshot: Snapshot, config: Config, now: dt.datetime, *,
              force: bool = False) -> PlanContext:
        return cls(snapshot, config, now, force, snapshot.tables())

    def after(self, result: StepPlan) -> PlanContext:
        """The context the next step sees: this step's sheet edits applied."""
        if not result.edits:
            return self
        tables = dict(self.tables)
        for edit in result.edits:
            tables[edit.sheet] = apply_edit(tables.get(edit.sheet), edit)
        return PlanContext(self.snapshot, self.config, self.now, self.force, tables)

    @cached_property
    def members(self) -> tuple[Member, ...]:
        from formsync.members import read_members

        return tuple(read_members(self.tables.get(MEMBERS), self.config.columns))

    @cached_property
    def sessions(self) -> tuple[Session, ...]:
        """The sessions with formsync's proposed dates (whether or not they get written)."""
        from formsync.sessions import plan_sessions

        table = self.tables.get(SESSIONS)
        if table is None or not table.header:
            return ()
        return tuple(plan_sessions(table, self.config.group, self.config.columns)[0])


@dataclass(frozen=True)
class ApplyContext:
    """What a step applies with: the run's adapters, the plan, and what was read."""

    config: Config
    places: Places
    now: dt.datetime
    plan: Plan
    snapshot: Snapshot


@dataclass(frozen=True)
class Step:
    """One step of a sync. `plan` is pure; `apply` (None: the step only edits sheets, which
    the core applies first, in one batch) returns the problems of the actions that failed."""

    name: str
    plan: Callable[[PlanContext], StepPlan]
    reads: tuple[str, ...] = ()  # worksheets beyond Members and Sessions, which every run reads
    apply: Callable[[StepPlan, ApplyContext], list[Problem]] | None = None
    enabled: Callable[[Config], bool] = lambda config: True


def sheet_step_plan(step: str, edit: SheetEdit | None, problems: list[Problem],
                    notes: list[str]) -> StepPlan:
    edits = (edit,) if edit is not None and not edit.is_empty() else ()
    return StepPlan(step, edits=edits, problems=tuple(problems), notes=tuple(notes))
