"""The real-world part of the hostile corpus (tests/corpus/hostile.py) through every sheets
backend: each responses sheet syncs to exactly the members and problems it should, and a second
run (a fresh backend, as cron makes it) plans and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.contract.conftest import Backend
from tests.corpus.hostile import ANA, BO, BO_ES, ES, FORM_CASES, TAB_CASES, FormCase, TabCase

from formsync.model import MEMBER_HEADER, MEMBERS, PROBLEMS
from formsync.ports import Places
from formsync.sync import run_sync

NOW = dt.datetime(2020, 11, 10, 15, 0, tzinfo=dt.UTC)
FORM_ID, MASTER_ID = "form-with-tabs", "master-with-tabs"
SESSIONS_TAB = [["Session", "Chapter", "Guide", "Date", "Start", "End"],
                ["1", "Intro", "Ana", "20-10-2020", "17:00", "19:00"],
                ["2", "Next", "", "", "", ""]]  # formsync proposes a date: it writes this tab


@pytest.mark.parametrize("case", FORM_CASES, ids=lambda case: case.id)
def test_a_real_world_responses_sheet_syncs_exactly_as_expected(backend: Backend,
                                                                case: FormCase) -> None:
    backend.put_responses(case.header, case.sheet_rows() if backend.name == "google"
                          else case.rows)
    run = backend.reopen(case.config())
    report = run_sync(run.config, Places(run.sheets), NOW, steps=["members"])
    assert report.failures == []
    members = run.sheets.read_many([MEMBERS])[MEMBERS]
    assert case.mismatches(report.problems, members) == []
    assert members is not None and members.header == MEMBER_HEADER
    again = backend.reopen(case.config())
    before = again.writes()
    assert run_sync(again.config, Places(again.sheets), NOW, steps=["members"]).plan.is_empty()
    assert again.writes() == before


@pytest.mark.parametrize("case", TAB_CASES, ids=lambda case: case.id)
def test_worksheet_titles_in_any_case_are_found_and_never_added(google_backend: Backend,
                                                                case: TabCase) -> None:
    backend = google_backend
    assert backend.emulator is not None
    answers = [list(ES), ["2020/10/05 5:03:12 p. m. GMT-5", ANA, "Ana"], list(BO_ES)]
    decoy = [list(ES), ["2020/10/04 8:00:00 a. m. GMT-5", "decoy@example.org", "Decoy"]]
    backend.emulator.sheets.create_spreadsheet(FORM_ID, {
        tab: answers if tab == case.answers else decoy for tab in case.form_tabs})
    members_tab, sessions_tab = case.master_tabs
    backend.emulator.sheets.create_spreadsheet(MASTER_ID, {
        members_tab: [list(MEMBER_HEADER)], sessions_tab: SESSIONS_TAB}, title="Group")
    settings = {"google": {"responses_spreadsheet": FORM_ID, "master_spreadsheet": MASTER_ID,
                           "responses_worksheet": case.responses_worksheet}}
    run = backend.reopen(settings)
    report = run_sync(run.config, Places(run.sheets), NOW, steps=["members", "sessions"])
    assert report.failures == []
    assert [str(p) for p in report.problems if p.step == "members"] == []
    # The existing tabs are used whatever their case; the one added is formsync's Problems.
    assert backend.emulator.sheets.worksheet_titles(MASTER_ID) == [*case.master_tabs, PROBLEMS]
    members = backend.emulator.sheets.values(MASTER_ID, members_tab)
    assert [row[0] for row in members[1:]] == [ANA, BO]
    assert backend.emulator.sheets.values(MASTER_ID, sessions_tab)[0][-1] == "Proposed date"
    again = backend.reopen(settings)
    before = again.writes()
    assert run_sync(again.config, Places(again.sheets), NOW, steps=["members", "sessions"]
                    ).plan.is_empty()
    assert again.writes() == before
