"""Cell values between Google Sheets and formsync's text tables.

Reads use `valueRenderOption=UNFORMATTED_VALUE` and `dateTimeRenderOption=SERIAL_NUMBER`, so a
cell arrives as a string, a bool or a number whatever its display format. Numbers in date and
time columns are serials (days since 1899-12-30, wall-clock in the spreadsheet's zone, taken to
be the group's zone) and become the text the core writes and parses; any other number becomes
its shortest text (3.0 → "3").

Writes are RAW: text stays text (`=IMPORTXML(...)` is never run). In formsync's own date
columns (Members Registered/Updated, Sessions Proposed date, Reminders Time) a value is written
as a serial number, so Sheets shows a real date, but only when reading that number back gives
exactly the same text; otherwise (an offset other than the group's, a DST-ambiguous hour, text
someone typed) it is written as text. So read(write(x)) == x always and a second sync is a no-op.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence

from formsync.columns import MEMBER_ALIASES, RESPONSE_ALIASES, SESSION_ALIASES, locate
from formsync.model import MEMBERS, REMINDERS, RESPONSES, SESSIONS, SUBMISSIONS, Table

EPOCH = dt.datetime(1899, 12, 30)
SECONDS_PER_DAY = 86_400
Value = str | int | float | bool


class Kind(enum.Enum):
    TEXT = "text"
    DATE = "date"  # 2020-10-20
    TIME = "time"  # 17:00
    LOCAL_DATETIME = "local"  # 2020-12-15 17:00 (naive, group-local)
    NAIVE_DATETIME = "naive"  # 2020-10-05T14:03:22 (form timestamps)
    ZONED_DATETIME = "zoned"  # 2020-10-01T09:00:00-05:00 (in the group's zone)


# Number formats formsync sets on the date columns it owns (when it writes their header).
PATTERNS = {Kind.LOCAL_DATETIME: "yyyy-mm-dd hh:mm", Kind.ZONED_DATETIME: "yyyy-mm-dd hh:mm:ss"}

_READ_KINDS: dict[str, tuple[Mapping[str, Sequence[str]], dict[str, Kind]]] = {
    SESSIONS: (SESSION_ALIASES, {"Date": Kind.DATE, "Start": Kind.TIME, "End": Kind.TIME,
                                 "Proposed date": Kind.LOCAL_DATETIME}),
    MEMBERS: (MEMBER_ALIASES, {"Registered": Kind.ZONED_DATETIME,
                               "Updated": Kind.ZONED_DATETIME}),
    RESPONSES: ({"Timestamp": RESPONSE_ALIASES["Timestamp"]},
                {"Timestamp": Kind.NAIVE_DATETIME}),
    REMINDERS: ({"Time": ("Time",)}, {"Time": Kind.ZONED_DATETIME}),
    SUBMISSIONS: ({"Timestamp": RESPONSE_ALIASES["Timestamp"]},
                  {"Timestamp": Kind.NAIVE_DATETIME}),
}
# The columns written as serial numbers: formsync's own date columns only.
WRITTEN_AS_SERIAL = frozenset({Kind.LOCAL_DATETIME, Kind.ZONED_DATETIME})


def column_kinds(sheet: str, header: Sequence[str], overrides: Mapping[str, str]
                 ) -> dict[int, Kind]:
    """The non-text columns of a sheet, by position, found by header (aliases allowed)."""
    known = _READ_KINDS.get(sheet)
    if known is None:
        return {}
    aliases, kinds = known
    columns = locate(Table(sheet, tuple(header)), aliases, overrides)
    return {columns.index[name]: kind for name, kind in kinds.items() if columns.has(name)}


# ---------------------------------------------------------------------------------------------
# Reading


def shortest_text(number: int | float) -> str:
    if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number) if isinstance(number, float) else str(number)


def from_serial(serial: float) -> dt.datetime:
    return EPOCH + dt.timedelta(seconds=round(serial * SECONDS_PER_DAY))


def to_serial(moment: dt.datetime) -> float:
    delta = moment - EPOCH
    return (delta.days * SECONDS_PER_DAY + delta.seconds) / SECONDS_PER_DAY


def _clock(moment: dt.datetime) -> str:
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


def render_serial(serial: float, kind: Kind, tz: dt.tzinfo) -> str:
    moment = from_serial(serial)
    if kind is Kind.DATE:
        return moment.date().isoformat()
    if kind is Kind.TIME:
        return _clock(moment)
    if kind is Kind.LOCAL_DATETIME:
        return f"{moment.date().isoformat()} {_clock(moment)}"
    if kind is Kind.NAIVE_DATETIME:
        return moment.isoformat(timespec="seconds")
    return moment.replace(tzinfo=tz).isoformat(timespec="seconds")


def from_cell(value: object, kind: Kind, tz: dt.tzinfo) -> str:
    """One cell of a values.batchGet answer (UNFORMATTED_VALUE, SERIAL_NUMBER) as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if kind is Kind.TEXT:
            return shortest_text(value)
        try:
            return render_serial(float(value), kind, tz)
        except (OverflowError, ValueError):
            return shortest_text(value)  # far outside any calendar: keep the number
    return "" if value is None else str(value)


def to_table(name: str, values: Sequence[Sequence[object]], tz: dt.tzinfo,
             overrides: Mapping[str, str]) -> Table:
    """A worksheet's values (ragged, trailing empties dropped by Google) as a Table whose rows
    are padded to the header's width, as the local backend reads them."""
    if not values:
        return Table(name, ())
    header = tuple(from_cell(cell, Kind.TEXT, tz).strip() for cell in values[0])
    kinds = column_kinds(name, header, overrides)
    width = len(header)
    rows = []
    for line in values[1:]:
        cells = [from_cell(cell, kinds.get(i, Kind.TEXT), tz) for i, cell in enumerate(line)]
        rows.append(tuple(cells + [""] * (width - len(cells))))
    return Table(name, header, tuple(rows))


# ---------------------------------------------------------------------------------------------
# Writing


def _parse_for_serial(text: str, kind: Kind, tz: dt.tzinfo) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        return None
    if kind is Kind.ZONED_DATETIME:
        return moment.astimezone(tz).replace(tzinfo=None) if moment.tzinfo else None
    return moment.replace(tzinfo=None) if moment.tzinfo is None else None


def to_cell(text: str, kind: Kind, tz: dt.tzinfo) -> Value:
    """What to send (RAW) for the text the core wants in a cell: a serial number in formsync's
    own date columns when it reads back as exactly `text`, else the text itself."""
    if kind not in WRITTEN_AS_SERIAL or not text:
        return text
    moment = _parse_for_serial(text, kind, tz)
    if moment is None:
        return text
    serial = to_serial(moment)
    return serial if render_serial(serial, kind, tz) == text else text
