"""GoogleSheets end to end: the core's sync through real gspread + google-auth HTTP (with a real
service-account token exchange) to the loopback emulator."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from google.auth.credentials import Credentials
from tests.helpers import SPANISH_FORM

from formsync.config import Config, parse_config
from formsync.emulator import CallCounts, Emulator
from formsync.emulator.testing import (
    DEFAULT_CLIENT_EMAIL,
    FakeTime,
    google_settings,
    make_service_account,
)
from formsync.errors import BackendError, ConfigError
from formsync.google.auth import SCOPE_SHEETS, load_credentials
from formsync.google.cells import EPOCH, Kind, from_cell, to_cell, to_serial
from formsync.google.sheets import GoogleSheets, spreadsheet_id
from formsync.google.transport import RetryPolicy
from formsync.model import MEMBER_HEADER, MEMBERS, PROBLEMS, RESPONSES, SESSION_HEADER, SESSIONS
from formsync.ports import Places
from formsync.sync import Report, run_sync

MASTER, FORM = "master-id", "form-responses-id"
FORM_URL = f"https://docs.google.com/spreadsheets/d/{FORM}/edit#gid=0"
WORKSHEET = "Respuestas de formulario 1"
NOW = dt.datetime(2020, 10, 15, 9, 0, tzinfo=dt.UTC)
FORMULA = '=IMPORTXML("http://x","//a")'
HAS_README = importlib.util.find_spec("formsync.readme") is not None
STEPS = ["members", "sessions", *(["readme"] if HAS_README else [])]


def serial(*parts: int) -> float:
    return to_serial(dt.datetime(*parts))  # type: ignore[arg-type]


def messy_responses() -> list[list[Any]]:
    return [list(SPANISH_FORM),
            [serial(2020, 10, 1, 22, 21, 30), "Ana@Example.org", "Ana García", "Sí", "Español"],
            ["2/10/2020 18:27:53", "luis@example.org", FORMULA, "No", "English"],
            [],
            [serial(2020, 10, 3, 4, 8, 47), "not-an-email", "Nadie", "", ""],
            [serial(2020, 10, 4, 10, 0, 0), "  ana@example.org ", "Ana G.", "No", "Español"]]


def sessions_sheet() -> list[list[Any]]:
    header = [h for h in SESSION_HEADER if h != "Proposed date"]
    at_five = 17 / 24
    return [header,
            ["1", "Intro", "Ana", "", "", serial(2020, 10, 20), at_five, 19.5 / 24],
            ["2", "Linear networks", "Luis", "", "", "03-11-2020", "17:00", "19:00"],
            ["3", "MLP", "", "", "", "TBA"],
            ["4", "Deep computation"],
            ["Optional", "Extra reading"]]


def seed(emulator: Emulator, responses: list[list[Any]] | None = None) -> None:
    emulator.sheets.create_spreadsheet(FORM, {WORKSHEET: responses or messy_responses()})
    emulator.sheets.create_spreadsheet(MASTER, {SESSIONS: sessions_sheet()}, title="Group")


def make_config(emulator: Emulator, root: Path, **google: Any) -> Config:
    if HAS_README:
        readme = resources.files("formsync").joinpath("data/README.md")
        shutil.copyfile(str(readme), root / "README.md")
    settings = google_settings(emulator, **{
        "master_spreadsheet": MASTER, "responses_spreadsheet": FORM_URL, "timeout_seconds": 5,
        "retry_deadline_seconds": 600, **google})
    return parse_config({"group": {"timezone": "America/Mexico_City"},
                         "backend": {"kind": "google"}, "google": settings,
                         "readme": {"enabled": HAS_README}}, root)


@pytest.fixture
def config(emulator: Emulator, tmp_path: Path) -> Config:
    return make_config(emulator, tmp_path)


def sync(config: Config, credentials: Credentials, policy: RetryPolicy) -> Report:
    """One run as cron makes it: a fresh backend (nothing cached from an earlier run)."""
    sheets = GoogleSheets.from_config(config, credentials=credentials, policy=policy)
    return run_sync(config, Places(sheets), NOW, steps=STEPS)


def counted(emulator: Emulator, config: Config, credentials: Credentials,
            policy: RetryPolicy) -> tuple[Report, CallCounts]:
    before = emulator.counts()
    report = sync(config, credentials, policy)
    return report, (emulator.counts() - before).of("sheets")


def read_back(config: Config, credentials: Credentials, policy: RetryPolicy,
              *sheets: str) -> dict[str, Any]:
    backend = GoogleSheets.from_config(config, credentials=credentials, policy=policy)
    return backend.read_many(sheets)


# -- a whole sync -----------------------------------------------------------------------------


def test_first_sync_imports_members_proposes_dates_and_reports_the_bad_row(
        emulator: Emulator, config: Config, credentials: Credentials,
        policy: RetryPolicy) -> None:
    seed(emulator)
    report = sync(config, credentials, policy)
    assert report.failures == []
    bad = [p for p in report.problems if p.sheet == RESPONSES]
    assert [(p.row, p.severity) for p in bad] == [(5, "error")]
    assert "not-an-email" in bad[0].message

    tables = read_back(config, credentials, policy, MEMBERS, SESSIONS)
    members = tables[MEMBERS]
    assert members.header == MEMBER_HEADER
    assert [row[:4] for row in members.rows] == [
        ("ana@example.org", "Ana G.", "2020-10-01T22:21:30-05:00", "2020-10-04T10:00:00-05:00"),
        ("luis@example.org", FORMULA, "2020-10-02T18:27:53-05:00", "2020-10-02T18:27:53-05:00")]
    assert emulator.sheets.cell(MASTER, MEMBERS, "B3") == FORMULA  # text, not a formula
    assert isinstance(emulator.sheets.cell(MASTER, MEMBERS, "C2"), float)  # a real date
    sessions = tables[SESSIONS]
    assert sessions.header == SESSION_HEADER
    assert [row[-1] for row in sessions.rows] == [
        "", "", "2020-11-17 17:00", "2020-12-01 17:00", ""]
    assert [row[5:8] for row in sessions.rows[:2]] == [("2020-10-20", "17:00", "19:30"),
                                                      ("03-11-2020", "17:00", "19:00")]
    if HAS_README:
        readme = config.path(config.readme.path).read_text(encoding="utf-8")
        assert "| 20-10-2020 17:00 - 19:30 " in readme and "~17-11-2020 17:00" in readme


def test_dates_are_written_as_formatted_serials_in_the_group_zone(
        emulator: Emulator, config: Config, credentials: Credentials,
        policy: RetryPolicy) -> None:
    seed(emulator)
    sync(config, credentials, policy)
    registered = emulator.sheets.cell(MASTER, MEMBERS, "C2")
    assert isinstance(registered, float)
    assert EPOCH + dt.timedelta(days=registered) == dt.datetime(2020, 10, 1, 22, 21, 30)
    proposed = emulator.sheets.cell(MASTER, SESSIONS, "L4")
    assert isinstance(proposed, float)
    assert EPOCH + dt.timedelta(days=proposed) == dt.datetime(2020, 11, 17, 17, 0)
    formats = {sheet["properties"]["title"]: sheet["formats"] for sheet in
               emulator.state.data["sheets"]["spreadsheets"][MASTER]["sheets"]}
    patterns = {title: {int(col): f["numberFormat"]["pattern"] for col, f in cols.items()}
                for title, cols in formats.items()}
    assert patterns == {MEMBERS: {2: "yyyy-mm-dd hh:mm:ss", 3: "yyyy-mm-dd hh:mm:ss"},
                        SESSIONS: {11: "yyyy-mm-dd hh:mm"}, PROBLEMS: {}}  # all text


def test_a_second_sync_makes_no_write_call(emulator: Emulator, config: Config,
                                           credentials: Credentials, policy: RetryPolicy) -> None:
    seed(emulator)
    sync(config, credentials, policy)
    report, calls = counted(emulator, config, credentials, policy)
    assert report.plan.is_empty() and report.plan.sheet_edits == ()
    assert calls.writes == 0
    # One batchGet per spreadsheet by worksheet name. The one metadata call finds the form's
    # worksheet among the titles: `responses_worksheet` is blank here (see the next test).
    assert dict(calls.by_name) == {"sheets.get": 1, "sheets.values.batchGet": 2}


def test_a_no_op_sync_with_the_form_worksheet_named_is_one_read_per_spreadsheet(
        emulator: Emulator, credentials: Credentials, policy: RetryPolicy,
        tmp_path: Path) -> None:
    seed(emulator)
    config = make_config(emulator, tmp_path, responses_worksheet=WORKSHEET.upper())
    sync(config, credentials, policy)
    report, calls = counted(emulator, config, credentials, policy)
    assert report.plan.is_empty()
    assert dict(calls.by_name) == {"sheets.values.batchGet": 2}


def _responses(count: int) -> list[list[Any]]:
    start = dt.datetime(2020, 10, 1, 9, 0)
    rows = [[to_serial(start + dt.timedelta(minutes=i)), f"person{i:05}@example.org",
             f"Person {i}", "Sí" if i % 3 else "No", "Español"] for i in range(count)]
    return [list(SPANISH_FORM), *rows]


def fresh_credentials(emulator: Emulator, config: Config) -> tuple[Credentials, RetryPolicy]:
    """Credentials and a no-sleep policy for an emulator other than the fixture's."""
    cfg = config.google
    info = make_service_account(emulator)
    credentials = load_credentials(cfg, [SCOPE_SHEETS],
                                   environ={cfg.credentials_env: json.dumps(info)})
    fake = FakeTime()
    return credentials, RetryPolicy.from_config(cfg, sleep=fake.sleep, clock=fake.clock)


