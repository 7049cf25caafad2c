"""The pure core: from everything read (a Snapshot), the config and `now`, decide the Plan.

No network, no files, no clock: every behaviour here is testable as data in, actions out.
Each step (formsync.registry) plans from what the steps before it will leave in the sheets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from formsync.actions import Plan
from formsync.config import Config
from formsync.model import MEMBERS, SESSIONS, Snapshot
from formsync.registry import STEP_NAMES, steps
from formsync.step import PlanContext

STEPS = STEP_NAMES


def plan(snapshot: Snapshot, config: Config, now: dt.datetime,
         chosen: Collection[str] = STEP_NAMES, *, force: bool = False) -> Plan:
    context = PlanContext.start(snapshot, config, now, force=force)
    results = []
    for step in steps():
        if step.name in chosen:
            result = step.plan(context)
            results.append(result)
            context = context.after(result)
    return Plan(tuple(results), members=context.members, sessions=context.sessions,
                extra_notes=tuple(_group_notes(context)))


def _group_notes(context: PlanContext) -> list[str]:
    table = context.tables.get(SESSIONS)
    notes = [] if table is not None and table.header else [
        f"no sessions yet ({SESSIONS} is empty)"]
    notes.append(f"{len(context.members)} members in {MEMBERS}, "
                 f"{len(context.sessions)} sessions")
    return notes
