"""Sessions: read the organizers' sheet, propose dates for undated sessions, check the rules."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from formsync.actions import CellWrite, SheetEdit, StepPlan
from formsync.columns import SESSION_ALIASES, Columns, fold, header_problems, locate
from formsync.config import Group
from formsync.dates import format_local_datetime, parse_date, parse_local_datetime, parse_time
from formsync.model import SESSIONS, Member, Problem, Session, Table
from formsync.names import guide_identity, session_ident
from formsync.step import PlanContext, Step, sheet_step_plan

STEP = "sessions"
PROPOSED = "Proposed date"
T = TypeVar("T")


def _cell_problem(index: int, column: str, error: ValueError) -> Problem:
    return Problem(STEP, str(error), sheet=SESSIONS, row=Table.sheet_row(index), column=column,
                   fix="correct the cell; the session is kept but treated as undated")


def _parsed(parser: Callable[[str], T | None], columns: Columns, row: Sequence[str],
            index: int, name: str, problems: list[Problem]) -> T | None:
    """The parsed cell, or None (blank or broken; a broken cell is reported)."""
    try:
        return parser(columns.get(row, name))
    except ValueError as error:
        problems.append(_cell_problem(index, columns.header_of(name), error))
        return None


def read_sessions(table: Table, overrides: Mapping[str, str] | None = None
                  ) -> tuple[list[Session], Columns, list[Problem]]:
    """Sessions in sheet order; a bad cell is reported and read as blank, never fatal."""
    columns = locate(table, SESSION_ALIASES, overrides)
    problems: list[Problem] = []
    if not columns.has("Chapter") and not columns.has("Session"):
        problems.append(Problem(STEP, "no 'Session' or 'Chapter' column in the header",
                                sheet=SESSIONS, row=1, severity="error",
                                fix="name the columns Session, Chapter, Guide, Date, ..."))
        return [], columns, problems
    problems += header_problems(columns, SESSION_ALIASES, step=STEP, expected={
        "Date": "every session reads as undated", "Guide": "no session has a guide"})
    sessions = []
    for index, row in enumerate(table.rows):
        if not any(cell.strip() for cell in row):
            continue
        sessions.append(Session(
            row=Table.sheet_row(index), key=columns.get(row, "Session"),
            chapter=columns.get(row, "Chapter"), guide=columns.get(row, "Guide"),
            readings=columns.get(row, "Readings"), exercises=columns.get(row, "Exercises"),
            date=_parsed(parse_date, columns, row, index, "Date", problems),
            start=_parsed(parse_time, columns, row, index, "Start", problems),
            end=_parsed(parse_time, columns, row, index, "End", problems),
            slides=columns.get(row, "Slides"), recording=columns.get(row, "Recording"),
            notes=columns.get(row, "Notes"),
            proposed=_parsed(parse_local_datetime, columns, row, index, PROPOSED, problems)))
    return sessions, columns, problems


def propose_dates(sessions: Sequence[Session], group: Group) -> list[Session]:
    """Undated numbered sessions, by number, get the next slots of the cadence after the latest
    confirmed session, wherever its row is: a proposal never lands on or before a confirmed
    date. Slots keep its weekday and start time; a slot on a skip date moves one cadence later.
    """
    confirmed = [dt.datetime.combine(s.date, s.start or group.default_start)
                 for s in sessions if s.date is not None]
    waiting = sorted((s for s in sessions if s.date is None and s.number is not None),
                     key=lambda s: (s.number, s.row))
    slots = _slots(max(confirmed), len(waiting), group) if confirmed else []
    proposed = {s.row: slot for s, slot in zip(waiting, slots, strict=False)}
    return [replace(s, proposed=proposed.get(s.row)) for s in sessions]


def _slots(latest: dt.datetime, count: int, group: Group) -> list[dt.datetime]:
    cadence = dt.timedelta(days=group.cadence_days)
    skip = set(group.skip_dates)
    found: list[dt.datetime] = []
    cursor = latest
    while len(found) < count:
        cursor += cadence
        if cursor.date() not in skip:
            found.append(cursor)
    return found


def plan_sessions(table: Table, group: Group, overrides: Mapping[str, str] | None = None
                  ) -> tuple[list[Session], SheetEdit, list[Problem]]:
    """Sessions with proposals, and the edit that writes only the Proposed date column."""
    sessions, columns, problems = read_sessions(table, overrides)
    proposed = propose_dates(sessions, group)
    header = table.header
    add_header = not columns.has(PROPOSED)
    if add_header:
        header = (*table.header, PROPOSED)
    column = header[columns.index[PROPOSED]] if not add_header else PROPOSED
    writes, summary = [], []
    if add_header:
        summary.append(f"add the column '{PROPOSED}' to {SESSIONS}")
    for before, after in zip(sessions, proposed, strict=True):
        text = format_local_datetime(after.proposed) if after.proposed else ""
        if _proposed_cell(table, columns, before.row) != text:
            writes.append(CellWrite(before.row, column, text))
            label = before.key or before.chapter[:40]
            summary.append(f"set {SESSIONS} row {before.row} (session {label}) "
                           f"{PROPOSED} to {text or 'blank'}")
    return proposed, SheetEdit(SESSIONS, header, add_header, tuple(writes), (),
                               tuple(summary)), problems


def _proposed_cell(table: Table, columns: Columns, row: int) -> str:
    if not columns.has(PROPOSED):
        return ""
    return columns.get(table.rows[row - 2], PROPOSED)


def check_rules(sessions: Sequence[Session], members: Sequence[Member], now: dt.datetime
                ) -> list[Problem]:
    """The group's rules: a different guide each time, a guide for the next session, one
    session per date."""
    return [*_repeated_guides(sessions, members), *_next_without_guide(sessions, now),
            *_same_day(sessions)]


def _some(names: Sequence[str], shown: int = 5) -> str:
    """The names, or the first few and how many more: the count and the list always agree."""
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


def _repeated_guides(sessions: Sequence[Session], members: Sequence[Member]) -> list[Problem]:
    by_guide: dict[str, list[Session]] = defaultdict(list)
    for session in sessions:
        if session.guide:
            by_guide[guide_identity(session.guide, members)].append(session)
    guided = set(by_guide)
    waiting = sorted(m.name or m.email for m in members
                     if m.is_active() and m.guide_volunteer == "yes" and m.email not in guided
                     and fold(m.name) not in guided)
    if members and not waiting:
        return []  # everyone who volunteered has guided: repeats are fine now
    who = f" while {len(waiting)} volunteer(s) have not guided yet ({_some(waiting)})" \
        if waiting else " while others may not have guided yet"
    problems = []
    for repeated in by_guide.values():
        if len(repeated) > 1:
            labels = ", ".join(_short(s) for s in repeated)
            problems.append(Problem(
                STEP, f"{repeated[0].guide} guides sessions {labels}{who}", sheet=SESSIONS,
                row=repeated[-1].row, column="Guide",
                fix="each session should have a different guide; ask a volunteer"))
    return problems


def _next_without_guide(sessions: Sequence[Session], now: dt.datetime) -> list[Problem]:
    upcoming = [(day, s) for s in sessions if (day := s.day()) is not None and day >= now.date()]
    if not upcoming:
        return []
    _, following = min(upcoming, key=lambda pair: (pair[0], pair[1].row))
    if following.guide:
        return []
    return [Problem(STEP, f"the next session ({following.key or following.chapter}, "
                          f"{following.day()}) has no guide yet", sheet=SESSIONS,
                    row=following.row, column="Guide", fix="find a volunteer and write their "
                    "name in the Guide column")]


def _same_day(sessions: Sequence[Session]) -> list[Problem]:
    by_day: dict[dt.date, list[Session]] = defaultdict(list)
    for session in sessions:
        day = session.day()
        if day is not None:
            by_day[day].append(session)
    return [Problem(STEP, f"sessions {', '.join(_short(s) for s in same)} are all "
                          f"on {day.isoformat()}", sheet=SESSIONS, row=same[-1].row,
                    column="Date", fix="move one of them to another date")
            for day, same in sorted(by_day.items()) if len(same) > 1]


def _short(session: Session) -> str:
    ident = session_ident(session)
    return ident if len(ident) <= 50 else ident[:49] + "…"


def _plan_step(context: PlanContext) -> StepPlan:
    table = context.tables.get(SESSIONS)
    if table is None or not table.header:
        return StepPlan(STEP)
    config = context.config
    sessions, edit, problems = plan_sessions(table, config.group, config.columns)
    local_now = context.now.astimezone(config.group.tz).replace(tzinfo=None)
    problems += check_rules(sessions, context.members, local_now)
    return sheet_step_plan(STEP, edit, problems, [])


SYNC_STEP = Step(STEP, _plan_step)
