"""Issue 12 §3: renaming the group ([group] name) updates its events in place, on the .ics
file and on Google Calendar (emulator); and events an older formsync wrote (before events
carried the group's mark) are taken over after an upgrade, never duplicated."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from icalendar import Calendar
from tests.calendar.builders import CALENDAR_ID, GROUP, NOW, fortnightly, make_config, sync
from tests.calendar.conftest import MakeConfig

from formsync.backends import MirroredCalendar, build_calendar, ics_backend
from formsync.calendar.event import DesiredEvent, event_id
from formsync.calendar.google import GROUP_ID_KEY, GoogleCalendar
from formsync.calendar.plan import UpdateEvent
from formsync.config import Config
from formsync.emulator import Emulator
from formsync.emulator.calendar import CalendarApi
from formsync.model import Session

RENAMED = "Grupo de estudio: Dive into Deep Learning"
MASTER = {"master_spreadsheet": "https://docs.google.com/spreadsheets/d/1MasterSheetId/edit"}
LATER = NOW + dt.timedelta(days=1)


def renamed(config: Config, name: str = RENAMED) -> Config:
    return config.model_copy(update={"group": config.group.model_copy(update={"name": name})})


def with_optional(count: int) -> list[Session]:
    optional = Session(row=40, key="", chapter="Optional Session - Tools for Deep Learning",
                       date=dt.date(2021, 6, 1), start=dt.time(17))
    return [*fortnightly(count), optional]


# ---- the .ics file ---------------------------------------------------------------------------

def ics_events(config: Config) -> list[Any]:
    path = config.path(config.calendar.ics_path)
    return list(Calendar.from_ical(path.read_bytes()).walk("VEVENT"))


def test_ics_after_a_rename_has_one_event_per_session_with_the_new_name(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    sessions = with_optional(15)
    sync(build_calendar(config), sessions, config)
    uids = sorted(str(e["UID"]) for e in ics_events(config))
    new = renamed(config)
    actions, problems = sync(build_calendar(new), sessions, new, now=LATER)
    assert problems == [] and {a.kind for a in actions} == {"update"} and len(actions) == 16
    events = ics_events(new)
    assert sorted(str(e["UID"]) for e in events) == uids  # the same events, in place
    assert Counter(str(e["STATUS"]) for e in events) == {"CONFIRMED": 16}
    assert all(str(e["SUMMARY"]).endswith(f" · {RENAMED}") for e in events)
    assert all(str(e["X-FORMSYNC-GROUP"]) == RENAMED for e in events)
    assert sync(build_calendar(new), sessions, new, now=LATER) == ([], [])


def test_ics_uids_of_existing_groups_are_unchanged() -> None:
    """The derivation of a numbered session's id is what it was: files and Google calendars
    written before keep their events (pinned value)."""
    assert event_id(CALENDAR_ID, GROUP, 3) == "n5hl7as0ndt2nea6eaijak91h5bgaf09"
    assert event_id(CALENDAR_ID, GROUP, 3) == event_id(CALENDAR_ID, GROUP, "3")


# ---- Google Calendar (emulator) --------------------------------------------------------------

def ours(api: CalendarApi) -> list[dict[str, Any]]:
    return [e for e in api.events(CALENDAR_ID) if "extendedProperties" in e]


def counts(emulator: Emulator, before: Any) -> dict[str, int]:
    return dict((emulator.counts() - before).of("calendar").by_name)


def test_google_after_a_rename_updates_every_event_in_place(
        emulator: Emulator, calendar_api: CalendarApi, google_config: MakeConfig) -> None:
    config = google_config(google=MASTER)
    sessions = with_optional(15)
    sync(build_calendar(config), sessions, config)
    ids = sorted(e["id"] for e in ours(calendar_api))
    new = renamed(config)
    before = emulator.counts()
    _, problems = sync(build_calendar(new), sessions, new, now=LATER)
    assert problems == []
    assert counts(emulator, before) == {"calendar.events.list": 1, "calendar.events.patch": 16}
    events = ours(calendar_api)
    assert sorted(e["id"] for e in events) == ids and len(events) == 16
    assert {e["status"] for e in events} == {"confirmed"}
    assert all(e["summary"].endswith(f" · {RENAMED}") for e in events)
    assert {e["extendedProperties"]["private"]["formsync_group"] for e in events} == {RENAMED}
    assert Counter(str(e["UID"]) for e in ics_events(new)) == Counter(
        f"{i}@formsync" for i in ids)
    before = emulator.counts()
    assert sync(build_calendar(new), sessions, new, now=LATER) == ([], [])
    assert counts(emulator, before) == {"calendar.events.list": 1}


class OlderFormsync(GoogleCalendar):
    """Google Calendar as formsync wrote it before events carried the group's mark: found by
    the group's name only."""

    def body(self, event: DesiredEvent) -> dict[str, Any]:
        body = super().body(event)
        del body["extendedProperties"]["private"][GROUP_ID_KEY]
        return body