def first_sync_calls(root: Path, count: int) -> dict[str, int]:
    with Emulator() as emulator:
        seed(emulator, _responses(count))
        root.mkdir()
        config = make_config(emulator, root)
        report, calls = counted(emulator, config, *fresh_credentials(emulator, config))
        assert report.failures == []
        members = emulator.sheets.values(MASTER, MEMBERS)
        assert len(members) == count + 1
        assert members[-1][0] == f"person{count - 1:05}@example.org"
        return dict(calls.by_name)


def test_a_sync_costs_the_same_calls_for_10_and_10000_members(tmp_path: Path) -> None:
    small = first_sync_calls(tmp_path / "small", 10)
    large = first_sync_calls(tmp_path / "large", 10_000)
    # New member rows are written at explicit positions (no values.append): one values write.
    # The master's first batchGet is refused (Members does not exist yet: 400 "Unable to parse
    # range"), so its titles are fetched and the worksheets that exist are read again.
    # After the steps apply, the Problems worksheet is added (one batchUpdate) and the run's
    # problems listed in it (one values.batchUpdate); later runs write it only on a change.
    expected = {"sheets.get": 2, "sheets.values.batchGet": 3, "sheets.batchUpdate": 2,
                "sheets.values.batchUpdate": 2}
    assert small == large == expected


