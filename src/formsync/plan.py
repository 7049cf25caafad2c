"""The pure core: from everything read (a Snapshot), the config and `now`, decide the Plan.

No network, no files, no clock: every behaviour here is testable as data in, actions out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from formsync.actions import Plan, ReadmeChange, SheetEdit
from formsync.config import Config
from formsync.members import plan_members, read_members
from formsync.model import MEMBERS, RESPONSES, SESSIONS, Member, Problem, Session, Snapshot
from formsync.sessions import check_rules, plan_sessions
from formsync.tables import apply_edit

STEPS = ("members", "sessions", "readme", "calendar", "reminders")


@dataclass(frozen=True)
class GroupState:
    """The members and sessions as they will be once the sheet edits are applied."""

    members: tuple[Member, ...]
    sessions: tuple[Session, ...]


def plan(snapshot: Snapshot, config: Config, now: dt.datetime,
         steps: Collection[str] = STEPS, *, force: bool = False) -> Plan:
    edits: list[SheetEdit] = []
    problems: list[Problem] = []
    notes: list[str] = []
    state = _plan_sheets(snapshot, config, now, steps, edits, problems, notes)
    readme = _plan_readme(snapshot, config, state, problems) if "readme" in steps else None
    calendar: list[object] = []
    if "calendar" in steps:
        from formsync.calendar.plan import plan_calendar

        actions, found = plan_calendar(state.sessions, state.members, snapshot.events, config,
                                       now, force=force)
        calendar += actions
        problems += found
    reminders: list[object] = []
    if "reminders" in steps:
        from formsync.reminders import plan_reminders

        due, found = plan_reminders(state.sessions, state.members, snapshot.reminders, config,
                                    now)
        reminders += due
        problems += found
    return Plan(sheet_edits=tuple(e for e in edits if not e.is_empty()), readme=readme,
                calendar=tuple(calendar), reminders=tuple(reminders), problems=tuple(problems),
                notes=tuple(notes), members=state.members, sessions=state.sessions)


def _plan_sheets(snapshot: Snapshot, config: Config, now: dt.datetime, steps: Collection[str],
                 edits: list[SheetEdit], problems: list[Problem], notes: list[str]
                 ) -> GroupState:
    members_table = snapshot.members
    if "members" in steps:
        if snapshot.responses is None or not snapshot.responses.header:
            notes.append(f"no form responses yet ({RESPONSES} is empty)")
        else:
            edit, found = plan_members(snapshot.responses, snapshot.members, config.form,
                                       config.group.tz, config.columns)
            edits.append(edit)
            problems += found
            members_table = apply_edit(snapshot.members, edit)
            notes.append(f"{len(snapshot.responses.rows)} form responses read")
    members = read_members(members_table, config.columns)
    sessions: list[Session] = []
    if snapshot.sessions is None or not snapshot.sessions.header:
        notes.append(f"no sessions yet ({SESSIONS} is empty)")
    else:
        sessions, edit, found = plan_sessions(snapshot.sessions, config.group, config.columns)
        if "sessions" in steps:
            edits.append(edit)
            problems += found
            problems += check_rules(sessions, members, now.astimezone(config.group.tz)
                                    .replace(tzinfo=None))
    notes.append(f"{len(members)} members in {MEMBERS}, {len(sessions)} sessions")
    return GroupState(tuple(members), tuple(sessions))


def _plan_readme(snapshot: Snapshot, config: Config, state: GroupState,
                 problems: list[Problem]) -> ReadmeChange | None:
    from formsync.readme import plan_readme

    path = config.path(config.readme.path)
    if snapshot.readme_text is None:
        problems.append(Problem("readme", f"README not found at {path}", fix=(
            "set [readme] path in formsync.toml, or enabled = false to skip this step")))
        return None
    if not state.sessions:
        return None
    result = plan_readme(snapshot.readme_text, state.sessions, language=config.group.language)
    problems += result.problems
    if result.new_text is None:
        return None
    verb = "add the formsync markers around the calendar table and rewrite it" \
        if result.migrated else "rewrite the calendar table"
    return ReadmeChange(path, result.new_text, result.migrated, f"{verb} in {path.name}")
