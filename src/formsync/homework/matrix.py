"""The Homework worksheet: one row per member, one column per session with exercises; each
cell ✓ (on time), "tarde" (late) or empty, followed by the link, with totals per member
(last column) and per session (the Total row, row 2). formsync owns the sheet: it rewrites
the cells that differ, keeps each member's row where it is, and adds new members below."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from formsync.actions import CellWrite, SheetEdit, StepPlan
from formsync.config import Config
from formsync.homework.submissions import STEP, Submission, read_submissions
from formsync.model import (
    HOMEWORK,
    MEMBERS,
    SESSIONS,
    SUBMISSIONS,
    Member,
    Problem,
    Session,
    Table,
)
from formsync.names import session_ident
from formsync.step import PlanContext, Step, sheet_step_plan

ON_TIME = "✓"
LATE = {"es": "tarde", "en": "late"}
SESSION_WORD = {"es": "Sesión", "en": "Session"}
EMAIL, NAME, TOTAL = "Email", "Name", "Total"


@dataclass(frozen=True)
class Homework:
    """What the homework Form says, matched to the group: the sessions with exercises (in
    order), when each is due, and each member's submission per session."""

    sessions: tuple[Session, ...]
    due: Mapping[str, dt.datetime | None]  # session ident → start of the session it is due at
    submissions: Mapping[tuple[str, str], Submission]  # (email, session ident) → submission

    def is_late(self, submission: Submission) -> bool:
        deadline = self.due.get(submission.session)
        return deadline is not None and submission.first > deadline

    def of_session(self, ident: str) -> list[Submission]:
        return sorted((s for s in self.submissions.values() if s.session == ident),
                      key=lambda s: (s.first, s.email))


def due_dates(sessions: Sequence[Session], config: Config) -> dict[str, dt.datetime | None]:
    """Each session's exercises are due when the next session starts (if it is confirmed)."""
    from formsync.reminders.plan import following_sessions, start_of

    following = following_sessions(sessions)
    return {session_ident(s): (start_of(following[s.row], config) if s.row in following
                               else None) for s in sessions}


def read_homework(context: PlanContext) -> tuple[Homework | None, list[Problem]]:
    """The homework as the submissions say (None: no submissions sheet read). The homework,
    reminders and README steps of one plan all ask: the last answer is kept for the same
    inputs (the very same table objects), as a 100,000-row read is worth doing once."""
    table = context.tables.get(SUBMISSIONS)
    if table is None or not table.header:
        return None, []
    inputs = (table, context.tables.get(MEMBERS), context.tables.get(SESSIONS),
              context.config, context.now)
    last = _LAST.get("last")
    if last is None or not all(a is b for a, b in zip(last[0], inputs, strict=True)):
        last = _LAST["last"] = (inputs, _read_homework(context, table))
    homework, problems = last[1]
    return homework, list(problems)


# The inputs and answer of the last read_homework.
_LAST: dict[str, tuple[tuple[object, ...], tuple[Homework, list[Problem]]]] = {}


def _read_homework(context: PlanContext, table: Table) -> tuple[Homework, list[Problem]]:
    config = context.config
    found, problems = read_submissions(table, context.sessions, context.members, config.form,
                                       config.group.tz, config.columns, until=context.now)
    handed = {ident for _, ident in found}
    chosen = tuple(s for s in context.sessions
                   if _has_exercises(s) or session_ident(s) in handed)
    return Homework(chosen, due_dates(context.sessions, config), found), problems


def _has_exercises(session: Session) -> bool:
    from formsync.reminders.plan import has_content

    return has_content(session.exercises)


# ---------------------------------------------------------------------------------------------
# The worksheet


def session_label(ident: str, language: str) -> str:
    return f"{SESSION_WORD.get(language, SESSION_WORD['en'])} {ident}"


def mark(homework: Homework, submission: Submission | None, language: str) -> str:
    if submission is None:
        return ""
    word = LATE.get(language, LATE["en"]) if homework.is_late(submission) else ON_TIME
    return f"{word} {submission.link}"


def desired_rows(homework: Homework, members: Sequence[Member], language: str
                 ) -> dict[str, dict[str, str]]:
    """Email (or TOTAL) → label → cell, for the Total row and every member."""
    labels = {session_ident(s): session_label(session_ident(s), language)
              for s in homework.sessions}
    rows: dict[str, dict[str, str]] = {}
    counts = dict.fromkeys(labels, 0)
    for member in members:
        cells = {EMAIL: member.email, NAME: member.name}
        handed = 0
        for ident, label in labels.items():
            found = homework.submissions.get((member.email, ident))
            cells[label] = mark(homework, found, language) if found else ""
            handed += found is not None
            counts[ident] += found is not None
        cells[TOTAL] = str(handed)
        rows.setdefault(member.email, cells)
    total = {EMAIL: TOTAL, NAME: "",
             **{label: str(counts[i]) for i, label in labels.items()},
             TOTAL: str(sum(counts.values()))}
    return {TOTAL: total, **rows}


def plan_matrix(homework: Homework, members: Sequence[Member], current: Table | None,
                language: str) -> SheetEdit:
    """The edit that makes the Homework sheet show `homework` (empty when it already does)."""
    wanted = desired_rows(homework, members, language)
    old_header = current.header if current is not None else ()
    header = _header(homework, old_header, language)
    old_rows = [dict(zip(old_header, row, strict=False)) for row in
                (current.rows if current is not None else ())]
    order = [row.get(EMAIL, "") for row in old_rows]
    writes: list[CellWrite] = []
    for index, old in enumerate(old_rows):
        new = wanted.get(order[index], old)  # a row formsync does not know stays as it is
        writes += [CellWrite(Table.sheet_row(index), column, new.get(column, ""))
                   for column in header if new.get(column, "") != old.get(column, "")]
    known = set(order)
    appends = tuple(tuple(cells.get(c, "") for c in header) for key, cells in wanted.items()
                    if key not in known)
    add_header = header != old_header
    summary = [f"update {HOMEWORK} ({len(writes)} cells, {len(appends)} new rows)"] if (
        writes or appends or add_header) else []
    return SheetEdit(HOMEWORK, header, add_header, tuple(writes), appends, tuple(summary))


def _header(homework: Homework, old: Sequence[str], language: str) -> tuple[str, ...]:
    """Email, Name, a column per session (old session columns are kept), Total, then any
    column someone added."""
    sessions = [session_label(session_ident(s), language) for s in homework.sessions]
    kept = [c for c in old if c not in (EMAIL, NAME, TOTAL) and c not in sessions]
    word = SESSION_WORD.get(language, SESSION_WORD["en"])
    old_sessions = [c for c in kept if c.startswith(f"{word} ")]
    others = [c for c in kept if c not in old_sessions]
    return (EMAIL, NAME, *sessions, *old_sessions, TOTAL, *others)


def _plan_step(context: PlanContext) -> StepPlan:
    homework, problems = read_homework(context)
    if homework is None:
        return StepPlan(STEP, notes=(f"no homework submissions yet ({SUBMISSIONS} is empty)",))
    edit = plan_matrix(homework, context.members, context.tables.get(HOMEWORK),
                       context.config.group.language)
    read = len(homework.submissions)
    return sheet_step_plan(STEP, edit, problems, [
        f"{read} homework submission(s) for {len(homework.sessions)} session(s)"])


SYNC_STEP = Step(STEP, _plan_step, reads=(SUBMISSIONS, HOMEWORK),
                 enabled=lambda config: config.homework.configured(config.backend.kind))
