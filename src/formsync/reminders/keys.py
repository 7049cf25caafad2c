"""What a ledger key's Session cell says beyond the session: the start an email told members,
and the reminders a morning email carries. Pure text in, text out; no kinds are known here.

- A reading reminder or a change notice records the start it announced: ``5 @ 2020-12-15 17:00``
  (group-local), ``5 @ cancelled``; the second change of a session to a start it had already
  changed to once adds ``#2`` (``5 @ 2020-12-22 17:00 #2``), so that change is sent too.
- A morning email records its parts, in term order: ``homework 3 + reading 4 @ 2020-12-01 17:00``
  (``+`` and ``%`` inside a session's name are written ``%2B`` and ``%25``).

Rows an older formsync wrote (``5``) record no start: they announced nothing we can compare.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

CANCELLED = "cancelled"
_TOLD = re.compile(r"(?P<session>.+) @ (?P<start>\d{4}-\d\d-\d\d \d\d:\d\d|cancelled)"
                   r"(?: #(?P<ordinal>[2-9]|[1-9]\d+))?", re.DOTALL)
_PART_SEPARATOR = " + "
_QUOTED, _UNQUOTED = re.compile(r"%(25|2B)"), {"25": "%", "2B": "+"}


@dataclass(frozen=True)
class Told:
    """A session, the start an email announced for it, and which change of it that was."""

    session: str
    start: str  # "2020-12-15 17:00" or CANCELLED; "" when the row recorded none
    ordinal: int = 1  # change notices: the how-manyth change of the session to this start

    def text(self) -> str:
        if not self.start:
            return self.session
        suffix = f" #{self.ordinal}" if self.ordinal > 1 else ""
        return f"{self.session} @ {self.start}{suffix}"


def start_text(start: dt.datetime | None) -> str:
    """How a key writes a start: group-local minutes, or CANCELLED for none."""
    return start.strftime("%Y-%m-%d %H:%M") if start is not None else CANCELLED


def parse_start(text: str, tz: dt.tzinfo) -> dt.datetime | None:
    """The instant a start text stands for; None for CANCELLED (or no start)."""
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
    except ValueError:
        return None


def read_told(text: str) -> Told:
    """A key's Session cell as session and announced start (none for an older row)."""
    match = _TOLD.fullmatch(text)
    if match is None:
        return Told(text, "")
    return Told(match["session"], match["start"], int(match["ordinal"] or 1))


def parts_text(parts: list[tuple[str, str]]) -> str:
    """A morning email's Session cell from its parts' (kind, Session cell)."""
    return _PART_SEPARATOR.join(f"{kind} {_quote(session)}" for kind, session in parts)


def read_parts(text: str) -> list[tuple[str, str]]:
    """(kind, Session cell) of each part of a morning email's Session cell."""
    found = []
    for part in text.split(_PART_SEPARATOR):
        kind, _, session = part.partition(" ")
        found.append((kind, _unquote(session)))
    return found


def _quote(session: str) -> str:
    return session.replace("%", "%25").replace("+", "%2B")


def _unquote(session: str) -> str:
    return _QUOTED.sub(lambda match: _UNQUOTED[match[1]], session)
