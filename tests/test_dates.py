"""Form timestamps as Google writes them: the Form's CSV download, the linked sheet, ISO."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from formsync.dates import parse_timestamp, slashed_order

MEXICO = zoneinfo.ZoneInfo("America/Mexico_City")  # UTC-5 until 2020-10-25, then UTC-6
NBSP, NARROW_NBSP = "\u00a0", "\u202f"


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


# Google Forms "Download responses (.csv)" writes the owner's locale and zone, year first:
# es "2020/10/05 5:03:12 p. m. GMT-5", en "2020/10/05 5:03:12 PM GMT-5". Locale data (CLDR)
# puts a no-break or narrow no-break space before the marker and inside "p. m.".
@pytest.mark.parametrize(("text", "instant"), [
    ("2020/10/05 5:03:12 p. m. GMT-5", utc(2020, 10, 5, 22, 3, 12)),
    ("2020/10/05 5:03:12 PM GMT-5", utc(2020, 10, 5, 22, 3, 12)),
    (f"2020/10/05 5:03:12{NBSP}p.{NBSP}m. GMT-5", utc(2020, 10, 5, 22, 3, 12)),
    (f"2020/10/05 5:03:12{NARROW_NBSP}PM GMT-5", utc(2020, 10, 5, 22, 3, 12)),
    ("2020/10/05 5:03 p.m. GMT-5", utc(2020, 10, 5, 22, 3)),
    ("2020/10/05 5:03:12 pm GMT-05:00", utc(2020, 10, 5, 22, 3, 12)),
    ("2020/10/05 12:03:12 a. m. GMT-5", utc(2020, 10, 5, 5, 3, 12)),
    ("2020/10/05 12:03:12 p. m. GMT-5", utc(2020, 10, 5, 17, 3, 12)),
    ("2020/10/05 9:03:12 AM GMT+5:30", utc(2020, 10, 5, 3, 33, 12)),
    ("2020/10/05 5:03:12 a.m. GMT", utc(2020, 10, 5, 5, 3, 12)),
    ("2020/10/05 17:03:12", utc(2020, 10, 5, 22, 3, 12)),  # no zone: the group's
    ("2020/11/05 5:03:12 p. m. GMT-5", utc(2020, 11, 5, 22, 3, 12)),
])
def test_the_forms_csv_download_reads_as_the_right_instant(text: str,
                                                           instant: dt.datetime) -> None:
    for order in ("DMY", "MDY"):  # year first: the order of the other formats does not apply
        when = parse_timestamp(text, order, MEXICO)
        assert when == instant
        assert when.tzinfo is MEXICO


def test_a_gmt_offset_is_shown_in_the_group_zone() -> None:
    when = parse_timestamp("2020/11/05 5:03:12 p. m. GMT-5", "DMY", MEXICO)
    assert when.isoformat() == "2020-11-05T16:03:12-06:00"  # Mexico left summer time on 25 Oct


@pytest.mark.parametrize(("text", "order", "local"), [
    ("05/10/2020 17:03:12", "DMY", dt.datetime(2020, 10, 5, 17, 3, 12)),  # the es linked sheet
    ("10/5/2020 17:03:12", "MDY", dt.datetime(2020, 10, 5, 17, 3, 12)),
    ("10/5/2020 5:03:12 PM", "MDY", dt.datetime(2020, 10, 5, 17, 3, 12)),
    ("5/10/2020 5:03 p. m.", "DMY", dt.datetime(2020, 10, 5, 17, 3)),
    ("2020-10-05 17:03:12", "DMY", dt.datetime(2020, 10, 5, 17, 3, 12)),
])
def test_sheet_and_iso_timestamps_still_read(text: str, order: str, local: dt.datetime) -> None:
    assert parse_timestamp(text, order, MEXICO) == local.replace(tzinfo=MEXICO)


@pytest.mark.parametrize(("text", "says"), [
    ("2020/10/05 13:03:12 p. m. GMT-5", "hour 13 with pm"),
    ("2020/10/05 0:03:12 AM GMT-5", "hour 0 with am"),
    ("2020/02/31 5:03:12 PM GMT-5", "not a real date"),
    ("2020/10/05 5:03:12 PM GMT-25", "impossible offset"),
    ("2020/10/05 5:03:12 PM EST", "not a timestamp"),  # a zone name says no offset for sure
    ("ayer", "not a timestamp"),
])
def test_unreadable_timestamps_say_why(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_timestamp(text, "DMY", MEXICO)


def test_day_or_month_first_is_still_detected_beside_the_new_formats() -> None:
    assert slashed_order(["13/10/2020 5:03 p. m.", "2020/10/05 5:03:12 PM GMT-5"]) == "DMY"
    assert slashed_order(["10/13/2020 5:03:12 PM", "1/2/2020 9:00"]) == "MDY"
    assert slashed_order(["2020/10/25 5:03:12 PM GMT-5"]) is None  # year first proves nothing
