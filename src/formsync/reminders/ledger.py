"""The `Reminders` worksheet: one row per (kind, session, recipient) saying what became of it.

Statuses:
  - ``sent``       delivered (outbox file written, SMTP accepted, Gmail draft sent);
  - ``queued``     about to be sent over SMTP in this run, not handed over yet: planned again;
  - ``pending``    being handed to SMTP right now; found on a later run it becomes ``unknown``;
  - ``drafting``   a Gmail draft is about to be created: nothing was sent, so the reminder is
                   planned again; later runs look for a draft it may have left (by Message-ID)
                   and adopt it or delete it;
  - ``drafted``    a Gmail draft exists (its id in `Message id`) and is about to be sent;
  - ``unknown``    an interrupted SMTP send: maybe delivered, never sent again, reported;
  - ``failed``     this recipient was refused (SMTP 550, Gmail "Invalid To header"): not retried;
  - ``deferred``   not sent for now (SMTP 4xx, the account or server refused): retried;
  - ``expired``    its session started before it could be sent: never sent;
  - ``superseded`` an earlier row of a reminder that a later row records;
  - ``recorded``   the `setup` row, whose `Time` is the moment formsync started reminding.

A person may set a row's status to ``retry`` (or delete the row) to have it sent again.

Every write must be safe to apply twice or late (Google may apply a write after the client gave
up while a rerun goes on). So a run never rewrites a row that another run may still write: each
attempt to send a reminder adds a row of its own (`SheetEdit.log`: appended where the sheet
ends), which only the run that added it updates, and earlier rows of that reminder are marked
``superseded``. A row added twice, or late, is merged on reading: where rows share a key, the
most advanced status counts (sent and the other final statuses > drafted > drafting or pending >
the rest; the later row on a tie), and the others are reported, never acted on.
Writes are batched: a `LedgerWriter` collects status changes and applies them as one SheetEdit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from formsync.actions import CellWrite, SheetEdit
from formsync.columns import fold
from formsync.model import REMINDER_HEADER, REMINDERS, Problem, Table
from formsync.ports import SheetsBackend

SENT, PENDING, DRAFTED, UNKNOWN = "sent", "pending", "drafted", "unknown"
DRAFTING, QUEUED, SUPERSEDED = "drafting", "queued", "superseded"
FAILED, DEFERRED, EXPIRED, RECORDED = "failed", "deferred", "expired", "recorded"
# Rows with these statuses are never planned again.
SETTLED = frozenset({SENT, PENDING, DRAFTED, UNKNOWN, FAILED, EXPIRED, RECORDED})
# Rows a run left half-done: the next run resolves them before sending anything new.
INTERRUPTED = frozenset({PENDING, DRAFTED})
# Rows that count toward today's daily cap.
COUNTED = frozenset({SENT, PENDING, DRAFTED, UNKNOWN})
# How far along a row is; where rows share a key the most advanced one counts.
_PROGRESS = {SENT: 3, UNKNOWN: 3, FAILED: 3, EXPIRED: 3, RECORDED: 3, DRAFTED: 2, DRAFTING: 1,
             PENDING: 1}
# Google can create a draft after the client gave up, even after a rerun sent the reminder. So
# runs look for drafts a `drafting` row may have left until one looks at least SETTLE after the
# row was written (assumed: Google applies a request within minutes or not at all), and marks
# the row; rows older than ORPHAN_WINDOW (a run killed long ago) are not looked for any more.
SETTLE = dt.timedelta(minutes=15)
ORPHAN_WINDOW = dt.timedelta(days=7)
SWEPT = "drafts looked for"

SETUP_KIND = "setup"
NOT_MAIL_PREFIX = "announce_"  # ledger kinds of chat posts (formsync.announce.plan)


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


def progress(status: str) -> int:
    return _PROGRESS.get(status, 0)


def read_rows(table: Table | None) -> dict[LedgerKey, list[Entry]]:
    """Every row by key, in sheet order."""
    if table is None or not table.header:
        return {}
    positions = _positions(table.header)
    rows: dict[LedgerKey, list[Entry]] = {}
    for index, row in enumerate(table.rows):
        kind = _cell(row, positions, "Kind").lower()
        if not kind:
            continue
        key = LedgerKey(kind, _cell(row, positions, "Session"),
                        _cell(row, positions, "Recipient").lower())
        rows.setdefault(key, []).append(Entry(
            key, _cell(row, positions, "Status").lower(), _cell(row, positions, "Message id"),
            _cell(row, positions, "Time"), _cell(row, positions, "Detail"),
            Table.sheet_row(index)))
    return rows


def winner(rows: Sequence[Entry]) -> Entry:
    """The row that counts: the most advanced status, the later row on a tie."""
    return max(rows, key=lambda entry: (progress(entry.status), entry.row))


def read_ledger(table: Table | None) -> dict[LedgerKey, Entry]:
    """The row that counts for each key (see `winner`)."""
    return {key: winner(rows) for key, rows in read_rows(table).items()}


def duplicates(rows_by_key: Mapping[LedgerKey, Sequence[Entry]]) -> list[Problem]:
    """Rows that repeat a key without counting (a write applied twice or late, a row typed by
    hand): reported, never acted on. Superseded rows and rows a retry replaced are history."""
    found = []
    for key, rows in rows_by_key.items():
        counted = winner(rows)
        ignored = [r for r in rows if r is not counted and progress(r.status) > 0]
        if ignored:
            where = ", ".join(str(r.row) for r in ignored)
            found.append(Problem(
                "reminders", f"the {key} is recorded more than once: row {counted.row} "
                f"({counted.status}) counts, row {where} is ignored", sheet=REMINDERS,
                row=ignored[0].row, fix="delete the ignored row (it is left by an interrupted "
                "or repeated run); formsync never acts on it"))
    return found


# Refusals of the account, credentials, quota or server, as earlier versions worded them when
# they (wrongly) marked a reminder failed: Gmail's HTTP errors other than a bad recipient, and
# SMTP's "service not available", "TLS unavailable", authentication and quota replies.
_ACCOUNT_REFUSAL = re.compile(
    r"HTTP (?:400 (?!Invalid (?:To|Cc|Bcc) header)|401|403|429|5\d\d)|failedPrecondition"
    r"|SMTP (?:421|454|530|534|535)\b|\b[45]\.4\.5\b|quota", re.IGNORECASE)


def failed_for_the_account(entry: Entry) -> bool:
    """A `failed` row whose reason was the account, not the recipient: it was never sent."""
    return entry.status == FAILED and bool(_ACCOUNT_REFUSAL.search(entry.detail))


def is_open(entry: Entry | None) -> bool:
    """Still to send: never recorded, not settled, or failed only because of the account."""
    return entry is None or entry.status not in SETTLED or failed_for_the_account(entry)


def orphan_suspects(rows_by_key: Mapping[LedgerKey, Sequence[Entry]], now: dt.datetime,
                    tz: dt.tzinfo) -> set[LedgerKey]:
    """Keys whose Gmail draft creation may have been cut off recently (a `drafting` row, or
    one superseded from `drafting`): Google may still have created a draft for them."""
    found = set()
    for key, rows in rows_by_key.items():
        for row in rows:
            if _may_have_left_a_draft(row, now, tz):
                found.add(key)
    return found


def _may_have_left_a_draft(row: Entry, now: dt.datetime, tz: dt.tzinfo) -> bool:
    was_drafting = row.status == DRAFTING or (
        row.status == SUPERSEDED and row.detail.startswith(_WAS_DRAFTING))
    when = parse_time(row.time, tz)
    return was_drafting and SWEPT not in row.detail and (
        when is None or now - when < ORPHAN_WINDOW)


_WAS_DRAFTING = f"was {DRAFTING};"


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
    """Emails handed to the transport on `day` (group-local), for the daily cap. Chat posts
    (formsync.announce, kinds `announce_…`) share the ledger but not the mail provider's cap."""
    count = 0
    for entry in entries.values():
        if entry.key.kind.startswith(NOT_MAIL_PREFIX):
            continue
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

    A change goes to the row this run added for its key; else, when it settles a row an
    interrupted run left (drafted or pending), to that row; else to a new row, and the key's
    earlier rows are marked superseded. No re-read is needed: the backend says where new rows
    went.
    """

    def __init__(self, sheets: SheetsBackend, tz: dt.tzinfo, table: Table | None = None
                 ) -> None:
        self.sheets = sheets
        self.tz = tz
        self._header: tuple[str, ...] = ()
        self._rows: dict[LedgerKey, list[Entry]] = {}
        self._entries: dict[LedgerKey, Entry] = {}
        self._own: set[LedgerKey] = set()  # keys whose counted row this run added
        self._changes: dict[LedgerKey, Change] = {}
        self._notes: dict[int, str] = {}  # sheet row → new Detail
        if table is None:
            self.reload()
        else:
            self._load(table)

    def reload(self) -> None:
        self._load(self.sheets.read_many([REMINDERS]).get(REMINDERS))

    def _load(self, table: Table | None) -> None:
        self._header = table.header if table is not None else ()
        self._rows = read_rows(table)
        self._entries = {key: winner(rows) for key, rows in self._rows.items()}
        self._own.clear()

    @property
    def entries(self) -> Mapping[LedgerKey, Entry]:
        return self._entries

    @property
    def rows(self) -> Mapping[LedgerKey, Sequence[Entry]]:
        return self._rows

    def record(self, key: LedgerKey, status: str, now: dt.datetime, *, message_id: str = "",
               detail: str = "") -> None:
        self._changes[key] = Change(key, status, message_id, stamp(now, self.tz),
                                    " ".join(detail.split())[:500])

    def mark_swept(self, keys: Iterable[LedgerKey], now: dt.datetime) -> None:
        """Note on the `drafting` rows of `keys` written at least SETTLE ago that their drafts
        were looked for after Google could still create them: no later run looks again."""
        for key in keys:
            for row in self._rows.get(key, []):
                when = parse_time(row.time, self.tz)
                if _may_have_left_a_draft(row, now, self.tz) and when is not None \
                        and now - when >= SETTLE:
                    self._notes[row.row] = f"{row.detail}; {SWEPT}".lstrip("; ")
        for key, rows in self._rows.items():
            self._rows[key] = [replace(r, detail=self._notes.get(r.row, r.detail)) for r in rows]

    def flush(self) -> None:
        if not (self._changes or self._notes):
            return
        changes = list(self._changes.values())
        header = self._full_header()
        in_place = [c for c in changes if self._settles_in_place(c)]
        added = [c for c in changes if not self._settles_in_place(c)]
        edit = self._edit(header, in_place, added)
        first_new = self.sheets.apply([edit]).get(REMINDERS)
        self._changes.clear()
        self._notes.clear()
        self._header = header
        self._remember(in_place, added, first_new)

    def _settles_in_place(self, change: Change) -> bool:
        entry = self._entries.get(change.key)
        if entry is None:
            return False
        return change.key in self._own or (entry.status in INTERRUPTED
                                           and progress(change.status) >= progress(entry.status))

    def _full_header(self) -> tuple[str, ...]:
        old = self._header
        return (*old, *(name for name in REMINDER_HEADER if fold(name) not in map(fold, old)))

    def _edit(self, header: tuple[str, ...], in_place: Sequence[Change],
              added: Sequence[Change]) -> SheetEdit:
        positions = _positions(header)
        writes: list[CellWrite] = []
        for change in in_place:
            row = self._entries[change.key].row
            writes += [CellWrite(row, header[positions[name]], value)
                       for name, value in change.values().items()]
        for change in added:
            for old in self._rows.get(change.key, ()):
                if old.status != SUPERSEDED:
                    writes += self._supersede(old, change, header, positions)
        rewritten = {w.row for w in writes if w.column == header[positions["Detail"]]}
        writes += [CellWrite(row, header[positions["Detail"]], detail)
                   for row, detail in self._notes.items() if row not in rewritten]
        appends = []
        for change in added:
            cells = [""] * len(header)
            for name, value in change.values().items():
                cells[positions[name]] = value
            appends.append(tuple(cells))
        summary = tuple(f"record {c.key} as {c.status} in {REMINDERS}"
                        for c in (*in_place, *added))
        return SheetEdit(REMINDERS, header, add_header=header != self._header,
                         writes=tuple(writes), appends=tuple(appends), summary=summary, log=True)

    @staticmethod
    def _supersede(old: Entry, change: Change, header: tuple[str, ...],
                   positions: Mapping[str, int]) -> list[CellWrite]:
        return [CellWrite(old.row, header[positions[name]], value)
                for name, value in _superseded(old, change.time).items()]

    def _remember(self, in_place: Sequence[Change], added: Sequence[Change],
                  first_new: int | None) -> None:
        for change in in_place:
            self._set(change, self._entries[change.key].row)
        if added and first_new is None:  # the backend could not say where the rows went
            self.reload()
            return
        for offset, change in enumerate(added):
            self._rows[change.key] = [
                replace(old, status=SUPERSEDED, time=change.time,
                        detail=_superseded(old, change.time)["Detail"])
                for old in self._rows.get(change.key, [])]
            self._set(change, (first_new or 0) + offset)

    def _set(self, change: Change, row: int) -> None:
        entry = Entry(change.key, change.status, change.message_id, change.time, change.detail,
                      row)
        rows = [r for r in self._rows.get(change.key, []) if r.row != row]
        self._rows[change.key] = [*rows, entry]
        self._entries[change.key] = entry
        self._own.add(change.key)


def _superseded(old: Entry, time: str) -> dict[str, str]:
    if old.status == SUPERSEDED:
        return {"Status": SUPERSEDED, "Time": old.time, "Detail": old.detail}
    swept = f"; {SWEPT}" if SWEPT in old.detail else ""
    return {"Status": SUPERSEDED, "Time": time,
            "Detail": f"was {old.status or 'blank'}; a later row records this reminder{swept}"}
