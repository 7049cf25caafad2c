"""An organizer's edits of the README calendar table, brought into the Sessions sheet.

Groups keep their calendar by editing the README on GitHub, so the next render must never drop a
hand edit. formsync remembers the table it last wrote: the digest on the block's first line (see
formsync.readme) and, beside the README, the record `.formsync/readme-table.md` holding the table
itself. Each README cell (a column of a row; rows are matched by session number, rows without one
by chapter) is compared with the record and with Sessions:

- the README cell is as recorded: the sheet wins (it is the source of truth);
- the README cell changed and the sheet's did not: an organizer's edit, written to Sessions (the
  one place formsync writes the organizers' columns, by their own hand);
- both changed, to different values: a conflict, reported with both values. Neither side is
  overwritten: the README keeps its text and the record the old value, so the conflict is
  reported again until an organizer makes the two agree.

A README row that Sessions lacks is added to Sessions. A README row that was removed comes back
with a warning: formsync never deletes a session. A tentative date (`~…`) is formsync's proposal,
never an edit.

Without a record that belongs to the README (the first run after upgrading, a record that was
not kept): an untouched README (its digest matches) is its own record, so the sheet wins as it
always did. An edited README, or one an older formsync wrote (markers, no digest), is compared
with blank cells: a README cell filled in where the sheet's is blank is brought in, a blank README
cell takes the sheet's value, two different values are a conflict, and a README row Sessions lacks
is added. Either way nothing typed in one place is lost. A README without markers has never been
formsync's: its table is taken over from Sessions as before (`import-readme` reads it in first).

Pure: the record's text comes in the snapshot; writing it is an action of the README step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from formsync.actions import CellWrite, SheetEdit
from formsync.columns import SESSION_ALIASES, Columns, fold, locate
from formsync.dates import parse_date, parse_time
from formsync.errors import InputError
from formsync.model import SESSIONS, Problem, Session, Table
from formsync.readme import (
    CHAPTER,
    DIGEST_LINE,
    END_MARKER,
    EXERCISES,
    GUIDE,
    READINGS,
    RECORDING,
    SLIDES,
    START_MARKER,
    STEP,
    WHEN,
    TableStyle,
    block_text,
    canonical_row,
    digest_of,
    import_table,
    migrate,
    recorded_digest,
    render_block,
    style_of,
    table_style,
    when_cell,
)
from formsync.sessions import plan_sessions
from formsync.step import PlanContext
from formsync.tables import apply_edit

RECORD = Path(".formsync") / "readme-table.md"  # beside the README
RECORD_NOTE = ("<!-- The calendar table formsync last wrote in {name}. formsync compares it\n"
               "     with the README to tell an organizer's edits of the table from changes in\n"
               "     the Sessions sheet. formsync rewrites this file; commit it with {name}. -->")
Row = Mapping[str, str]  # Sessions cells by column (SESSION_HEADER)
Key = tuple[str, int]  # a row's identity (session number, else "~" + chapter) and occurrence
Cell = tuple[Key, str]  # a row and a README column (its field)

# The Sessions columns each README column shows. The Proposed date is formsync's own column: a
# tentative date is not an edit.
COLUMNS_OF: dict[str, tuple[str, ...]] = {
    CHAPTER: ("Chapter",), GUIDE: ("Guide",), READINGS: ("Readings",),
    EXERCISES: ("Exercises",), WHEN: ("Date", "Start", "End"), SLIDES: ("Slides",),
    RECORDING: ("Recording",)}
_TEXT_FIELDS = {"Chapter": "chapter", "Guide": "guide", "Readings": "readings",
                "Exercises": "exercises", "Slides": "slides", "Recording": "recording"}
RESOLVE_FIX = ("write the value you want in both places, the README table and Sessions (or "
               "put the README cell back as it was to let Sessions win)")


def record_path(readme: Path) -> Path:
    return readme.parent / RECORD


@dataclass(frozen=True)
class ReadmeEdits:
    """What organizers changed in the README table since formsync last wrote it."""

    style: TableStyle | None = None  # None: the README has no table to compare
    edits: tuple[SheetEdit, ...] = ()  # the edits brought into Sessions
    kept: Mapping[Cell, Row] = field(default_factory=dict)  # held cells: the README's values
    remembered: Mapping[Cell, Row] = field(default_factory=dict)  # held cells: the record's
    problems: tuple[Problem, ...] = ()

    def shown(self, sessions: Sequence[Session], language: str) -> list[Session]:
        """The sessions as the README shows them: the sheet's, but held cells as typed."""
        return _overridden(sessions, self.kept, self.style, language)

    def record(self, sessions: Sequence[Session], shown: Sequence[Session], *, language: str,
               name: str) -> str | None:
        """The record to keep once the README shows `shown`: the table as last written, but
        held cells as they were before, so they are compared again next time."""
        if self.style is None:
            return None
        written = render_block(shown, language=language, style=self.style)
        table = render_block(_overridden(sessions, self.remembered, self.style, language),
                             language=language, style=self.style)
        digest = DIGEST_LINE.format(digest=digest_of(written))
        return (f"{RECORD_NOTE.format(name=name)}\n{START_MARKER}\n{digest}\n{table}"
                f"{END_MARKER}\n")