def test_quota_errors_and_outages_are_retried_without_real_sleeping(
        emulator: Emulator, config: Config, credentials: Credentials, policy: RetryPolicy,
        fake_time: FakeTime) -> None:
    seed(emulator)
    emulator.inject("sheets.values.batchGet", 429, count=2)
    emulator.inject("sheets.values.batchUpdate", 503, count=2)
    emulator.inject("sheets.batchUpdate", 503, count=1)
    report, calls = counted(emulator, config, credentials, policy)
    assert report.failures == []
    assert calls["sheets.values.batchGet"] == 3 + 2  # Members is missing: see above
    assert calls["sheets.values.batchUpdate"] == 2 + 2  # the sheets, then Problems: see above
    assert calls["sheets.batchUpdate"] == 2 + 1
    assert len(fake_time.sleeps) == 5
    assert len(emulator.sheets.values(MASTER, MEMBERS)) == 3


def test_a_members_write_that_lands_late_is_not_doubled_by_an_immediate_rerun(
        emulator: Emulator, config: Config, credentials: Credentials, tmp_path: Path) -> None:
    """Google may apply a write after the client gave up ("late"), and the error tells the
    organizer to run again, which they do at once. New Members rows go to positions derived
    from what was read, so the late write and the rerun's write land on the same cells."""
    seed(emulator)
    fake = FakeTime()
    impatient = RetryPolicy(timeout=1.0, deadline=60, sleep=fake.sleep, clock=fake.clock)
    emulator.inject("sheets.values.batchUpdate", "late", seconds=2.0)
    first = sync(config, credentials, impatient)
    assert [p.severity for p in first.failures] == ["error"]
    assert "may or may not have applied" in first.failures[0].message
    assert first.exit_code == 1

    rerun = sync(config, credentials, impatient)  # while the first write is still in flight
    assert rerun.failures == []
    assert emulator.wait_for_held_requests()  # the first write has now landed, late

    third, calls = counted(emulator, config, credentials, impatient)
    assert third.failures == [] and calls.writes == 0
    with Emulator() as clean:
        seed(clean)
        clean_root = tmp_path / "clean"
        clean_root.mkdir()
        clean_config = make_config(clean, clean_root)
        assert sync(clean_config, *fresh_credentials(clean, clean_config)).failures == []
        for sheet in (MEMBERS, SESSIONS):
            assert emulator.sheets.values(MASTER, sheet) == clean.sheets.values(MASTER, sheet)


