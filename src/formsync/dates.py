"""Reading the dates and times people type into sheets and forms."""

from __future__ import annotations

import datetime as dt
import re

UNDATED = frozenset({"", "tba", "tbd", "por definir", "pendiente", "-"})

_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?\s?m\.?)?$", re.IGNORECASE)
_SLASHED = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_date(text: str) -> dt.date | None:
    """An ISO or day-first date; None for blank or TBA. ValueError says what is wrong."""
    value = text.strip()
    if value.casefold() in UNDATED:
        return None
    match = _ISO_DATE.match(value)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _DAY_FIRST.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a date; write 2020-10-20 or 20-10-2020")
        day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a real date ({error})") from None


def parse_time(text: str) -> dt.time | None:
    value = text.strip()
    if value.casefold() in UNDATED:
        return None
    match = _TIME.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a time; write 17:00")
    hour, minute = int(match[1]), int(match[2])
    second = int(match[3] or 0)
    meridiem = (match[4] or "").replace(".", "").replace(" ", "").lower()
    if meridiem and not 1 <= hour <= 12:
        raise ValueError(f"{value!r} is not a time (hour {hour} with {meridiem})")
    if meridiem == "pm" and hour != 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    try:
        return dt.time(hour, minute, second)
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day") from None


def parse_local_datetime(text: str) -> dt.datetime | None:
    """formsync's own 'YYYY-MM-DD HH:MM' (or ISO 'T') form; None when blank."""
    value = text.strip()
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace(" ", "T", 1)).replace(tzinfo=None)
    except ValueError:
        raise ValueError(f"{value!r} is not a date and time; write 2020-12-15 17:00") from None


def format_local_datetime(value: dt.datetime) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}"


def slashed_order(samples: list[str]) -> str | None:
    """'MDY' or 'DMY' when the samples prove it (a part above 12), else None."""
    first_big = second_big = False
    for sample in samples:
        match = _SLASHED.match(sample.strip())
        if match:
            first_big |= int(match[1]) > 12
            second_big |= int(match[2]) > 12
    if first_big and second_big:
        raise ValueError("the timestamps mix day-first and month-first dates")
    if first_big:
        return "DMY"
    if second_big:
        return "MDY"
    return None


def parse_timestamp(text: str, order: str, tz: dt.tzinfo) -> dt.datetime:
    """A form timestamp ('10/5/2020 14:03:22' or ISO) as an aware datetime in `tz`."""
    value = text.strip()
    match = _SLASHED.match(value)
    if match:
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        month, day = (first, second) if order == "MDY" else (second, first)
        hour, minute, sec = (int(match[i] or 0) for i in (4, 5, 6))
        try:
            return dt.datetime(year, month, day, hour, minute, sec, tzinfo=tz)
        except ValueError as error:
            raise ValueError(f"{value!r} is not a real date and time ({error})") from None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a timestamp") from None
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed.astimezone(tz)


def iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")
