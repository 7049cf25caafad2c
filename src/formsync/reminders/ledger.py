"""The `Reminders` worksheet: one row per (kind, session, recipient) saying what became of it.

Statuses:
  - ``sent``      delivered (outbox file written, SMTP accepted, Gmail draft sent);
  - ``pending``   about to be handed to SMTP; found on a later run it becomes ``unknown``;
  - ``drafting``  Gmail drafts are about to be created: nothing was sent, so the reminder is
                  planned again; the next run first deletes any draft it left (by Message-ID);
  - ``drafted``   a Gmail draft exists (its id in `Message id`) and is about to be sent;
  - ``unknown``   an interrupted SMTP send: maybe delivered, never sent again, reported;
  - ``failed``    refused for good (SMTP 5xx, Gmail 400): not retried;
  - ``deferred``  refused for now (SMTP 4xx, connection lost before sending): retried;
  - ``expired``   its session started before it could be sent: never sent;
  - ``recorded``  the `setup` row, whose `Time` is the moment formsync started reminding.

A person may set a row's status to ``retry`` (or delete the row) to have it sent again.
Writes are batched: a `LedgerWriter` collects status changes and applies them as one SheetEdit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from formsync.actions import CellWrite, SheetEdit
from formsync.columns import fold
from formsync.model import REMINDER_HEADER, REMINDERS, Table

SENT, PENDING, DRAFTED, UNKNOWN = "sent", "pending", "drafted", "unknown"
DRAFTING = "drafting"
FAILED, DEFERRED, EXPIRED, RECORDED = "failed", "deferred", "expired", "recorded"
# Rows with these statuses are never planned again.
SETTLED = frozenset({SENT, PENDING, DRAFTED, UNKNOWN, FAILED, EXPIRED, RECORDED})
# Rows a run left half-done: the next run resolves them before sending anything new.
INTERRUPTED = frozenset({PENDING, DRAFTED})
# Rows that count toward today's daily cap.
COUNTED = frozenset({SENT, PENDING, DRAFTED, UNKNOWN})

SETUP_KIND = "setup"


class SheetsBackend(Protocol):
    def read_many(self, sheets: Iterable[str]) -> dict[str, Table | None]: ...

    def apply(self, edits: Iterable[SheetEdit]) -> None: ...


@dataclass(frozen=True, order=True)
class LedgerKey:
    kind: str
    session: str
    recipient: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.session or '-'}/{self.recipient or '-'}"

    def slug(self) -> str:
        """A file name stem that is safe on every system and unique per key."""
        readable = re.sub(r"[^A-Za-z0-9@._-]+", "_", str(self).replace("/", "__"))[:120]
        digest = hashlib.sha256(str(self).encode("utf-8")).hexdigest()[:10]
        return f"{readable}__{digest}"


@dataclass(frozen=True)
class Entry:
    key: LedgerKey
    status: str
    message_id: str
    time: str
    detail: str
    row: int  # sheet row


def _positions(header: tuple[str, ...]) -> dict[str, int]:
    folded = [fold(name) for name in header]
    return {name: folded.index(fold(name)) for name in REMINDER_HEADER if fold(name) in folded}


def _cell(row: tuple[str, ...], positions: Mapping[str, int], name: str) -> str:
    at = positions.get(name)
    return row[at].strip() if at is not None and at < len(row) else ""


def read_ledger(table: Table | None) -> dict[LedgerKey, Entry]:
    """Entries by key; when a key appears twice the later row wins."""
    if table is None or not table.header:
        return {}
    positions = _positions(table.header)
    entries: dict[LedgerKey, Entry] = {}
    for index, row in enumerate(table.rows):
        kind = _cell(row, positions, "Kind").lower()
        if not kind:
            continue
        key = LedgerKey(kind, _cell(row, positions, "Session"),
                        _cell(row, positions, "Recipient").lower())
        entries[key] = Entry(key, _cell(row, positions, "Status").lower(),
                             _cell(row, positions, "Message id"), _cell(row, positions, "Time"),
                             _cell(row, positions, "Detail"), Table.sheet_row(index))
    return entries


def parse_time(text: str, tz: dt.tzinfo) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def setup_time(entries: Mapping[LedgerKey, Entry], tz: dt.tzinfo) -> dt.datetime | None:
    """When formsync started reminding this group (the `setup` row), if recorded."""
    for entry in entries.values():
        if entry.key.kind == SETUP_KIND:
            return parse_time(entry.time, tz)
    return None


def sent_on(entries: Mapping[LedgerKey, Entry], day: dt.date, tz: dt.tzinfo) -> int:
    """Messages handed to the transport on `day` (group-local), for the daily cap."""
    count = 0
    for entry in entries.values():
        when = parse_time(entry.time, tz)
        if entry.status in COUNTED and when is not None and when.astimezone(tz).date() == day:
            count += 1
    return count


def stamp(moment: dt.datetime, tz: dt.tzinfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Change:
    key: LedgerKey
    status: str
    message_id: str
    time: str
    detail: str

    def values(self) -> dict[str, str]:
        return {"Kind": self.key.kind, "Session": self.key.session,
                "Recipient": self.key.recipient, "Status": self.status,
                "Message id": self.message_id, "Time": self.time, "Detail": self.detail}


class LedgerWriter:
    """Collects status changes and writes them as one SheetEdit per `flush()`.

    Existing rows are updated in place (one row per key); new keys are appended, and the
    worksheet is read again only after a flush that appended, so later updates find their
    rows wherever the backend put them.
    """

    def __init__(self, sheets: SheetsBackend, tz: dt.tzinfo) -> None:
        self.sheets = sheets
        self.tz = tz
        self.flushes = 0
        self._table: Table | None = None
        self._entries: dict[LedgerKey, Entry] = {}
        self._changes: dict[LedgerKey, Change] = {}
        self.reload()

    def reload(self) -> None:
        self._table = self.sheets.read_many([REMINDERS]).get(REMINDERS)
        self._entries = read_ledger(self._table)

    @property
    def entries(self) -> Mapping[LedgerKey, Entry]:
        return self._entries

    def record(self, key: LedgerKey, status: str, now: dt.datetime, *, message_id: str = "",
               detail: str = "") -> None:
        self._changes[key] = Change(key, status, message_id, stamp(now, self.tz),
                                    " ".join(detail.split())[:500])

    def flush(self) -> None:
        if not self._changes:
            return
        changes = list(self._changes.values())
        edit = self._edit(changes)
        self.sheets.apply([edit])
        self.flushes += 1
        self._changes.clear()
        if edit.appends or edit.add_header:
            self.reload()  # learn where the backend put the new rows
            return
        for change in changes:
            row = self._entries[change.key].row
            self._entries[change.key] = Entry(change.key, change.status, change.message_id,
                                              change.time, change.detail, row)

    def _edit(self, changes: list[Change]) -> SheetEdit:
        old = self._table.header if self._table is not None else ()
        header = (*old, *(name for name in REMINDER_HEADER if fold(name) not in map(fold, old)))
        positions = _positions(header)
        writes: list[CellWrite] = []
        appends: list[tuple[str, ...]] = []
        for change in changes:
            values = change.values()
            entry = self._entries.get(change.key)
            if entry is None:
                row = [""] * len(header)
                for name, value in values.items():
                    row[positions[name]] = value
                appends.append(tuple(row))
            else:
                writes += [CellWrite(entry.row, header[positions[name]], value)
                           for name, value in values.items()]
        summary = tuple(f"record {c.key} as {c.status} in {REMINDERS}" for c in changes)
        return SheetEdit(REMINDERS, header, add_header=header != old, writes=tuple(writes),
                         appends=tuple(appends), summary=summary)