def find_edits(readme_text: str, context: PlanContext, sessions: Sequence[Session], *,
               name: str = "README.md") -> ReadmeEdits:
    """The organizers' edits of the README table, as a Sessions edit and held cells.
    `sessions` are the Sessions rows as the README shows them.

    Raises InputError (with the README line) for a row that cannot be read, so that the README
    is left as it is until it is fixed.
    """
    language = context.config.group.language
    text = migrate(readme_text, name=name)
    if text is None:
        return ReadmeEdits()  # no table: plan_readme reports it
    style = table_style(text, language=language, name=name)
    block = block_text(text, name=name) or ""
    if text != readme_text:
        return ReadmeEdits(style)  # formsync takes the table over from the sheet (import-readme)
    if not any(column.field == CHAPTER for column in style.columns):
        return ReadmeEdits(style)  # rows cannot be told apart without their chapters
    readme = _keyed(_rows(import_table(text, name=name)) if style_of(block) else [])
    record, problems = _baseline(block, readme, context.snapshot.readme_record, name)
    planner = _Planner(context, sessions, style, name)
    planner.compare(readme, record)
    return ReadmeEdits(style, planner.edits(), planner.kept, planner.remembered,
                       (*problems, *planner.problems))


# ---- rows and their identity -----------------------------------------------------------------

def _rows(table: Table) -> list[Row]:
    return [dict(zip(table.header, row, strict=True)) for row in table.rows]


def _keys(rows: Iterable[Row]) -> list[Key]:
    """Each row's identity: its session number, else its chapter; a repeat counts up. A row
    that shows nothing is not in the README table at all: its occurrence is 0."""
    seen: Counter[str] = Counter()
    keys = []
    for row in rows:
        base = row["Session"] or "~" + fold(row["Chapter"])
        if any(row.values()):
            seen[base] += 1
            keys.append((base, seen[base]))
        else:
            keys.append((base, 0))
    return keys


def _keyed(rows: Sequence[Row]) -> dict[Key, Row]:
    return dict(zip(_keys(rows), rows, strict=True))


def _part(row: Row | None, field_name: str) -> dict[str, str]:
    """The Sessions cells one README column shows (blank for a row not known)."""
    return {column: row.get(column, "") if row else "" for column in COLUMNS_OF[field_name]}


def _overridden(sessions: Sequence[Session], cells: Mapping[Cell, Row],
                style: TableStyle | None, language: str) -> list[Session]:
    if not cells or style is None:
        return list(sessions)
    keys = _keys(canonical_row(session, style, language) for session in sessions)
    return [_with_values(session, [values for (held, _), values in cells.items() if held == key])
            for key, session in zip(keys, sessions, strict=True)]


def _with_values(session: Session, parts: Iterable[Row]) -> Session:
    changes: dict[str, Any] = {}  # Session fields
    for values in parts:
        changes.update({_TEXT_FIELDS[column]: value for column, value in values.items()
                        if column in _TEXT_FIELDS})
        if "Date" in values:
            day = parse_date(values["Date"])
            changes.update(date=day, start=parse_time(values["Start"]),
                           end=parse_time(values["End"]))
            if day is not None:
                changes["proposed"] = None
    return replace(session, **changes)


# ---- the record ------------------------------------------------------------------------------

def _baseline(block: str, readme: dict[Key, Row], record: str | None, name: str
              ) -> tuple[dict[Key, Row], list[Problem]]:
    """The table as formsync last wrote it: the record when it belongs to this README, else the
    README itself when untouched, else nothing known (every cell compared with blank)."""
    digest, untouched = recorded_digest(block)
    recorded = _recorded_rows(record, digest)
    if recorded is not None:
        return recorded, []
    if digest is None:
        return {}, []
    consequence = "the table is untouched, so Sessions wins" if untouched else (
        "an edited cell is brought in only where Sessions' is blank, any other difference is a "
        "conflict")
    problem = Problem(STEP, f"{RECORD}, formsync's record of the table it last wrote in {name},"
                            f" is missing or belongs to another version of {name}; "
                            f"{consequence}", sheet=name,
                      fix=f"keep {RECORD} beside {name} and commit it with it (the formsync "
                          "action does; in an older copied workflow, add it to "
                          "FORMSYNC_COMMIT_PATHS)")
    return (readme if untouched else {}), [problem]


