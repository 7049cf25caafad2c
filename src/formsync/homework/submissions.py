"""The homework Form's responses: each read, matched to a member and a session, and merged
into one Submission per (member, session). Pure: no I/O, no clock."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from formsync.columns import RESPONSE_ALIASES, Columns, fold, header_problems, locate
from formsync.config import Form
from formsync.members import _date_order, _timestamps, email_problem, normalise_email
from formsync.model import SUBMISSIONS, Member, Problem, Session, Table
from formsync.names import session_ident, topic

STEP = "homework"
SUBMISSION_ALIASES: dict[str, tuple[str, ...]] = {
    "Timestamp": RESPONSE_ALIASES["Timestamp"],
    "Email": RESPONSE_ALIASES["Email"],
    "Session": ("Session", "Sesión", "Sesion"),
    "Link": ("Link", "Enlace", "URL", "Liga"),
    "Comment": ("Comment", "Comentario", "Comentarios", "Comments"),
}
SUBMISSION_KEYWORDS: dict[str, tuple[str, ...]] = {
    "Session": ("sesion", "session"),
    "Link": ("enlace", "link", "url", "liga"),
    "Comment": ("comentario", "comment"),
}
# "3", "Sesión 3", "Session 3 – Linear Neural Networks", "S3", "#3".
_NUMBERED = re.compile(r"^(?:sesion|session|ses|s|#|no\.?)?\s*#?\s*(\d+)\b")
_SPACE = re.compile(r"\s")
CLOSE_MATCH = 0.8  # difflib ratio for a chapter title with a typo


@dataclass(frozen=True)
class Submission:
    """A member's hand-in for one session: the latest link, the first time they handed in."""

    email: str
    session: str  # the session's ident ("3")
    link: str
    first: dt.datetime
    last: dt.datetime
    comment: str = ""
    row: int = 0  # sheet row of the latest response

    def merged(self, new: Submission) -> Submission:
        """Resubmission: the latest link wins; the first timestamp decides 'late'."""
        latest = new if new.last >= self.last else self
        return Submission(self.email, self.session, latest.link, min(self.first, new.first),
                          latest.last, latest.comment, latest.row)


class SessionIndex:
    """Finds the session a Form answer names: a number, 'Sesión 3', the chapter title, or a
    close match of the title (accents, case and spaces ignored). Answers come from a dropdown
    and repeat, so each distinct one is looked up once."""

    def __init__(self, sessions: Sequence[Session]) -> None:
        self.by_ident = {fold(session_ident(s)): s for s in sessions}
        self.titles = {fold(topic(s)): s for s in sessions if topic(s).strip()}
        self._found: dict[str, Session | None] = {}

    def find(self, text: str) -> Session | None:
        if text not in self._found:
            self._found[text] = self._lookup(fold(text))
        return self._found[text]

    def _lookup(self, answer: str) -> Session | None:
        if not answer:
            return None
        numbered = _NUMBERED.match(answer)
        if numbered and numbered.group(1) in self.by_ident:
            return self.by_ident[numbered.group(1)]
        if answer in self.by_ident:
            return self.by_ident[answer]
        rest = re.sub(r"^[^a-z]*(?:sesion|session)?\s*\d*\s*[-–—:.]?\s*", "", answer) or answer
        for candidate in (answer, rest):
            if candidate in self.titles:
                return self.titles[candidate]
        close = difflib.get_close_matches(rest, list(self.titles), n=1, cutoff=CLOSE_MATCH)
        return self.titles[close[0]] if close else None


def match_session(text: str, sessions: Sequence[Session]) -> Session | None:
    """The session a Form answer names (see SessionIndex)."""
    return SessionIndex(sessions).find(text)


def link_problem(link: str) -> str | None:
    if not link:
        return "no link"
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or "." not in parts.netloc or _SPACE.search(link):
        return f"{link[:80]!r} is not a link (http:// or https://)"
    return None


@dataclass(frozen=True)
class _Row:
    index: int
    email: str
    session: str
    link: str
    comment: str


def read_submissions(table: Table, sessions: Sequence[Session], members: Sequence[Member],
                     form: Form, tz: dt.tzinfo, overrides: Mapping[str, str] | None = None, *,
                     until: dt.datetime | None = None
                     ) -> tuple[dict[tuple[str, str], Submission], list[Problem]]:
    """One Submission per (email, session ident); every row skipped is a Problem naming it.
    Rows stamped after `until` (a run with --now in the past) are not handed in yet."""
    columns = locate(table, SUBMISSION_ALIASES, {"Timestamp": (overrides or {}).get(
        "Timestamp", "")}, SUBMISSION_KEYWORDS)
    problems = header_problems(columns, SUBMISSION_ALIASES, step=STEP, expected={
        "Timestamp": "every submission is skipped", "Email": "every submission is skipped",
        "Session": "every submission is skipped", "Link": "every submission is skipped"})
    if not all(columns.has(n) for n in ("Timestamp", "Email", "Session", "Link")):
        return {}, problems
    stamps = _timestamps(columns, _date_order(form, columns), tz)
    known = {m.email for m in members}
    index = SessionIndex(sessions)
    found: dict[tuple[str, str], Submission] = {}
    for row in _rows(columns):
        when = stamps[row.index]
        if until is not None and isinstance(when, dt.datetime) and when > until:
            continue
        session = index.find(row.session)
        reason = _skip_reason(row, when, session, known, sessions)
        if reason is not None:
            problems.append(_row_problem(columns, row, *reason))
            continue
        assert session is not None and isinstance(when, dt.datetime)
        ident = session_ident(session)
        new = Submission(row.email, ident, row.link, when, when, row.comment,
                         Table.sheet_row(row.index))
        old = found.get((row.email, ident))
        found[(row.email, ident)] = old.merged(new) if old else new
    return found, problems


def _rows(columns: Columns) -> list[_Row]:
    return [_Row(index, normalise_email(columns.get(row, "Email")), columns.get(row, "Session"),
                 columns.get(row, "Link"), columns.get(row, "Comment"))
            for index, row in enumerate(columns.table.rows) if any(c.strip() for c in row)]


def _skip_reason(row: _Row, when: dt.datetime | str, session: Session | None,
                 known: set[str], sessions: Sequence[Session]) -> tuple[str, str, str] | None:
    """(column, message, fix) of why a row is skipped, or None."""
    invalid = email_problem(row.email)
    if invalid is not None:
        return "Email", f"submission skipped: {invalid}", "correct the cell"
    if row.email not in known:
        return ("Email", f"submission from {row.email}, who is not in Members",
                "register them with the registration form, or correct the address")
    if isinstance(when, str):
        return "Timestamp", f"submission skipped: timestamp {when}", "correct the cell"
    if session is None:
        names = ", ".join(session_ident(s) for s in sessions[:20])
        return ("Session", f"submission for {row.session[:60]!r}, which names no session",
                f"write a session number or chapter title; sessions: {names}")
    broken = link_problem(row.link)
    if broken is not None:
        return "Link", f"submission skipped: {broken}", "give a full Colab, GitHub or Drive link"
    return None


def _row_problem(columns: Columns, row: _Row, column: str, message: str, fix: str) -> Problem:
    return Problem(STEP, message, sheet=SUBMISSIONS, row=Table.sheet_row(row.index),
                   column=columns.header_of(column), fix=fix)
