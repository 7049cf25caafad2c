"""The pure calendar planner: sessions and existing events in, actions and problems out."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.calendar.builders import CALENDAR_ID, GROUP, NOW, make_config, member, session

from formsync.calendar.event import (
    CANCELLED,
    GOOGLE,
    ICS,
    DesiredEvent,
    ExistingEvent,
    desired_event,
    event_id,
)
from formsync.calendar.plan import (
    CalendarAction,
    CancelEvent,
    CreateEvent,
    ReviveEvent,
    UpdateEvent,
    plan_calendar,
)
from formsync.config import Config
from formsync.model import Session

CONFIG = make_config(Path(), meeting_link="https://meet.example.org/d2l",
                     location="Sala 3")
DAY = dt.date(2020, 11, 17)


def existing_of(event: DesiredEvent, target: str = ICS, **changes: object) -> ExistingEvent:
    found = ExistingEvent(target=target, event_id=event.event_id, session=event.session,
                          content_hash=event.content_hash(), status=event.status, sequence=0,
                          label=event.label, start=event.start)
    return replace(found, **changes)  # type: ignore[arg-type]


def desired(s: Session, config: Config = CONFIG) -> DesiredEvent:
    assert s.number is not None
    event = desired_event(s, s.number, config, ())
    assert event is not None
    return event


def lines(sessions: Sequence[Session], existing: Sequence[ExistingEvent] = (),
          config: Config = CONFIG, *, force: bool = False) -> list[str]:
    actions, _ = plan_calendar(sessions, [], existing, config, NOW, force=force)
    return [a.describe() for a in actions]


THIRD = session(3, "Linear Neural Networks", date=DAY, start=dt.time(17))


@pytest.mark.parametrize(("sessions", "existing", "expected"), [
    pytest.param([THIRD], [], ["create event Sesión 3 – Linear Neural Networks on "
                               "2020-11-17 17:00 in calendar.ics"], id="new dated session"),
    pytest.param([session(3)], [], [], id="undated: no event"),
    pytest.param([session(3, proposed=dt.datetime(2020, 12, 1, 17))], [], [],
                 id="proposed only, not published"),
    pytest.param([THIRD], [existing_of(desired(THIRD))], [], id="unchanged: nothing"),
    pytest.param([replace(THIRD, chapter="Linear Networks")], [existing_of(desired(THIRD))],
                 ["update event Sesión 3 – Linear Networks on 2020-11-17 17:00 in "
                  "calendar.ics"], id="chapter edited: update"),
    pytest.param([replace(THIRD, start=dt.time(18))], [existing_of(desired(THIRD))],
                 ["move event Sesión 3 – Linear Neural Networks from 2020-11-17 17:00 to "
                  "2020-11-17 18:00 in calendar.ics"], id="time edited: move"),
    pytest.param([THIRD], [existing_of(desired(THIRD), status=CANCELLED)],
                 ["restore cancelled event Sesión 3 – Linear Neural Networks on 2020-11-17 "
                  "17:00 in calendar.ics"], id="restored session: revive"),
    pytest.param([THIRD, session(4)], [existing_of(desired(THIRD)),
                                       existing_of(desired(replace(THIRD, key="4")))],
                 ["cancel event Sesión 4 – Linear Neural Networks on 2020-11-17 17:00 in "
                  "calendar.ics"], id="date removed: cancel"),
    pytest.param([THIRD], [existing_of(desired(replace(THIRD, key="4")), status=CANCELLED)],
                 ["create event Sesión 3 – Linear Neural Networks on 2020-11-17 17:00 in "
                  "calendar.ics"], id="already cancelled: left alone"),
])
def test_plan_table(sessions: list[Session], existing: list[ExistingEvent],
                    expected: list[str]) -> None:
    assert lines(sessions, existing) == expected


def test_title_language_group_and_tentative() -> None:
    english = make_config(Path(), language="en", publish_tentative=True)
    tentative = session(5, "Session 5 - Deep Learning Computation",
                        proposed=dt.datetime(2020, 12, 15, 17))
    spanish = desired(THIRD)
    assert spanish.title == f"Sesión 3 – Linear Neural Networks · {GROUP}"
    assert desired(THIRD, english).title == f"Session 3 – Linear Neural Networks · {GROUP}"
    event = desired(tentative, english)
    assert event.title == f"Session 5 (tentative) – Deep Learning Computation · {GROUP}"
    assert event.status == "tentative"
    spanish_tentative = make_config(Path(), publish_tentative=True)
    assert "Sesión 5 (tentativa) –" in desired(tentative, spanish_tentative).title


def test_times_follow_madrid_across_the_dst_change() -> None:
    before = desired(session(1, date=dt.date(2020, 10, 20), start=dt.time(17)))
    after = desired(session(2, date=dt.date(2020, 11, 3), start=dt.time(17)))
    assert before.start.astimezone(dt.UTC) == dt.datetime(2020, 10, 20, 15, tzinfo=dt.UTC)
    assert after.start.astimezone(dt.UTC) == dt.datetime(2020, 11, 3, 16, tzinfo=dt.UTC)


def test_default_start_and_length() -> None:
    config = make_config(Path())
    event = desired(session(1, date=DAY), config)
    assert (event.start.time(), event.end - event.start) == (dt.time(17),
                                                            dt.timedelta(minutes=120))
    explicit = desired(session(1, date=DAY, start=dt.time(18), end=dt.time(19, 30)), config)
    assert (explicit.start.time(), explicit.end.time()) == (dt.time(18), dt.time(19, 30))


def test_description_has_guide_links_meeting_and_location() -> None:
    event = desired(replace(
        THIRD, guide="Toño", readings="Find readings [here](https://x.org/r3)",
        exercises="[Assignment 3](https://x.org/e3)", slides="[Slides](https://x.org/s3)"))
    assert event.description.splitlines() == [
        "Guía: Toño", "Lecturas: Find readings here (https://x.org/r3)",
        "Tarea: Assignment 3 (https://x.org/e3)", "Diapositivas: Slides (https://x.org/s3)",
        "Enlace de la reunión: https://meet.example.org/d2l", "Lugar: Sala 3"]
    assert event.location == "Sala 3"


def test_event_id_is_in_calendars_alphabet_and_stable() -> None:
    first = event_id(CALENDAR_ID, GROUP, 3)
    assert re.fullmatch(r"[a-v0-9]{5,1024}", first)
    assert first == event_id(CALENDAR_ID, GROUP, 3)
    assert len({first, event_id(CALENDAR_ID, GROUP, 4), event_id("primary", GROUP, 3),
                event_id(CALENDAR_ID, "Other group", 3)}) == 4


def test_a_dated_session_without_number_gets_an_event_and_an_undated_one_none() -> None:
    dated = Session(row=18, key="Optional", chapter="Tools", date=DAY)
    undated = Session(row=19, key="", chapter="Tools")
    actions, problems = plan_calendar([dated, undated], [], [], CONFIG, NOW)
    assert [(a.kind, a.session, a.event.label) for a in actions if isinstance(a, CreateEvent)] \
        == [("create", "Optional", "Sesión opcional – Tools")]
    assert problems == []


def test_duplicate_numbers_get_one_event_and_an_error() -> None:
    actions, problems = plan_calendar([THIRD, replace(THIRD, row=9)], [], [], CONFIG, NOW)
    assert len(actions) == 1
    assert problems[0].severity == "error" and "appears twice" in problems[0].message


def test_safety_stop_when_no_session_has_a_date() -> None:
    existing = [existing_of(desired(THIRD))]
    actions, problems = plan_calendar([], [], existing, CONFIG, NOW)
    assert actions == []
    assert problems[0].severity == "error" and "--force" in problems[0].fix
    forced, _ = plan_calendar([], [], existing, CONFIG, NOW, force=True)
    assert [type(a) for a in forced] == [CancelEvent]


def test_google_backend_plans_both_places_and_invites_only_on_google() -> None:
    config = make_config(Path(), backend="google", invite_members=True)
    members = [member("b@example.org"), member("A@example.org"), member("x@example.org",
                                                                        "unsubscribed")]
    actions, _ = plan_calendar([THIRD], members, [], config, NOW)
    assert [(a.target, type(a)) for a in actions] == [(GOOGLE, CreateEvent), (ICS, CreateEvent)]
    google, ics = (a for a in actions if isinstance(a, CreateEvent))
    assert google.event.attendees == ("a@example.org", "b@example.org")
    assert ics.event.attendees == ()
    assert google.describe().endswith("in Google Calendar")


def test_actions_are_sorted_by_place_then_session() -> None:
    sessions = [session(n, date=DAY + dt.timedelta(days=14 * n)) for n in (10, 2, 1)]
    config = make_config(Path(), backend="google")
    actions, _ = plan_calendar(sessions, [], [], config, NOW)
    assert [(a.target, a.session) for a in actions] == [
        (GOOGLE, "1"), (GOOGLE, "2"), (GOOGLE, "10"), (ICS, "1"), (ICS, "2"), (ICS, "10")]


# ---------------------------------------------------------------------------------------------
# Property: applying the plan to what exists makes the next plan empty.


def apply_in_memory(existing: list[ExistingEvent], actions: Sequence[CalendarAction]
                    ) -> list[ExistingEvent]:
    by_key = {(e.target, e.event_id): e for e in existing}
    for action in actions:
        if isinstance(action, CancelEvent):
            by_key[action.target, action.previous.event_id] = replace(action.previous,
                                                                      status=CANCELLED)
        elif isinstance(action, CreateEvent | UpdateEvent | ReviveEvent):
            by_key[action.target, action.event.event_id] = existing_of(action.event,
                                                                       action.target)
    return list(by_key.values())


session_rows = st.lists(st.tuples(
    st.integers(1, 8), st.sampled_from(["A", "B"]),
    st.none() | st.dates(dt.date(2020, 1, 1), dt.date(2021, 12, 31)),
    st.none() | st.sampled_from([dt.time(9), dt.time(17), dt.time(18, 30)])), max_size=8)


def as_sessions(rows: list[tuple[int, str, dt.date | None, dt.time | None]]) -> list[Session]:
    return [session(n, chapter, date=date, start=start) for n, chapter, date, start in rows]


@given(before=session_rows, after=session_rows, google=st.booleans())
def test_plan_after_apply_is_empty(before: list[tuple[int, str, dt.date | None,
                                                      dt.time | None]],
                                   after: list[tuple[int, str, dt.date | None, dt.time | None]],
                                   google: bool) -> None:
    config = make_config(Path(), backend="google" if google else "local")
    state: list[ExistingEvent] = []
    for rows in (before, after):
        actions, _ = plan_calendar(as_sessions(rows), [], state, config, NOW, force=True)
        state = apply_in_memory(state, actions)
        again, _ = plan_calendar(as_sessions(rows), [], state, config, NOW, force=True)
        assert again == []
    live = {(e.target, e.event_id) for e in state if e.status != CANCELLED}
    first = {n: date for n, _, date, _ in reversed(after)}  # a repeated number: first row wins
    dated = {n for n, date in first.items() if date is not None}
    assert len(live) == len(dated) * (2 if google else 1)  # one event per session and place
