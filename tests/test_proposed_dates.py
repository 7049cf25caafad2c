"""Issue 12 §3: proposed dates never collide with confirmed ones, wherever the rows sit, and
the cadence continues from the latest confirmed date."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.helpers import table

from formsync.config import Group
from formsync.model import SESSIONS, Session
from formsync.sessions import check_rules, plan_sessions, propose_dates

HEADER = "Session,Chapter,Guide,Date,Start\n"
ROWS = {
    "1": "1,Intro,Ana,20-10-2020,17:00",
    "2": "2,Preliminaries,Bo,03-11-2020,17:00",
    "3": "3,Linear,Cy,17-11-2020,17:00",
    "4": "4,MLP,Di,01-12-2020,17:00",
    "5": "5,Computation,Ed,,",
    "6": "6,CNN,Flo,15-12-2020,17:00",
    "7": "7,Modern CNN,Gu,,",
    "opt": ",Optional Session - Tools,Hu,,",
}


def proposals(order: list[str], group: Group | None = None) -> dict[str, dt.datetime | None]:
    sheet = table(SESSIONS, HEADER + "\n".join(ROWS[key] for key in order) + "\n")
    sessions, _, _ = plan_sessions(sheet, group or Group())
    return {s.key or s.chapter: s.proposed for s in sessions}


def test_a_dated_session_lower_in_the_sheet_is_never_collided_with() -> None:
    """The issue's case: session 6 is dated 2020-12-15 below an undated session 5."""
    sheet = table(SESSIONS, HEADER + "\n".join(ROWS[k] for k in "123456") + "\n")
    sessions, _, _ = plan_sessions(sheet, Group())
    assert {s.key: s.proposed for s in sessions}["5"] == dt.datetime(2020, 12, 29, 17)
    assert check_rules(sessions, [], dt.datetime(2020, 10, 1)) == []


@pytest.mark.parametrize("order", [
    ["1", "2", "3", "4", "5", "6", "7", "opt"],
    ["6", "5", "4", "3", "2", "1", "opt", "7"],
    ["opt", "7", "5", "1", "6", "2", "4", "3"],
])
def test_proposals_do_not_depend_on_where_the_rows_sit(order: list[str]) -> None:
    assert proposals(order) == {
        "1": None, "2": None, "3": None, "4": None, "6": None,
        "5": dt.datetime(2020, 12, 29, 17), "7": dt.datetime(2021, 1, 12, 17),
        "Optional Session - Tools": None}


def test_every_row_order_gives_the_same_proposals() -> None:
    keys = ["1", "4", "5", "6", "7"]
    expected = proposals(keys)
    assert all(proposals(list(order)) == expected for order in itertools.permutations(keys))


def test_the_cadence_continues_from_the_latest_confirmed_time_and_skips_skip_dates() -> None:
    group = Group(skip_dates=(dt.date(2020, 12, 29),))
    found = proposals(["6", "5", "7", "1"], group)
    assert (found["5"], found["7"]) == (dt.datetime(2021, 1, 12, 17), dt.datetime(2021, 1, 26, 17))


def test_a_dated_optional_session_counts_as_the_latest_confirmed_date() -> None:
    sheet = table(SESSIONS, HEADER + "1,Intro,,20-10-2020,17:00\n2,Next,,,\n"
                                     ",Optional Session - Tools,,27-10-2020,10:00\n")
    sessions, _, _ = plan_sessions(sheet, Group())
    assert sessions[1].proposed == dt.datetime(2020, 11, 10, 10)


def test_nothing_is_proposed_before_any_date_is_confirmed() -> None:
    assert set(proposals(["5", "7", "opt"]).values()) == {None}


DAY = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2022, 12, 31))


@given(st.lists(st.tuples(st.integers(1, 30), st.none() | DAY), min_size=1, max_size=12),
       st.integers(1, 30))
def test_proposals_are_after_every_confirmed_date_on_the_cadence_and_all_distinct(
        rows: list[tuple[int, dt.date | None]], cadence: int) -> None:
    sessions = [Session(row=index + 2, key=str(number), chapter=f"C{number}", date=day)
                for index, (number, day) in enumerate(rows)]
    group = Group(cadence_days=cadence)
    proposed = [s.proposed for s in propose_dates(sessions, group) if s.proposed is not None]
    confirmed = [s.date for s in sessions if s.date is not None]
    if not confirmed:
        assert proposed == []
        return
    assert len(proposed) == sum(1 for s in sessions if s.date is None)
    latest = dt.datetime.combine(max(confirmed), group.default_start)
    days = sorted(p.date() for p in proposed)
    assert len(set(days)) == len(days) and not set(days) & set(confirmed)
    assert all(p > latest and (p - latest).days % cadence == 0 for p in proposed)