# -- the master spreadsheet as organizers leave it --------------------------------------------


def test_a_members_header_typed_by_hand_gets_its_date_format_once(
        emulator: Emulator, config: Config, credentials: Credentials,
        policy: RetryPolicy) -> None:
    spanish = ["Correo", "Nombre", "Registro", "Actualizado", "Estado", "Voluntario guía",
               "Idioma", "Notas"]
    emulator.sheets.create_spreadsheet(FORM, {WORKSHEET: messy_responses()})
    emulator.sheets.create_spreadsheet(MASTER, {SESSIONS: sessions_sheet(), MEMBERS: [spanish]})
    _, calls = counted(emulator, config, credentials, policy)
    assert calls["sheets.batchUpdate"] == 2  # the date format, once; the Problems worksheet
    assert emulator.sheets.values(MASTER, MEMBERS)[0] == spanish  # the header is kept
    assert isinstance(emulator.sheets.cell(MASTER, MEMBERS, "C2"), float)
    emulator.sheets.set_values(FORM, WORKSHEET, [[serial(2020, 10, 9, 8, 0), "new@example.org",
                                                  "New", "No", "English"]], start="A7")
    _, calls = counted(emulator, config, credentials, policy)
    assert calls.writes == 1 and calls["sheets.values.batchUpdate"] == 1


def test_one_spreadsheet_for_responses_and_master_is_read_with_one_call(
        emulator: Emulator, tmp_path: Path, credentials: Credentials,
        policy: RetryPolicy) -> None:
    emulator.sheets.create_spreadsheet(MASTER, {"Form Responses 1": messy_responses(),
                                                SESSIONS: sessions_sheet()})
    config = make_config(emulator, tmp_path, responses_spreadsheet=MASTER)
    report, calls = counted(emulator, config, credentials, policy)
    assert report.failures == []
    assert calls["sheets.get"] == 1 and calls["sheets.values.batchGet"] == 1
    # The sheets (one batchUpdate, one values.batchUpdate), then the new Problems worksheet.
    assert calls.writes == 4 and calls["sheets.values.batchUpdate"] == 2


def test_init_worksheets_creates_only_what_is_missing(
        emulator: Emulator, config: Config, credentials: Credentials,
        policy: RetryPolicy) -> None:
    seed(emulator)
    sheets = GoogleSheets.from_config(config, credentials=credentials, policy=policy)
    lines = sheets.init_worksheets()
    assert lines == [f"created worksheet {name} with its header in spreadsheet 'Group'"
                     for name in ("Members", "Reminders")]
    assert emulator.sheets.worksheet_titles(MASTER) == [SESSIONS, MEMBERS, "Reminders"]
    assert emulator.sheets.values(MASTER, SESSIONS, "UNFORMATTED_VALUE") == sessions_sheet()
    assert emulator.sheets.values(MASTER, MEMBERS) == [list(MEMBER_HEADER)]
    again = GoogleSheets.from_config(config, credentials=credentials, policy=policy)
    assert "nothing to do" in again.init_worksheets()[0]


# -- errors -------------------------------------------------------------------------------------


def test_a_wrong_spreadsheet_id_names_the_key_and_the_account(
        emulator: Emulator, tmp_path: Path, credentials: Credentials,
        policy: RetryPolicy) -> None:
    seed(emulator)
    config = make_config(emulator, tmp_path, master_spreadsheet="no-such-id")
    with pytest.raises(BackendError) as raised:
        sync(config, credentials, policy)
    assert "spreadsheet no-such-id not found" in raised.value.message
    assert "google.master_spreadsheet" in raised.value.fix
    assert DEFAULT_CLIENT_EMAIL in raised.value.fix


def test_a_spreadsheet_not_shared_with_the_account_says_to_share_it(
        emulator: Emulator, config: Config, credentials: Credentials,
        policy: RetryPolicy) -> None:
    emulator.sheets.create_spreadsheet(FORM, {WORKSHEET: messy_responses()},
                                       shared_with=["someone@example.org"])
    emulator.sheets.create_spreadsheet(MASTER, {SESSIONS: sessions_sheet()})
    with pytest.raises(BackendError) as raised:
        sync(config, credentials, policy)
    assert "google.responses_spreadsheet" in raised.value.message
    assert f"share spreadsheet {FORM}" in raised.value.fix
    assert DEFAULT_CLIENT_EMAIL in raised.value.fix