def _recorded_rows(record: str | None, digest: str | None) -> dict[Key, Row] | None:
    """The record's rows if it was written with the README whose block has `digest`."""
    if record is None or digest is None:
        return None
    try:
        block = block_text(record, name=str(RECORD))
        if block is None or recorded_digest(block)[0] != digest:
            return None
        return _keyed(_rows(import_table(record, name=str(RECORD)))) if style_of(block) else {}
    except InputError:
        return None  # a damaged record is no record


# ---- comparing -------------------------------------------------------------------------------

class _Planner:
    """Compares the README, the record and Sessions, and collects what to write and hold."""

    def __init__(self, context: PlanContext, sessions: Sequence[Session], style: TableStyle,
                 name: str) -> None:
        table = context.tables.get(SESSIONS)
        assert table is not None  # the README step runs only when Sessions has sessions
        self.context, self.table, self.name = context, table, name
        self.language = context.config.group.language
        self.columns: Columns = locate(table, SESSION_ALIASES, context.config.columns)
        self.labels = {column.field: column.label for column in reversed(style.columns)}
        self.fields = [field_name for field_name in COLUMNS_OF if field_name in self.labels]
        rows = [canonical_row(session, style, self.language) for session in sessions]
        self.sheet = {key: pair for key, pair in zip(_keys(rows), zip(rows, sessions,
                                                                      strict=True), strict=True)
                      if key[1]}
        self.writes: list[CellWrite] = []
        self.appends: list[tuple[str, ...]] = []
        self.summary: list[str] = []
        self.kept: dict[Cell, Row] = {}
        self.remembered: dict[Cell, Row] = {}
        self.problems: list[Problem] = []

    def compare(self, readme: dict[Key, Row], record: dict[Key, Row]) -> None:
        for key, (sheet_row, session) in self.sheet.items():
            if key in readme:
                self._compare_row(key, readme[key], record.get(key), sheet_row, session)
            elif key in record:
                self._removed_from_readme(session)
        for key, row in readme.items():
            if key not in self.sheet:
                self._readme_only(key, row, record.get(key))

    def edits(self) -> tuple[SheetEdit, ...]:
        if not (self.writes or self.appends):
            return ()
        edit = SheetEdit(SESSIONS, self.table.header, writes=tuple(self.writes),
                         appends=tuple(self.appends), summary=tuple(self.summary))
        return (self._with_proposals(edit),)

    def _compare_row(self, key: Key, readme: Row, record: Row | None, sheet: Row,
                     session: Session) -> None:
        for field_name in self.fields:
            mine, before, theirs = (_part(row, field_name) for row in (readme, record, sheet))
            if mine in (before, theirs):
                if field_name == WHEN:
                    self._check_tentative(readme, record, sheet, session)
            elif theirs == before:
                self._bring_in(key, field_name, readme, record, sheet, session)
            else:
                self._hold(key, field_name, readme, record, Problem(
                    STEP, f"{_label(readme)} {self.labels[field_name]} was changed in the "
                          f"README ({self._shown(field_name, readme)}) and in {SESSIONS} "
                          f"({self._shown(field_name, sheet)}) since formsync last wrote the "
                          "table; both are kept until they agree", sheet=SESSIONS,
                    row=session.row, column=self._header(field_name), fix=RESOLVE_FIX,
                    severity="error"))

    def _bring_in(self, key: Key, field_name: str, readme: Row, record: Row | None,
                  sheet: Row, session: Session) -> None:
        changed = [column for column in COLUMNS_OF[field_name]
                   if readme[column] != sheet[column]]
        missing = [column for column in changed if not self.columns.has(column)]
        if missing:
            self._hold(key, field_name, readme, record, Problem(
                STEP, f"the README edit of {_label(readme)} {self.labels[field_name]} "
                      f"({self._shown(field_name, readme)}) has no column to go to in "
                      f"{SESSIONS}; the README keeps it", sheet=SESSIONS,
                fix=f"add a {missing[0]!r} column to {SESSIONS}", severity="error"))
            return
        self.writes += [CellWrite(session.row, self.columns.header_of(column), readme[column])
                        for column in changed]
        self.summary.append(f"bring the README edit of {_label(readme)} "
                            f"{self.labels[field_name]} into {SESSIONS}: "
                            f"{self._shown(field_name, readme)}")

    def _hold(self, key: Key, field_name: str, readme: Row, record: Row | None,
              problem: Problem) -> None:
        self.kept[(key, field_name)] = _part(readme, field_name)
        self.remembered[(key, field_name)] = _part(record, field_name)
        self.problems.append(problem)

    def _check_tentative(self, readme: Row, record: Row | None, sheet: Row,
                         session: Session) -> None:
        proposed = readme["Proposed date"]
        if record is None or not proposed or proposed in (record["Proposed date"],
                                                          sheet["Proposed date"]):
            return
        self.problems.append(Problem(
            STEP, f"{_label(readme)} {self.labels[WHEN]} was changed in the README to the "
                  f"tentative date {proposed}; formsync proposes tentative dates itself, so it "
                  f"shows its own", sheet=self.name, row=session.row,
            fix=f"to set the date, write it without '~' and the note in brackets, or in the "
                f"Date column of {SESSIONS}"))

    def _removed_from_readme(self, session: Session) -> None:
        label = f"session {session.number}" if session.number is not None else \
            repr(session.chapter[:40])
        self.problems.append(Problem(
            STEP, f"the README row of {label} was removed; it is shown again because "
                  f"{SESSIONS} still has it", sheet=SESSIONS, row=session.row,
            fix=f"to drop the session, delete its row in {SESSIONS}"))

    def _readme_only(self, key: Key, readme: Row, record: Row | None) -> None:
        if record is not None and all(_part(readme, f) == _part(record, f) for f in self.fields):
            return  # deleted in Sessions, untouched in the README: Sessions wins
        if key[1] > 1:
            raise InputError(f"{self.name}: two rows of the calendar table are "
                             f"{_label(readme)}", fix="give each row its own session number")
        missing = [column for column in ("Session", "Chapter")
                   if readme[column] and not self.columns.has(column)]
        if missing:
            self.problems.append(Problem(
                STEP, f"the README row {_label(readme)} cannot be added to {SESSIONS}: it has "
                      f"no {missing[0]!r} column", sheet=SESSIONS, severity="error",
                fix=f"add a {missing[0]!r} column to {SESSIONS}"))
            return
        if record is not None:
            self.problems.append(Problem(
                STEP, f"{_label(readme)} was deleted from {SESSIONS} but edited in the README "
                      "since; it is added back", sheet=SESSIONS,
                fix=f"to drop the session, delete it in {SESSIONS} and in the README"))
        self.appends.append(self._sheet_row(readme))
        title = f"{_label(readme)} ({readme['Chapter']!r})" if readme["Session"] else \
            _label(readme)
        self.summary.append(f"add the README's new row {title} to {SESSIONS}")

    def _sheet_row(self, readme: Row) -> tuple[str, ...]:
        names = {position: column for column, position in self.columns.index.items()}
        wanted = {"Session", *(column for f in self.fields for column in COLUMNS_OF[f])}
        return tuple(readme[names[position]] if names.get(position) in wanted else ""
                     for position in range(len(self.table.header)))

    def _with_proposals(self, edit: SheetEdit) -> SheetEdit:
        """`edit` plus the proposed dates that follow from it, so the next run has nothing
        left to write. Cells of new rows go into the rows themselves."""
        config = self.context.config
        _, proposals, _ = plan_sessions(apply_edit(self.table, edit), config.group,
                                        config.columns)
        if proposals.add_header or not proposals.writes:
            return edit
        first_new = Table.sheet_row(len(self.table.rows))
        appends = [list(row) for row in edit.appends]
        writes = list(edit.writes)
        for write in proposals.writes:
            if write.row < first_new:
                writes.append(write)
            else:
                appends[write.row - first_new][edit.header.index(write.column)] = write.value
        return replace(edit, writes=tuple(writes), appends=tuple(map(tuple, appends)),
                       summary=edit.summary + proposals.summary)

    def _header(self, field_name: str) -> str:
        column = COLUMNS_OF[field_name][0]
        return self.columns.header_of(column) if self.columns.has(column) else ""

    def _shown(self, field_name: str, row: Row) -> str:
        """One README cell's value, for people."""
        if field_name == WHEN:
            text = when_cell(_with_values(Session(0, "", ""), [_part(row, WHEN)]), self.language)
        else:
            text = row[COLUMNS_OF[field_name][0]]
        return repr(text) if text else "blank"


def _label(row: Row) -> str:
    return f"session {row['Session']}" if row["Session"] else repr(row["Chapter"][:40])
