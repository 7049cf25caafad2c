"""Registrations: clean the form's responses and upsert one Members row per person."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from formsync.actions import CellWrite, SheetEdit, StepPlan
from formsync.columns import (
    MEMBER_ALIASES,
    RESPONSE_ALIASES,
    RESPONSE_KEYWORDS,
    Columns,
    column_letter,
    fold,
    header_problems,
    locate,
)
from formsync.config import Form
from formsync.dates import TIMESTAMP_EXAMPLES, iso, parse_timestamp, slashed_order
from formsync.model import (
    ACTIVE,
    MEMBER_HEADER,
    MEMBERS,
    RESPONSES,
    STATUS_WORDS,
    STATUSES,
    Member,
    Problem,
    Table,
)
from formsync.step import PlanContext, Step, sheet_step_plan

STEP = "members"
# Deliberately plain: one @, no spaces or control characters, a dot in the domain.
_PART = r"[^@\s\x00-\x1f\x7f,;<>()\"']+"
_EMAIL = re.compile(rf"^{_PART}@{_PART}\.[^@\s\x00-\x1f\x7f,;<>()\"'.]+$")
_YES = {"si", "sí", "yes", "y", "true", "1", "x", "claro", "me gustaria", "i would"}


def normalise_email(raw: str) -> str:
    return raw.strip().lower()


def email_problem(email: str) -> str | None:
    if not email:
        return "no email address"
    if len(email) > 254 or not _EMAIL.match(email):
        return f"{email[:80]!r} is not a valid email address"
    return None


@functools.lru_cache(maxsize=4096)  # multiple-choice answers repeat across thousands of rows
def _yes_no(answer: str) -> str:
    if not answer.strip():
        return ""
    first = fold(answer).split(",")[0].strip()
    return "yes" if any(first.startswith(word) for word in _YES) else "no"


@functools.lru_cache(maxsize=4096)
def _language(answer: str) -> str:
    folded = fold(answer)
    if folded.startswith(("es", "spanish", "castellano")):
        return "es"
    if folded.startswith(("en", "ingles", "english")):
        return "en"
    return ""


@dataclass(frozen=True)
class Registration:
    """A person as the responses describe them."""

    email: str
    first: dt.datetime
    last: dt.datetime
    name: str
    guide_volunteer: str
    language: str


def _response_columns(table: Table, form: Form, timestamp_header: str = "") -> Columns:
    overrides = {"Timestamp": timestamp_header, "Email": form.email_column,
                 "Name": form.name_column, "Guide volunteer": form.guide_column,
                 "Language": form.language_column}
    return locate(table, RESPONSE_ALIASES, overrides, RESPONSE_KEYWORDS)


def _date_order(form: Form, columns: Columns) -> str:
    if form.date_order != "auto":
        return form.date_order
    samples = [columns.get(row, "Timestamp") for row in columns.table.rows]
    try:
        detected = slashed_order(samples)
    except ValueError:
        detected = None
    if detected:
        return detected
    # Undecidable from the data: Spanish forms write day first, English ones month first.
    is_spanish = columns.has("Timestamp") and fold(columns.header_of("Timestamp")) != "timestamp"
    return "DMY" if is_spanish else "MDY"


def read_registrations(table: Table, form: Form, tz: dt.tzinfo,
                       overrides: Mapping[str, str] | None = None
                       ) -> tuple[dict[str, Registration], list[Problem]]:
    """One Registration per valid email; every skipped row becomes a Problem naming it (a
    timestamp column none of whose cells can be read, or no timestamp column, is one Problem
    for the whole sheet). `overrides` are the [columns] ones: only "Timestamp" applies here,
    the form's other questions are set in [form]."""
    columns = _response_columns(table, form, (overrides or {}).get("Timestamp", ""))
    if not columns.has("Email"):
        fix = ("set [form] email_column in formsync.toml to the question's header"
               if not form.email_column else "check [form] email_column against the header row")
        return {}, [Problem(STEP, "no email column found in the responses header "
                                  f"{list(table.header)[:8]!r}", sheet=RESPONSES, row=1,
                            fix=fix, severity="error")]
    problems = header_problems(columns, RESPONSE_ALIASES, step=STEP, expected={
        "Timestamp": "every response is skipped"})
    if not columns.has("Timestamp"):
        return {}, problems  # that problem says it all: no row has a timestamp to read
    stamps = _timestamps(columns, _date_order(form, columns), tz)
    unreadable = _unreadable_column(columns, stamps)
    if unreadable is not None:
        return {}, [*problems, unreadable]
    found: dict[str, Registration] = {}
    for index, row in enumerate(table.rows):
        if not any(cell.strip() for cell in row):
            continue
        email = normalise_email(columns.get(row, "Email"))
        when = stamps[index]
        reason = email_problem(email) or (f"timestamp {when}" if isinstance(when, str) else None)
        if reason is not None or isinstance(when, str):
            problems.append(Problem(STEP, f"response skipped: {reason}", sheet=RESPONSES,
                                    row=Table.sheet_row(index), severity="error",
                                    fix="correct the cell in the responses sheet"))
            continue
        name = " ".join(columns.get(row, "Name").split())
        current = Registration(email, when, when, name,
                               _yes_no(columns.get(row, "Guide volunteer")),
                               _language(columns.get(row, "Language")))
        found[email] = _merge(found.get(email), current)
    return found, problems


