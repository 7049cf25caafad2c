"""Reading the dates and times people type into sheets and forms."""

from __future__ import annotations

import datetime as dt
import re

UNDATED = frozenset({"", "tba", "tbd", "por definir", "pendiente", "-"})

_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?\s?m\.?)?$", re.IGNORECASE)
# A time of day as forms and sheets write it: "17:03", "5:03:12 p. m.", "5:03 PM GMT-5". The
# spaces may be no-break (U+00A0) or narrow no-break (U+202F) ones, which \s matches.
_CLOCK = (r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
          r"(?:\s*(?P<meridiem>[ap])\.?\s*m\.?)?"
          r"(?:\s*(?P<zone>GMT|UTC)"
          r"(?:(?P<sign>[+-])(?P<zone_hours>\d{1,2})(?::?(?P<zone_minutes>\d{2}))?)?)?")
_SLASHED = re.compile(
    rf"^(?P<first>\d{{1,2}})/(?P<middle>\d{{1,2}})/(?P<year>\d{{4}})(?:[\sT,]+{_CLOCK})?$",
    re.IGNORECASE)
# The Form's own "Download responses (.csv)": "2020/10/05 5:03:12 p. m. GMT-5".
_YEAR_FIRST = re.compile(
    rf"^(?P<year>\d{{4}})/(?P<month>\d{{1,2}})/(?P<day>\d{{1,2}})(?:[\sT,]+{_CLOCK})?$",
    re.IGNORECASE)
TIMESTAMP_EXAMPLES = ("2020/10/05 5:03:12 p. m. GMT-5", "05/10/2020 17:03:12",
                      "2020-10-05 17:03:12")


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
            first_big |= int(match["first"]) > 12
            second_big |= int(match["middle"]) > 12
    if first_big and second_big:
        raise ValueError("the timestamps mix day-first and month-first dates")
    if first_big:
        return "DMY"
    if second_big:
        return "MDY"
    return None


def parse_timestamp(text: str, order: str, tz: dt.tzinfo) -> dt.datetime:
    """A form timestamp as an aware datetime in `tz`: the Form's CSV download
    ('2020/10/05 5:03:12 p. m. GMT-5'), the linked sheet ('10/5/2020 14:03:22', read in
    `order`) or ISO. A GMT/UTC offset in the text is respected; otherwise the time is `tz`'s."""
    value = text.strip()
    match = _YEAR_FIRST.match(value)
    if match:
        return _at(value, match, int(match["month"]), int(match["day"]), tz)
    match = _SLASHED.match(value)
    if match:
        first, middle = int(match["first"]), int(match["middle"])
        month, day = (first, middle) if order == "MDY" else (middle, first)
        return _at(value, match, month, day, tz)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a timestamp") from None
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed.astimezone(tz)


def _at(value: str, match: re.Match[str], month: int, day: int, tz: dt.tzinfo) -> dt.datetime:
    """The instant a matched date and _CLOCK describe, in `tz`."""
    hour = _hour_of_day(value, int(match["hour"] or 0), match["meridiem"] or "")
    zone = _zone(value, match) or tz
    try:
        when = dt.datetime(int(match["year"]), month, day, hour, int(match["minute"] or 0),
                           int(match["second"] or 0), tzinfo=zone)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a real date and time ({error})") from None
    return when.astimezone(tz)


def _hour_of_day(value: str, hour: int, meridiem: str) -> int:
    """A 12-hour clock's hour (with 'a' or 'p') on the 24-hour clock."""
    meridiem = meridiem.lower()
    if not meridiem:
        return hour
    if not 1 <= hour <= 12:
        raise ValueError(f"{value!r} is not a time (hour {hour} with {meridiem}m)")
    return hour % 12 + (12 if meridiem == "p" else 0)


def _zone(value: str, match: re.Match[str]) -> dt.tzinfo | None:
    """The GMT/UTC offset written after the time (bare GMT is UTC); None when none is."""
    if not match["zone"]:
        return None
    if not match["sign"]:
        return dt.UTC
    minutes = int(match["zone_hours"]) * 60 + int(match["zone_minutes"] or 0)
    if minutes >= 24 * 60 or int(match["zone_minutes"] or 0) >= 60:
        raise ValueError(f"{value!r} has an impossible offset from GMT")
    return dt.timezone(dt.timedelta(minutes=-minutes if match["sign"] == "-" else minutes))


def iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")
