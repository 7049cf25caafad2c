"""Worksheet names matched the way Google matches them (ignoring case), through real gspread +
google-auth HTTP against the emulator: a hand-made `members` tab is used, never duplicated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from google.auth.credentials import Credentials
from tests.google.test_sheets_backend import (
    FORM,
    MASTER,
    NOW,
    STEPS,
    WORKSHEET,
    make_config,
    messy_responses,
    sessions_sheet,
)

from formsync.config import Config
from formsync.emulator import Emulator
from formsync.errors import ConfigError
from formsync.google.sheets import GoogleSheets
from formsync.google.transport import RetryPolicy
from formsync.model import MEMBER_HEADER, MEMBERS, PROBLEMS, RESPONSES, SESSIONS
from formsync.ports import Places
from formsync.sync import Report, run_sync

HAND_MADE = {"sessions": sessions_sheet(), "members": [list(MEMBER_HEADER)]}


class Run:
    """One sync as cron makes it (a fresh backend), with every request it sent."""

    def __init__(self, config: Config, credentials: Credentials, policy: RetryPolicy) -> None:
        self.sheets = GoogleSheets.from_config(config, credentials=credentials, policy=policy)
        self.sent: list[requests.PreparedRequest] = []
        self.sheets.client.http_client.session.hooks["response"].append(self._keep)

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.sent.append(response.request)

    def sync(self, config: Config) -> Report:
        return run_sync(config, Places(self.sheets), NOW, steps=STEPS)

    def added_sheets(self) -> list[str]:
        """The titles of every addSheet request sent."""
        bodies = [json.loads(request.body or b"{}") for request in self.sent
                  if str(request.url).endswith(":batchUpdate") and "/values" not in
                  str(request.url)]
        return [item["addSheet"]["properties"]["title"] for body in bodies
                for item in body.get("requests", []) if "addSheet" in item]

    def writes(self) -> list[str]:
        return [str(request.url) for request in self.sent if request.method != "GET"
                and "/token" not in str(request.url)]


def seed(emulator: Emulator, master: dict[str, list[list[Any]]]) -> None:
    emulator.sheets.create_spreadsheet(FORM, {WORKSHEET: messy_responses()})
    emulator.sheets.create_spreadsheet(MASTER, master, title="Group")


@pytest.fixture
def config(emulator: Emulator, tmp_path: Path) -> Config:
    return make_config(emulator, tmp_path)


def test_hand_made_lowercase_tabs_are_synced_into_and_never_added(
        emulator: Emulator, config: Config, credentials: Credentials,
        policy: RetryPolicy) -> None:
    seed(emulator, HAND_MADE)
    run = Run(config, credentials, policy)
    report = run.sync(config)
    assert report.failures == []
    assert run.added_sheets() == [PROBLEMS]  # only formsync's own list of problems
    assert emulator.sheets.worksheet_titles(MASTER) == ["sessions", "members", PROBLEMS]
    members = emulator.sheets.values(MASTER, "members")
    assert members[0] == list(MEMBER_HEADER)
    assert [row[0] for row in members[1:]] == ["ana@example.org", "luis@example.org"]
    proposed = emulator.sheets.values(MASTER, "sessions")
    assert proposed[0][-1] == "Proposed date"  # the column formsync owns, in the real tab


def test_a_second_run_on_hand_made_tabs_writes_nothing(
        emulator: Emulator, config: Config, credentials: Credentials,
        policy: RetryPolicy) -> None:
    seed(emulator, HAND_MADE)
    Run(config, credentials, policy).sync(config)
    again = Run(config, credentials, policy)
    report = again.sync(config)
    assert report.failures == [] and report.plan.is_empty()
    assert again.writes() == []


def test_init_creates_only_what_is_missing_under_any_case(
        emulator: Emulator, config: Config, credentials: Credentials,
        policy: RetryPolicy) -> None:
    seed(emulator, {"SESSIONS": sessions_sheet(), "members": []})
    run = Run(config, credentials, policy)
    lines = run.sheets.init_worksheets()
    assert lines == ["created worksheet Reminders with its header in spreadsheet 'Group'"]
    assert run.added_sheets() == ["Reminders"]
    assert emulator.sheets.worksheet_titles(MASTER) == ["SESSIONS", "members", "Reminders"]


@pytest.mark.parametrize(("worksheets", "expected"), [
    ({"Notas": [["x"]], WORKSHEET: messy_responses()}, WORKSHEET),
    ({"Summary": [["x"]], "form responses 1": messy_responses()}, "form responses 1"),
    ({"Mis respuestas": messy_responses()}, "Mis respuestas"),  # else the first worksheet
])
def test_a_blank_responses_worksheet_finds_the_forms_tab(
        emulator: Emulator, config: Config, credentials: Credentials, policy: RetryPolicy,
        worksheets: dict[str, list[list[Any]]], expected: str) -> None:
    emulator.sheets.create_spreadsheet(FORM, worksheets)
    sheets = GoogleSheets.from_config(config, credentials=credentials, policy=policy)
    assert sheets.locate(RESPONSES)[1] == expected
    responses = sheets.read_many([RESPONSES])[RESPONSES]
    assert responses is not None and responses.rows[0][1] == "Ana@Example.org"


def test_a_configured_responses_worksheet_is_matched_ignoring_case(
        emulator: Emulator, tmp_path: Path, credentials: Credentials,
        policy: RetryPolicy) -> None:
    emulator.sheets.create_spreadsheet(FORM, {"Notas": [], WORKSHEET: messy_responses()})
    config = make_config(emulator, tmp_path, responses_worksheet="RESPUESTAS de Formulario 1")
    sheets = GoogleSheets.from_config(config, credentials=credentials, policy=policy)
    assert sheets.locate(RESPONSES)[1] == WORKSHEET
    wrong = make_config(emulator, tmp_path, responses_worksheet="Form Responses 2")
    with pytest.raises(ConfigError, match="no worksheet 'Form Responses 2'"):
        GoogleSheets.from_config(wrong, credentials=credentials, policy=policy).locate(RESPONSES)


def test_members_and_sessions_are_located_under_their_real_titles(
        emulator: Emulator, config: Config, credentials: Credentials,
        policy: RetryPolicy) -> None:
    seed(emulator, HAND_MADE)
    sheets = GoogleSheets.from_config(config, credentials=credentials, policy=policy)
    assert sheets.locate(MEMBERS) == (sheets.master, "members")
    assert sheets.locate(SESSIONS) == (sheets.master, "sessions")
    assert sheets.locate("Reminders") == (sheets.master, None)
