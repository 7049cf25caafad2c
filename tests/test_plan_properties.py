"""Properties of the whole planning core: idempotence and no lost registrations."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from tests.helpers import config

from formsync.members import email_problem, normalise_email
from formsync.model import RESPONSES, SESSIONS, Snapshot, Table
from formsync.plan import plan
from formsync.tables import apply_edit

NOW = dt.datetime(2020, 11, 5, 15, 0, tzinfo=dt.UTC)
CONFIG = config()
HEADER = ("Timestamp", "Email Address", "Name", "Would you guide a session?", "Language")

local_part = st.from_regex(r"[a-z][a-z0-9.]{0,6}", fullmatch=True)
emails = st.one_of(
    st.builds(lambda u, d, case: (f"{u}@{d}.org").upper() if case else f" {u}@{d}.org ",
              local_part, st.sampled_from(["example", "mail"]), st.booleans()),
    st.text(max_size=12),  # mostly invalid
)
stamps = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2021, 12, 31))
answers = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
responses = st.lists(st.tuples(stamps, emails, answers, answers, answers), max_size=25)
session_rows = st.lists(st.tuples(
    st.sampled_from(["", "1", "2", "3", "4", "x"]), answers,
    st.sampled_from(["", "TBA", "20-10-2020", "2020-11-03", "31-02-2020", "nope"]),
    st.sampled_from(["", "17:00", "25:00", "5:00 PM"])), max_size=8)


def _responses_table(rows: list[tuple[dt.datetime, str, str, str, str]]) -> Table:
    body = tuple((stamp.strftime("%m/%d/%Y %H:%M:%S"), email, name, guide, lang)
                 for stamp, email, name, guide, lang in rows)
    return Table(RESPONSES, HEADER, body)


def _snapshot(response_rows: list[tuple[dt.datetime, str, str, str, str]],
              sessions: list[tuple[str, str, str, str]]) -> Snapshot:
    return Snapshot(
        responses=_responses_table(response_rows), members=None,
        sessions=Table(SESSIONS, ("Session", "Chapter", "Date", "Start"), tuple(sessions)))


def _applied(snapshot: Snapshot) -> Snapshot:
    result = plan(snapshot, CONFIG, NOW, ("members", "sessions"))
    tables = {e.sheet: e for e in result.sheet_edits}
    members = apply_edit(snapshot.members, tables["Members"]) if "Members" in tables \
        else snapshot.members
    sessions = apply_edit(snapshot.sessions, tables["Sessions"]) if "Sessions" in tables \
        else snapshot.sessions
    return Snapshot(responses=snapshot.responses, members=members, sessions=sessions)


@given(responses, session_rows)
def test_planning_after_applying_plans_nothing(
        response_rows: list[tuple[dt.datetime, str, str, str, str]],
        sessions: list[tuple[str, str, str, str]]) -> None:
    once = _applied(_snapshot(response_rows, sessions))
    assert plan(once, CONFIG, NOW, ("members", "sessions")).is_empty()


@given(responses)
def test_no_response_with_a_valid_email_is_lost(
        response_rows: list[tuple[dt.datetime, str, str, str, str]]) -> None:
    after = _applied(_snapshot(response_rows, []))
    valid = {normalise_email(e) for _, e, *_ in response_rows
             if email_problem(normalise_email(e)) is None}
    kept = {row[0] for row in after.members.rows} if after.members else set()
    assert valid == kept
    skipped = {p.row for p in plan(_snapshot(response_rows, []), CONFIG, NOW,
                                   ("members",)).problems if p.sheet == RESPONSES}
    invalid_rows = {i + 2 for i, (_, e, *_rest) in enumerate(response_rows)
                    if email_problem(normalise_email(e)) is not None}
    assert skipped == invalid_rows