def _timestamps(columns: Columns, order: str, tz: dt.tzinfo) -> list[dt.datetime | str]:
    """Each response's timestamp, or why it cannot be read."""
    stamps: list[dt.datetime | str] = []
    for row in columns.table.rows:
        try:
            stamps.append(parse_timestamp(columns.get(row, "Timestamp"), order, tz))
        except ValueError as error:
            stamps.append(str(error))
    return stamps


def _unreadable_column(columns: Columns, stamps: Sequence[dt.datetime | str]) -> Problem | None:
    """One Problem when the timestamp column has text and not one cell of it can be read:
    the format is not one formsync knows, and editing the cells one by one is not the fix."""
    if not columns.has("Timestamp"):
        return None
    texts = [columns.get(row, "Timestamp") for row in columns.table.rows]
    if not any(texts) or any(isinstance(stamp, dt.datetime) for stamp in stamps):
        return None
    samples = list(dict.fromkeys(text for text in texts if text))
    shown = ", ".join(repr(text[:40]) for text in samples[:3])
    examples = "; ".join(TIMESTAMP_EXAMPLES)
    header = columns.header_of("Timestamp")
    letter = column_letter(columns.index["Timestamp"])
    return Problem(
        STEP, f"no timestamp in column {letter} can be read, so every response is skipped; "
              f"it holds {shown}" + (f" and {len(samples) - 3} more" if len(samples) > 3 else ""),
        sheet=RESPONSES, column=header, severity="error",
        fix=f"give the column timestamps like one of: {examples} (the form's own "
            "'Download responses (.csv)' writes the first kind)")


def _merge(old: Registration | None, new: Registration) -> Registration:
    """The earliest response registers; the latest one's answers win."""
    if old is None:
        return new
    latest = new if new.last >= old.last else old
    return Registration(old.email, min(old.first, new.first), latest.last, latest.name,
                        latest.guide_volunteer, latest.language)


def read_members(table: Table | None, overrides: Mapping[str, str]) -> list[Member]:
    if table is None:
        return []
    columns = locate(table, MEMBER_ALIASES, overrides)
    members = []
    for index, row in enumerate(table.rows):
        email = normalise_email(columns.get(row, "Email"))
        if not email:
            continue
        members.append(Member(
            email=email, name=columns.get(row, "Name"),
            registered=columns.get(row, "Registered"), updated=columns.get(row, "Updated"),
            status=columns.get(row, "Status"), guide_volunteer=columns.get(row, "Guide volunteer"),
            language=columns.get(row, "Language"), notes=columns.get(row, "Notes"),
            row=Table.sheet_row(index)))
    return members


def accepted_statuses() -> str:
    """'active (activo, activa, alta), paused (...)': for messages and the docs."""
    parts = []
    for status in STATUSES:
        words = [w for w, s in STATUS_WORDS.items() if s == status and w and w != status]
        parts.append(f"{status} ({', '.join(words)})")
    return "; ".join(parts) + "; blank is active"


def status_problems(table: Table | None, overrides: Mapping[str, str] | None = None
                    ) -> list[Problem]:
    """One warning per Status word formsync does not know, naming its rows: those members
    get no email until the cell is fixed (a typo must not start or stop mail silently)."""
    if table is None:
        return []
    overrides = overrides or {}
    by_word: dict[str, list[Member]] = {}
    for member in read_members(table, overrides):
        if member.standing is None:
            by_word.setdefault(fold(member.status), []).append(member)
    columns = locate(table, MEMBER_ALIASES, overrides)
    column = columns.header_of("Status") if columns.has("Status") else "Status"
    problems = []
    for who in by_word.values():
        word = " ".join(who[0].status.split())
        rows = ", ".join(str(m.row) for m in who[:10]) + (", ..." if len(who) > 10 else "")
        people = f"{who[0].email} gets" if len(who) == 1 else f"these {len(who)} members get"
        problems.append(Problem(
            STEP, f"Status {word[:40]!r} is not a value formsync knows (rows {rows}); "
                  f"{people} no email until it is fixed", sheet=MEMBERS, row=who[0].row,
            column=column, fix=f"write one of: {accepted_statuses()}"))
    return problems