def older_formsync(config: Config) -> MirroredCalendar:
    google = OlderFormsync.from_config(config)
    google.group_id = ""
    return MirroredCalendar(google, ics_backend(config))


def test_an_upgrade_marks_the_old_events_and_creates_none(
        emulator: Emulator, calendar_api: CalendarApi, google_config: MakeConfig) -> None:
    config = google_config(google=MASTER, invite_members=False, send_updates="all")
    sessions = fortnightly(15)
    sync(older_formsync(config), sessions, config)
    ids = sorted(e["id"] for e in ours(calendar_api))
    assert not any(GROUP_ID_KEY in e["extendedProperties"]["private"]
                   for e in ours(calendar_api))
    before, notified = emulator.counts(), len(calendar_api.notifications())
    actions, problems = sync(build_calendar(config), sessions, config, now=LATER)
    assert problems == []
    assert {(a.target, a.kind) for a in actions} == {("google", "update")}
    assert all(isinstance(a, UpdateEvent) and a.mark_only for a in actions)
    assert actions[0].describe() == ("mark event Sesión 1 – Chapter 1 as this group's in "
                                     "Google Calendar")
    assert counts(emulator, before) == {"calendar.events.list": 2, "calendar.events.patch": 15}
    assert len(calendar_api.notifications()) == notified  # nobody is emailed about a mark
    assert sorted(e["id"] for e in ours(calendar_api)) == ids
    new = renamed(config)
    sync(build_calendar(new), sessions, new, now=LATER)
    events = ours(calendar_api)
    assert sorted(e["id"] for e in events) == ids and len(calendar_api.events(CALENDAR_ID)) == 15
    assert all(e["summary"].endswith(f" · {RENAMED}") for e in events)


def test_an_upgrade_and_a_rename_at_once_reuse_the_mirrors_ids(
        emulator: Emulator, calendar_api: CalendarApi, google_config: MakeConfig) -> None:
    """The old events carry neither the mark nor the new name: the .ics mirror knows their
    ids, and inserting a taken id revives the event in place (Google's 409)."""
    config = google_config(google=MASTER)
    sessions = fortnightly(4)
    sync(older_formsync(config), sessions, config)
    ids = sorted(e["id"] for e in ours(calendar_api))
    new = renamed(config)
    _, problems = sync(build_calendar(new), sessions, new, now=LATER)
    assert problems == []
    events = calendar_api.events(CALENDAR_ID)
    assert sorted(e["id"] for e in events) == ids
    assert all(e["summary"].endswith(f" · {RENAMED}") and e["status"] == "confirmed"
               for e in events)
    assert sync(build_calendar(new), sessions, new, now=LATER) == ([], [])


def test_a_stale_old_event_is_found_by_name_and_cancelled(
        calendar_api: CalendarApi, google_config: MakeConfig) -> None:
    config = google_config(google=MASTER)
    sync(older_formsync(config), fortnightly(3), config)
    sync(build_calendar(config), fortnightly(2), config, now=LATER)  # session 3 lost its date
    status = {e["extendedProperties"]["private"]["formsync_session"]: e["status"]
              for e in ours(calendar_api)}
    assert status == {"1": "confirmed", "2": "confirmed", "3": "cancelled"}
