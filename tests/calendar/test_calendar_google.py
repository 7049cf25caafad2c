"""The Google Calendar adapter, through the real googleapiclient over HTTP to the emulator
(with a real service-account token exchange)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from tests.calendar.builders import CALENDAR_ID, GROUP, NOW, fortnightly, member, sync
from tests.calendar.conftest import MakeConfig

from formsync.backends import build_calendar
from formsync.calendar.event import event_id
from formsync.calendar.google import ATTENDEES_FIX, check_calendar_access
from formsync.emulator import CallCounts, Emulator
from formsync.emulator.calendar import CalendarApi
from formsync.emulator.testing import FakeTime, make_authorized_user
from formsync.google.auth import SCOPE_CALENDAR
from formsync.google.transport import RetryPolicy
from formsync.model import Session
from formsync.ports import CalendarBackend

MEMBERS = [member("ana@example.org"), member("luis@example.org"),
           member("gone@example.org", status="unsubscribed")]


def calendar_calls(emulator: Emulator, before: CallCounts) -> dict[str, int]:
    return dict((emulator.counts() - before).of("calendar").by_name)


def run(emulator: Emulator, backend: CalendarBackend, sessions: list[Session],
        config: Any, **options: Any) -> tuple[dict[str, int], list[Any], list[Any]]:
    before = emulator.counts()
    actions, problems = sync(backend, sessions, config, **options)
    return calendar_calls(emulator, before), actions, problems


def stored(api: CalendarApi) -> dict[str, dict[str, Any]]:
    """The group's events on the emulator, by session number."""
    return {e["extendedProperties"]["private"]["formsync_session"]: e
            for e in api.events(CALENDAR_ID) if "extendedProperties" in e}


def test_events_carry_identity_hash_and_local_times(calendar_api: CalendarApi,
                                                    google_config: MakeConfig) -> None:
    config = google_config()
    sync(build_calendar(config), fortnightly(2), config)
    first, second = stored(calendar_api)["1"], stored(calendar_api)["2"]
    assert first["id"] == event_id(CALENDAR_ID, GROUP, 1)
    assert first["extendedProperties"]["private"]["formsync_group"] == GROUP
    assert len(first["extendedProperties"]["private"]["formsync_hash"]) == 32
    assert first["summary"] == f"Sesión 1 – Chapter 1 · {GROUP}"
    assert first["start"] == {"dateTime": "2020-10-20T17:00:00+02:00",
                              "timeZone": "Europe/Madrid"}
    assert second["start"]["dateTime"] == "2020-11-03T17:00:00+01:00"  # after the DST change
    assert "attendees" not in first


def test_an_invisible_taken_id_is_revived_after_the_409(
        emulator: Emulator, calendar_api: CalendarApi, google_config: MakeConfig) -> None:
    config = google_config()
    taken = event_id(CALENDAR_ID, GROUP, 1)
    calendar_api.put_event(CALENDAR_ID, {
        "id": taken, "status": "cancelled", "summary": "stripped of its properties",
        "start": {"dateTime": "2020-10-20T17:00:00+02:00"},
        "end": {"dateTime": "2020-10-20T19:00:00+02:00"}})
    calls, _, problems = run(emulator, build_calendar(config), fortnightly(1), config)
    assert problems == []
    # 2 lists: by the group's mark, then (none found) by its name
    assert calls == {"calendar.events.list": 2, "calendar.events.insert": 1,
                     "calendar.events.update": 1}
    assert stored(calendar_api)["1"]["status"] == "confirmed"


def test_safety_stop_cancels_nothing_unless_forced(
        emulator: Emulator, calendar_api: CalendarApi, google_config: MakeConfig) -> None:
    config = google_config()
    sync(build_calendar(config), fortnightly(3), config)
    calls, actions, problems = run(emulator, build_calendar(config), [], config)
    assert (calls, actions) == ({"calendar.events.list": 1}, [])
    assert {p.severity for p in problems} == {"error"}
    assert all("--force" in p.fix for p in problems)
    calls, _, _ = run(emulator, build_calendar(config), [], config, force=True)
    assert calls == {"calendar.events.list": 1, "calendar.events.delete": 3}


def test_service_account_cannot_invite_says_why_and_how_to_fix(
        emulator: Emulator, calendar_api: CalendarApi, google_config: MakeConfig) -> None:
    config = google_config(invite_members=True)
    calls, _, problems = run(emulator, build_calendar(config), fortnightly(3), config,
                             members=MEMBERS)
    assert calls == {"calendar.events.list": 2, "calendar.events.insert": 1}  # asked once
    assert len(problems) == 1
    problem = problems[0]
    assert problem.severity == "error"
    assert "Service accounts cannot invite attendees without Domain-Wide Delegation of " \
           "Authority." in problem.message
    assert "session(s) 1, 2, 3" in problem.message
    assert problem.fix == ATTENDEES_FIX
    for remedy in ("google.subject", "formsync auth login", "calendar.invite_members = false"):
        assert remedy in problem.fix
    assert stored(calendar_api) == {}


