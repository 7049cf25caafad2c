"""The `.ics` backend: RFC 5545 output that parses back, written only when something changed."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar, Event
from tests.calendar.builders import NOW, fortnightly, make_config, sync

from formsync.calendar import IcsCalendar, build_calendar_backend
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
    backend = build_calendar_backend(config)
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


def test_second_run_leaves_the_file_untouched(ics: IcsCalendar, config: Config) -> None:
    sessions = fortnightly(4)
    sync(ics, sessions, config)
    before = ics.path.read_bytes()
    os.utime(ics.path, (1_000_000_000, 1_000_000_000))
    actions, problems = sync(ics, sessions, config, now=LATER)
    assert (actions, problems) == ([], [])
    assert ics.apply([], LATER) == []
    assert ics.path.read_bytes() == before
    assert ics.path.stat().st_mtime == 1_000_000_000


def test_an_edit_changes_only_that_event(ics: IcsCalendar, config: Config) -> None:
    sessions = fortnightly(4)
    sync(ics, sessions, config)
    before = events(ics.path)
    sessions[2] = replace(sessions[2], chapter="Linear Neural Networks", start=dt.time(18))
    actions, _ = sync(ics, sessions, config, now=LATER)
    assert [a.describe() for a in actions] == [
        "move event Sesión 3 – Linear Neural Networks from 2020-11-17 17:00 to "
        "2020-11-17 18:00 in calendar.ics"]
    after = events(ics.path)
    assert int(after["3"]["SEQUENCE"]) == 1
    assert after["3"].decoded("DTSTAMP") == LATER
    assert after["3"].decoded("DTSTART").hour == 18
    for unchanged in ("1", "2", "4"):
        assert after[unchanged].to_ical() == before[unchanged].to_ical()


def test_removed_session_is_cancelled_and_kept_then_revived(ics: IcsCalendar,
                                                            config: Config) -> None:
    sessions = fortnightly(3)
    sync(ics, sessions, config)
    without_date = [*sessions[:2], replace(sessions[2], date=None)]
    actions, _ = sync(ics, without_date, config, now=LATER)
    assert [a.describe() for a in actions] == [
        "cancel event Sesión 3 – Chapter 3 on 2020-11-17 17:00 in calendar.ics"]
    cancelled = events(ics.path)["3"]
    assert (str(cancelled["STATUS"]), int(cancelled["SEQUENCE"])) == ("CANCELLED", 1)
    actions, _ = sync(ics, sessions, config, now=LATER + dt.timedelta(days=1))
    assert [type(a).__name__ for a in actions] == ["ReviveEvent"]
    revived = events(ics.path)["3"]
    assert (str(revived["STATUS"]), int(revived["SEQUENCE"])) == ("CONFIRMED", 2)
    assert sync(ics, sessions, config)[0] == []


def test_events_formsync_did_not_write_are_kept(ics: IcsCalendar, config: Config) -> None:
    sync(ics, fortnightly(1), config)
    calendar = Calendar.from_ical(ics.path.read_text(encoding="utf-8"))
    party = Event()
    party.add("uid", "party@example.org")
    party.add("summary", "End-of-year party")
    party.add("dtstart", dt.datetime(2020, 12, 18, 20, tzinfo=dt.UTC))
    party.add("dtstamp", NOW)
    calendar.add_component(party)
    ics.path.write_bytes(calendar.to_ical())
    sync(ics, fortnightly(2), config, now=LATER)
    uids = [str(e["UID"]) for e in Calendar.from_ical(ics.path.read_bytes()).walk("VEVENT")]
    assert "party@example.org" in uids and len(uids) == 3
    assert len(ics.read()) == 2


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
    ics = build_calendar_backend(config)
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
