"""The `.ics` backend: RFC 5545 output that parses back, written only when something changed."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from tests.calendar.builders import NOW, fortnightly, make_config, sync

from formsync.backends import build_calendar
from formsync.calendar.ics import IcsCalendar
from formsync.config import Config
from formsync.errors import BackendError
from formsync.model import Session
from formsync.readme import import_table
from formsync.sessions import read_sessions

SEED_README = Path(__file__).parent.parent / "data" / "study-group-README.md"
LATER = NOW + dt.timedelta(days=3)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path, meeting_link="https://meet.example.org/d2l")


@pytest.fixture
def ics(config: Config) -> IcsCalendar:
    backend = build_calendar(config)
    assert isinstance(backend, IcsCalendar)
    return backend


def events(path: Path) -> dict[str, Any]:
    """The VEVENTs formsync wrote, by session number."""
    calendar = Calendar.from_ical(path.read_text(encoding="utf-8"))
    return {str(e["X-FORMSYNC-SESSION"]): e for e in calendar.walk("VEVENT")}


def test_events_parse_back_with_uid_zone_sequence_and_status(ics: IcsCalendar,
                                                             config: Config) -> None:
    sync(ics, fortnightly(3), config)
    calendar = Calendar.from_ical(ics.path.read_text(encoding="utf-8"))
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Madrid"]
    found = events(ics.path)
    assert sorted(found) == ["1", "2", "3"]
    first = found["1"]
    assert str(first["UID"]).endswith("@formsync")
    assert first["DTSTART"].params["TZID"] == "Europe/Madrid"
    assert first.decoded("DTSTART") == dt.datetime(2020, 10, 20, 17,
                                                   tzinfo=config.group.tz)
    assert first.decoded("DTSTART").astimezone(dt.UTC).hour == 15
    assert found["2"].decoded("DTSTART").astimezone(dt.UTC).hour == 16  # after the DST change
    assert (int(first["SEQUENCE"]), str(first["STATUS"])) == (0, "CONFIRMED")
    assert first.decoded("DTSTAMP") == NOW
    assert "https://meet.example.org/d2l" in str(first["DESCRIPTION"])
    assert [e.event_id for e in ics.read()] == sorted(e.event_id for e in ics.read())


def test_dtstamp_is_the_time_of_the_run_that_last_changed_the_event(ics: IcsCalendar,
                                                                   config: Config) -> None:
    """RFC 5545: without a METHOD, DTSTAMP is the last revision time. (That a second run,
    an edit, a cancellation and a revival touch nothing else: test_calendar_contract.py.)"""
    sessions = fortnightly(2)
    sync(ics, sessions, config)
    sessions[1] = replace(sessions[1], chapter="Linear Neural Networks", start=dt.time(18))
    sync(ics, sessions, config, now=LATER)
    found = events(ics.path)
    assert (found["1"].decoded("DTSTAMP"), found["2"].decoded("DTSTAMP")) == (NOW, LATER)


def test_subscribed_calendars_are_asked_to_refresh_every_six_hours(ics: IcsCalendar,
                                                                  config: Config) -> None:
    """RFC 7986 REFRESH-INTERVAL (VALUE=DURATION is required) and Outlook's X-PUBLISHED-TTL,
    so a moved session reaches members who subscribed to the feed."""
    sync(ics, fortnightly(1), config)
    text = ics.path.read_text(encoding="utf-8")
    assert "\nREFRESH-INTERVAL;VALUE=DURATION:PT6H\n" in text
    assert "\nX-PUBLISHED-TTL:PT6H\n" in text
    calendar = Calendar.from_ical(text)
    assert calendar.decoded("REFRESH-INTERVAL") == dt.timedelta(hours=6)


def test_a_broken_file_is_a_backend_error_with_a_fix(ics: IcsCalendar) -> None:
    ics.path.write_text("BEGIN:VCALENDAR\nthis is not ical\n", encoding="utf-8")
    with pytest.raises(BackendError) as caught:
        ics.read()
    assert "move it away" in caught.value.fix


def seed_sessions() -> list[Session]:
    sessions, _, problems = read_sessions(import_table(SEED_README.read_text(encoding="utf-8")))
    assert problems == []
    return sessions


def test_seed_readme_sessions_give_one_event_per_dated_session(tmp_path: Path) -> None:
    config = make_config(tmp_path, timezone="America/Mexico_City")
    ics = build_calendar(config)
    sessions = seed_sessions()
    actions, problems = sync(ics, sessions, config)
    assert problems == []
    dated = [s for s in sessions if s.date is not None]
    assert len(actions) == len(dated) == 4
    found = events(config.path(config.calendar.ics_path))
    assert sorted(found, key=int) == [s.key for s in dated]
    for s in dated:
        event = found[s.key]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert (start.date(), start.time(), end.time()) == (s.date, dt.time(17),
                                                            dt.time(19, 30))
        assert event["DTSTART"].params["TZID"] == "America/Mexico_City"
        assert start.utcoffset() == dt.timedelta(hours=-6 if s.key != "1" else -5)
    assert str(found["3"]["SUMMARY"]) == \
        "Sesión 3 – Linear Neural Networks · Deep Learning Study Group"
    assert "Tarea: Assignment 3 (https://github.com/dair-ai/d2l-study-group/blob/master/" \
           "exercises/section-03.md)" in str(found["3"]["DESCRIPTION"])