def _owned_values(person: Registration, existing: Member | None) -> dict[str, str]:
    registered = iso(person.first)
    if existing and existing.registered and existing.registered < registered:
        registered = existing.registered
    return {"Email": person.email, "Name": person.name or (existing.name if existing else ""),
            "Registered": registered, "Updated": iso(person.last),
            "Guide volunteer": person.guide_volunteer, "Language": person.language}


def plan_members(responses: Table, members: Table | None, form: Form, tz: dt.tzinfo,
                 overrides: Mapping[str, str] | None = None) -> tuple[SheetEdit, list[Problem]]:
    """The Members edit that makes the sheet agree with the responses."""
    overrides = overrides or {}
    registrations, problems = read_registrations(responses, form, tz, overrides)
    header = members.header if members is not None and members.header else MEMBER_HEADER
    columns = locate(Table(MEMBERS, header), MEMBER_ALIASES, overrides)
    missing = [name for name in MEMBER_HEADER if not columns.has(name)]
    header = tuple(header) + tuple(missing)
    columns = locate(Table(MEMBERS, header), MEMBER_ALIASES, overrides)
    by_email, doubled = _members_by_email(read_members(members, overrides))
    problems += doubled
    writes: list[CellWrite] = []
    appends: list[tuple[str, ...]] = []
    summary: list[str] = []
    # New rows go to the rows after those read, in registration order: a run that read fewer
    # responses plans a prefix of what a later run plans, so if its write lands late it lands
    # on the same cells with the same people (see SheetEdit).
    for person in sorted(registrations.values(), key=lambda r: (r.first, r.email)):
        email, existing = person.email, by_email.get(person.email)
        values = _owned_values(person, existing)
        if existing is None:
            values["Status"] = ACTIVE
            appends.append(tuple(values.get(name, "") for name in _canonical(header, columns)))
            summary.append(f"add member {email}")
            continue
        assert existing.row is not None
        changed = _changed_cells(existing, values, columns)
        writes += [CellWrite(existing.row, columns.header_of(n), v) for n, v in changed]
        if changed:
            summary.append(f"update member {email} ({', '.join(n for n, _ in changed)})")
    add_header = members is None or not members.header or bool(missing)
    if add_header:
        summary.insert(0, f"write the {MEMBERS} header ({', '.join(missing or header)})")
    return SheetEdit(MEMBERS, header, add_header, tuple(writes), tuple(appends),
                     tuple(summary)), problems


def _members_by_email(members: Sequence[Member]) -> tuple[dict[str, Member], list[Problem]]:
    """The first row of each email; a second row is reported and never written."""
    by_email: dict[str, Member] = {}
    problems = []
    for member in members:
        first = by_email.setdefault(member.email, member)
        if first is not member:
            problems.append(Problem(
                STEP, f"{member.email} has two rows ({first.row} and {member.row}); formsync "
                f"keeps row {first.row} up to date and leaves row {member.row} alone",
                sheet=MEMBERS, row=member.row, fix="merge the two rows by hand, then delete one"))
    return by_email, problems


def _canonical(header: Sequence[str], columns: Columns) -> list[str]:
    by_position = {position: name for name, position in columns.index.items()}
    return [by_position.get(position, "") for position in range(len(header))]


def _changed_cells(existing: Member, values: Mapping[str, str], columns: Columns
                   ) -> list[tuple[str, str]]:
    current = {"Email": existing.email, "Name": existing.name,
               "Registered": existing.registered, "Updated": existing.updated,
               "Guide volunteer": existing.guide_volunteer, "Language": existing.language}
    changed = []
    for name, value in values.items():
        if name == "Email":
            continue  # the key: only its case or spaces may differ, and that is fine
        if current[name] != value and columns.has(name):
            changed.append((name, value))
    return changed


def _plan_step(context: PlanContext) -> StepPlan:
    responses = context.tables.get(RESPONSES)
    config = context.config
    statuses = status_problems(context.tables.get(MEMBERS), config.columns)
    if responses is None or not responses.header:
        return StepPlan(STEP, problems=tuple(statuses),
                        notes=(f"no form responses yet ({RESPONSES} is empty)",))
    edit, problems = plan_members(responses, context.tables.get(MEMBERS), config.form,
                                  config.group.tz, config.columns)
    return sheet_step_plan(STEP, edit, [*problems, *statuses],
                           [f"{_answered(responses)} form responses read"])


SYNC_STEP = Step(STEP, _plan_step, reads=(RESPONSES,))


def _answered(responses: Table) -> int:
    """Responses with any answer (a sheet's blank rows are not responses)."""
    return sum(1 for row in responses.rows if any(cell.strip() for cell in row))