def test_missing_spreadsheet_keys_are_config_errors(emulator: Emulator, tmp_path: Path,
                                                    credentials: Credentials) -> None:
    config = make_config(emulator, tmp_path, master_spreadsheet="")
    with pytest.raises(ConfigError, match=r"google\.master_spreadsheet"):
        GoogleSheets.from_config(config, credentials=credentials)
    config = make_config(emulator, tmp_path, responses_spreadsheet="")
    sheets = GoogleSheets.from_config(config, credentials=credentials)
    with pytest.raises(ConfigError, match=r"google\.responses_spreadsheet"):
        sheets.read_many([RESPONSES])


@pytest.mark.parametrize(("value", "expected"), [
    ("1AbC-d_9", "1AbC-d_9"), ("  1AbC  ", "1AbC"),
    ("https://docs.google.com/spreadsheets/d/1AbC-d_9/edit#gid=0", "1AbC-d_9"),
    ("docs.google.com/spreadsheets/d/1AbC/", "1AbC")])
def test_spreadsheet_ids_come_from_ids_or_urls(value: str, expected: str) -> None:
    assert spreadsheet_id(value) == expected


# -- cell values ------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "kind", "expected"), [
    (3.0, Kind.TEXT, "3"), (2.5, Kind.TEXT, "2.5"), (5551234567, Kind.TEXT, "5551234567"),
    (True, Kind.TEXT, "TRUE"), ("=1+1", Kind.DATE, "=1+1"), ("TBA", Kind.DATE, "TBA"),
    (44124, Kind.DATE, "2020-10-20"), (17 / 24, Kind.TIME, "17:00"),
    (44124.75, Kind.LOCAL_DATETIME, "2020-10-20 18:00"),
    (44105.375, Kind.NAIVE_DATETIME, "2020-10-01T09:00:00"),
    (44105.375, Kind.ZONED_DATETIME, "2020-10-01T09:00:00-05:00"),
    (1e300, Kind.DATE, "1e+300")])
def test_cells_read_as_the_text_the_core_parses(value: object, kind: Kind, expected: str) -> None:
    assert from_cell(value, kind, ZoneInfo("America/Mexico_City")) == expected


@pytest.mark.parametrize(("text", "kind", "is_serial"), [
    ("2020-10-01T09:00:00-04:00", Kind.ZONED_DATETIME, True),
    ("2020-10-01T09:00:00+02:00", Kind.ZONED_DATETIME, False),  # not the group's offset
    ("2020-11-01T01:30:00-04:00", Kind.ZONED_DATETIME, True),
    ("2020-11-01T01:30:00-05:00", Kind.ZONED_DATETIME, False),  # the repeated DST hour
    ("2020-12-15 17:00", Kind.LOCAL_DATETIME, True),
    ("2020-12-15T17:00", Kind.LOCAL_DATETIME, False),  # would read back with a space
    ("next week", Kind.LOCAL_DATETIME, False), ("", Kind.LOCAL_DATETIME, False),
    ("2020-10-20", Kind.DATE, False)])  # organizers' columns are written as text
def test_only_values_that_read_back_identically_are_written_as_serials(
        text: str, kind: Kind, is_serial: bool) -> None:
    zone = ZoneInfo("America/New_York")
    value = to_cell(text, kind, zone)
    assert isinstance(value, float) is is_serial
    assert from_cell(value, kind, zone) == text


def test_a_sync_with_new_members_and_dates_costs_at_most_four_sheets_calls(
        emulator: Emulator, credentials: Credentials, policy: RetryPolicy,
        tmp_path: Path) -> None:
    seed(emulator)
    config = make_config(emulator, tmp_path, responses_worksheet=WORKSHEET)
    sync(config, credentials, policy)
    emulator.sheets.set_values(FORM, WORKSHEET, [[serial(2020, 10, 9, 8, 0), "new@example.org",
                                                  "New", "No", "English"]], start="A7")
    emulator.sheets.set_values(MASTER, SESSIONS, [["5", "Attention"]], start="A7")
    report, calls = counted(emulator, config, credentials, policy)
    assert report.failures == []
    assert [line for e in report.plan.sheet_edits for line in e.summary] == [
        "add member new@example.org", "set Sessions row 7 (session 5) Proposed date to "
        "2020-12-15 17:00"]
    # Two reads (one per spreadsheet), the master's metadata for the write, one write.
    assert dict(calls.by_name) == {"sheets.values.batchGet": 2, "sheets.get": 1,
                                   "sheets.values.batchUpdate": 1}