def user_token(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    token = tmp_path / "token.json"
    token.write_text(json.dumps(make_authorized_user(
        emulator, user_email="organizer@example.org", scopes=(SCOPE_CALENDAR,))),
        encoding="utf-8")
    return {"credentials_file": token.name}


@pytest.mark.parametrize("identity", ["delegated", "oauth user"])
def test_members_are_invited_with_delegation_or_a_user_token(
        emulator: Emulator, calendar_api: CalendarApi, google_config: MakeConfig,
        tmp_path: Path, identity: str) -> None:
    google = {"subject": "organizer@example.org"} if identity == "delegated" \
        else user_token(emulator, tmp_path)
    config = google_config(invite_members=True, send_updates="all", google=google)
    after_first = dt.datetime(2020, 10, 25, tzinfo=dt.UTC)
    _, problems = sync(build_calendar(config), fortnightly(3), config,
                       members=MEMBERS, now=after_first)
    assert problems == []
    assert [a["email"] for a in stored(calendar_api)["2"]["attendees"]] == [
        "ana@example.org", "luis@example.org"]
    notified = [n["eventId"] for n in calendar_api.notifications()]
    assert notified == [event_id(CALENDAR_ID, GROUP, n) for n in (2, 3)]  # 1 is over


def test_check_calendar_access(emulator: Emulator, calendar_api: CalendarApi,
                               google_config: MakeConfig) -> None:
    ok, line = check_calendar_access(google_config())
    assert ok and CALENDAR_ID in line and "\n" not in line
    calendar_api.add_calendar(CALENDAR_ID, shared_with=["someone-else@example.org"])
    ok, line = check_calendar_access(google_config())
    assert not ok and "Make changes to events" in line
    ok, line = check_calendar_access(google_config(calendar_id="primary"))
    assert not ok and "members never see" in line


def test_a_lasting_quota_error_stops_the_step_within_the_run_budget_then_the_next_run_finishes(
        emulator: Emulator, calendar_api: CalendarApi, google_config: MakeConfig) -> None:
    """17 inserts under a 429 that never ends: one budget for the whole run, not one per call
    (which took deadline × calls); what was left undone is said, and done by the next run."""
    config = google_config(google={"retry_deadline_seconds": 8})
    fake = FakeTime()
    policy = RetryPolicy.from_config(config.google, sleep=fake.sleep, clock=fake.clock,
                                     jitter=lambda: 1.0)  # waits 1, 2, 4: 7 s, then 8 won't fit
    sessions = fortnightly(17)
    emulator.inject("calendar.events.insert", 429, count=10**6)
    calls, _, problems = run(emulator, build_calendar(config, policy=policy), sessions,
                             config)
    assert fake.now <= 8
    assert calls == {"calendar.events.list": 2, "calendar.events.insert": 4}
    (problem,) = problems
    assert problem.severity == "error"
    assert problem.message.startswith("17 event changes in Google Calendar not made (session(s) "
                                      "1, 2, 3,")
    for said in ("the next run makes them", "Google Calendar API quota exceeded",
                 "POST /calendars/", "the run's retry budget of 8 s"):
        assert said in problem.message
    assert "wait a minute and run again" in problem.fix
    assert stored(calendar_api) == {}
    emulator.clear_faults()
    calls, _, problems = run(emulator, build_calendar(config), sessions, config)
    assert (calls, problems) == ({"calendar.events.list": 2, "calendar.events.insert": 17}, [])
    assert len(calendar_api.events(CALENDAR_ID)) == len(stored(calendar_api)) == 17
    assert run(emulator, build_calendar(config), sessions, config)[0] == {
        "calendar.events.list": 1}


def test_an_insert_google_applies_late_while_the_rerun_inserts_makes_one_event(
        emulator: Emulator, calendar_api: CalendarApi, google_config: MakeConfig) -> None:
    """Google may apply events.insert after the client gave up; the organizer reruns at once.
    The event id is derived from the session, so the late insert and the rerun's insert name
    the same event: whichever lands second gets Google's 409 "The requested identifier already
    exists." (Calendar API, events.insert: "the ID must be unique per calendar"), never a
    second event."""
    config = google_config(google={"timeout_seconds": 1.0})
    sessions = fortnightly(3)
    emulator.inject("calendar.events.insert", "late", seconds=2.0)
    _, _, first = run(emulator, build_calendar(config), sessions, config)
    assert first and "may or may not" in first[0].message
    _, _, rerun = run(emulator, build_calendar(config), sessions, config)  # at once
    assert rerun == []
    assert emulator.wait_for_held_requests()  # the first insert has now landed, late
    calls, actions, problems = run(emulator, build_calendar(config), sessions, config,
                                   now=NOW + dt.timedelta(hours=1))
    assert (calls, actions, problems) == ({"calendar.events.list": 1}, [], [])
    live = [e for e in calendar_api.events(CALENDAR_ID) if e["status"] != "cancelled"]
    assert sorted(e["extendedProperties"]["private"]["formsync_session"] for e in live) == \
        ["1", "2", "3"]
