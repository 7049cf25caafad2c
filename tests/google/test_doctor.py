"""`formsync doctor` against the emulator: real key file, real token exchange, real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from tests.helpers import SPANISH_FORM

from formsync.calendar.google import ATTENDEES_FIX
from formsync.config import Config, parse_config
from formsync.doctor import run_checks
from formsync.emulator import Emulator
from formsync.emulator.testing import DEFAULT_CLIENT_EMAIL, google_settings
from formsync.errors import BackendError
from formsync.google.auth import SCOPE_CALENDAR, SCOPE_SHEETS
from formsync.google.doctor import (
    Check,
    DoctorContext,
    _scope_check,
    render_checks,
    required_scopes,
    run_doctor,
    step_checks,
)
from formsync.google.transport import RetryPolicy
from formsync.model import MEMBER_HEADER, REMINDER_HEADER, SESSION_HEADER

MASTER, FORM = "master-id", "form-id"


def seed(emulator: Emulator, *, sessions_header: tuple[str, ...] = SESSION_HEADER) -> None:
    emulator.sheets.create_spreadsheet(FORM, {"Respuestas de formulario 1": [list(SPANISH_FORM)]})
    emulator.sheets.create_spreadsheet(MASTER, {"Sessions": [list(sessions_header)],
                                                "Members": [list(MEMBER_HEADER)],
                                                "Reminders": [list(REMINDER_HEADER)]},
                                       title="Group")


def make_config(emulator: Emulator, root: Path, info: dict[str, str], **google: Any) -> Config:
    (root / "key.json").write_text(json.dumps(info), encoding="utf-8")
    settings = google_settings(emulator, **{
        "master_spreadsheet": MASTER, "responses_spreadsheet": FORM,
        "credentials_file": "key.json", "credentials_env": "FORMSYNC_TEST_UNSET",
        "timeout_seconds": 5, "retry_deadline_seconds": 60, **google})
    return parse_config({"backend": {"kind": "google"}, "google": settings}, root)


@pytest.fixture
def config(emulator: Emulator, tmp_path: Path, service_account_info: dict[str, str]) -> Config:
    return make_config(emulator, tmp_path, service_account_info)


def output(checks: list[Check]) -> str:
    return "\n".join(render_checks(checks))


def failed(checks: list[Check]) -> list[Check]:
    return [check for check in checks if not check.ok]


def test_doctor_passes_on_a_good_set_up_in_a_handful_of_calls(
        emulator: Emulator, config: Config, policy: RetryPolicy) -> None:
    seed(emulator)
    before = emulator.counts()
    checks = run_doctor(config, policy=policy)
    assert failed(checks) == [], output(checks)
    assert [c.name for c in checks] == [
        "config", "credentials", "token", "scopes", "responses spreadsheet",
        "master spreadsheet", "responses worksheet", "worksheet Sessions", "worksheet Members",
        "worksheet Reminders"]
    assert DEFAULT_CLIENT_EMAIL in checks[1].detail
    assert "Dirección de correo electrónico" in checks[6].detail
    calls = emulator.counts() - before
    assert calls.total <= 5 and calls.writes == 0
    assert render_checks(checks)[-1] == "all checks passed"


def test_a_wrong_spreadsheet_id_fails_with_the_key_to_fix(
        emulator: Emulator, tmp_path: Path, service_account_info: dict[str, str],
        policy: RetryPolicy) -> None:
    seed(emulator)
    config = make_config(emulator, tmp_path, service_account_info,
                         master_spreadsheet="https://docs.google.com/spreadsheets/d/typo/edit")
    checks = run_doctor(config, policy=policy)
    (bad,) = failed(checks)
    assert bad.name == "master spreadsheet"
    assert "spreadsheet typo not found" in bad.detail
    assert "google.master_spreadsheet" in bad.fix and DEFAULT_CLIENT_EMAIL in bad.fix
    assert "FAIL master spreadsheet" in output(checks)


def test_a_revoked_key_fails_the_token_check_and_never_shows_the_key(
        emulator: Emulator, config: Config, service_account_info: dict[str, str],
        policy: RetryPolicy) -> None:
    seed(emulator)
    emulator.oauth.revoke_key(service_account_info["private_key_id"])
    checks = run_doctor(config, policy=policy)
    assert [c.name for c in checks] == ["config", "credentials", "token"]
    assert not checks[-1].ok
    assert "new JSON key" in checks[-1].fix
    text = output(checks) + repr(checks)
    key_lines = [line for line in service_account_info["private_key"].splitlines()
                 if line and "-----" not in line]
    assert key_lines and not any(line in text for line in key_lines)
    assert "PRIVATE KEY" not in text


def test_missing_credentials_say_where_to_put_them(emulator: Emulator, tmp_path: Path,
                                                   policy: RetryPolicy) -> None:
    config = parse_config({"backend": {"kind": "google"}, "google": google_settings(
        emulator, master_spreadsheet=MASTER, credentials_env="FORMSYNC_TEST_UNSET")}, tmp_path)
    checks = run_doctor(config, policy=policy)
    assert [(c.name, c.ok) for c in checks] == [("config", True), ("credentials", False)]
    assert "credentials_file" in checks[-1].fix


def test_worksheets_and_headers_are_checked_with_aliases(
        emulator: Emulator, config: Config, policy: RetryPolicy) -> None:
    seed(emulator, sessions_header=("Sesión", "Capítulo", "Guía"))
    checks = {c.name: c for c in run_doctor(config, policy=policy)}
    sessions = checks["worksheet Sessions"]
    assert not sessions.ok and "'Date'" in sessions.detail and "[columns]" in sessions.fix


def test_worksheets_made_by_hand_in_another_case_are_found_and_their_headers_read(
        emulator: Emulator, config: Config, policy: RetryPolicy) -> None:
    """Google matches worksheet titles ignoring case (it refuses "Members" beside "members"),
    so the sync uses a hand-made `sessions` tab; doctor must read that tab's header."""
    emulator.sheets.create_spreadsheet(FORM, {"Form Responses 1": [list(SPANISH_FORM)]})
    emulator.sheets.create_spreadsheet(MASTER, {"sessions": [["Sesión", "Capítulo"]],
                                                "members": [list(MEMBER_HEADER)]})
    checks = {c.name: c for c in run_doctor(config, policy=policy)}
    assert checks["worksheet Members"].ok and "not there yet" not in \
        checks["worksheet Members"].detail
    assert not checks["worksheet Sessions"].ok and "'Date'" in \
        checks["worksheet Sessions"].detail


def test_missing_members_is_fine_but_missing_sessions_is_not(
        emulator: Emulator, config: Config, policy: RetryPolicy) -> None:
    emulator.sheets.create_spreadsheet(FORM, {"Form Responses 1": []})
    emulator.sheets.create_spreadsheet(MASTER, {"Sheet1": []})
    checks = {c.name: c for c in run_doctor(config, policy=policy)}
    assert checks["worksheet Members"].ok
    assert not checks["worksheet Sessions"].ok
    assert "formsync init --backend google" in checks["worksheet Sessions"].fix
    assert checks["responses worksheet"].ok  # no responses yet is fine


def test_extra_checks_run_after_the_sheets_ones(emulator: Emulator, config: Config,
                                                policy: RetryPolicy) -> None:
    seed(emulator)
    seen: list[DoctorContext] = []

    def check_calendar(context: DoctorContext) -> Check:
        seen.append(context)
        return Check("calendar", True, "reachable")

    def check_gmail(context: DoctorContext) -> list[Check]:
        raise BackendError("Gmail refused", fix="enable the Gmail API")

    checks = run_doctor(config, policy=policy, extra=[check_calendar, check_gmail])
    assert [(c.name, c.ok) for c in checks[-2:]] == [("calendar", True), ("gmail", False)]
    assert checks[-1].fix == "enable the Gmail API"
    assert seen[0].credentials.token and SCOPE_CALENDAR in seen[0].scopes


def test_scopes_follow_the_enabled_steps(tmp_path: Path) -> None:
    off = parse_config({"calendar": {"enabled": False}, "reminders": {"enabled": False}},
                       tmp_path)
    assert required_scopes(off) == (SCOPE_SHEETS,)
    gmail = parse_config({"reminders": {"transport": "gmail"}}, tmp_path)
    assert len(required_scopes(gmail)) == 3


def test_a_user_token_without_a_needed_scope_fails() -> None:
    token = SimpleNamespace(granted_scopes=[SCOPE_SHEETS], scopes=[SCOPE_SHEETS])
    check = _scope_check(token, [SCOPE_SHEETS, SCOPE_CALENDAR])  # type: ignore[arg-type]
    assert not check.ok and "calendar.events" in check.detail and "auth login" in check.fix


def test_a_misnamed_responses_worksheet_lists_the_real_ones(
        emulator: Emulator, tmp_path: Path, service_account_info: dict[str, str],
        policy: RetryPolicy) -> None:
    seed(emulator)
    config = make_config(emulator, tmp_path, service_account_info,
                         responses_worksheet="Form Responses 1")
    checks = {c.name: c for c in run_doctor(config, policy=policy)}
    bad = checks["responses worksheet"]
    assert not bad.ok and "'Respuestas de formulario 1'" in bad.detail
    assert "google.responses_worksheet" in bad.detail


# ---------------------------------------------------------------------------------------------
# Calendar and Gmail: what the sync will use, read once, nothing written or sent


def step_config(emulator: Emulator, root: Path, info: dict[str, str], *, google: Any = None,
                calendar: Any = None, reminders: Any = None) -> Config:
    base = make_config(emulator, root, info, **(google or {}))
    data = base.model_dump(include={"backend", "google"}, mode="json")
    data["calendar"] = {"enabled": False} if calendar is None else calendar
    data["reminders"] = {"enabled": False} if reminders is None else reminders
    return parse_config(data, root)


def doctor_with_steps(config: Config, policy: RetryPolicy) -> dict[str, Check]:
    return {c.name: c for c in run_doctor(config, policy=policy, extra=step_checks(config))}


GMAIL = {"transport": "gmail", "from_address": "organizer@example.org"}


def test_gmail_as_a_service_account_without_subject_fails_with_the_fix(
        emulator: Emulator, tmp_path: Path, service_account_info: dict[str, str],
        policy: RetryPolicy) -> None:
    seed(emulator)
    config = step_config(emulator, tmp_path, service_account_info, reminders=GMAIL)
    before = emulator.counts()
    checks = doctor_with_steps(config, policy)
    gmail = checks["gmail"]
    assert [c.name for c in checks.values() if not c.ok] == ["gmail"]
    assert "HTTP 400 Precondition check failed." in gmail.detail
    assert DEFAULT_CLIENT_EMAIL in gmail.detail and "no mailbox of its own" in gmail.detail
    assert "[google] subject" in gmail.fix and "formsync auth login" in gmail.fix
    calls = emulator.counts() - before
    assert calls["gmail.users.drafts.list"] == 1 and calls.writes == 0


def test_gmail_as_the_delegated_subject_passes_and_sends_nothing(
        emulator: Emulator, tmp_path: Path, service_account_info: dict[str, str],
        policy: RetryPolicy) -> None:
    seed(emulator)
    config = step_config(emulator, tmp_path, service_account_info,
                         google={"subject": "organizer@example.org"}, reminders=GMAIL)
    before = emulator.counts()
    checks = doctor_with_steps(config, policy)
    assert [c for c in checks.values() if not c.ok] == []
    assert "organizer@example.org" in checks["gmail"].detail
    assert (emulator.counts() - before).writes == 0
    assert emulator.apis["gmail"].drafts("organizer@example.org") == []  # type: ignore[attr-defined]


def add_calendar(emulator: Emulator, calendar_id: str, **options: Any) -> None:
    emulator.apis["calendar"].add_calendar(calendar_id, **options)  # type: ignore[attr-defined]


def test_calendar_invitations_need_a_subject_or_oauth(
        emulator: Emulator, tmp_path: Path, service_account_info: dict[str, str],
        policy: RetryPolicy) -> None:
    seed(emulator)
    add_calendar(emulator, "group-cal")
    calendar = {"calendar_id": "group-cal", "invite_members": True}
    config = step_config(emulator, tmp_path, service_account_info, calendar=calendar)
    before = emulator.counts()
    checks = doctor_with_steps(config, policy)
    assert checks["calendar"].ok and "'group-cal' readable" in checks["calendar"].detail
    invitations = checks["calendar invitations"]
    assert not invitations.ok and "forbiddenForServiceAccounts" in invitations.detail
    assert invitations.fix == ATTENDEES_FIX
    calls = emulator.counts() - before
    assert calls["calendar.events.list"] == 1 and calls.writes == 0

    delegated = step_config(emulator, tmp_path, service_account_info, calendar=calendar,
                            google={"subject": "organizer@example.org"})
    checks = doctor_with_steps(delegated, policy)
    assert checks["calendar invitations"].ok
    assert "organizer@example.org" in checks["calendar invitations"].detail


def test_a_calendar_not_shared_with_the_account_says_to_share_it(
        emulator: Emulator, tmp_path: Path, service_account_info: dict[str, str],
        policy: RetryPolicy) -> None:
    seed(emulator)
    add_calendar(emulator, "group-cal", shared_with=["someone-else@example.org"])
    config = step_config(emulator, tmp_path, service_account_info,
                         calendar={"calendar_id": "group-cal"})
    calendar = doctor_with_steps(config, policy)["calendar"]
    assert not calendar.ok and "group-cal" in calendar.detail
    assert "Make changes to events" in calendar.fix and DEFAULT_CLIENT_EMAIL in calendar.fix
    primary = step_config(emulator, tmp_path, service_account_info,
                          calendar={"calendar_id": "primary"})
    calendar = doctor_with_steps(primary, policy)["calendar"]
    assert not calendar.ok and "members never see" in calendar.detail


def test_the_local_backend_sending_by_gmail_checks_the_mailbox(
        emulator: Emulator, tmp_path: Path, service_account_info: dict[str, str]) -> None:
    google = make_config(emulator, tmp_path, service_account_info).google
    config = parse_config({"google": google.model_dump(mode="json"), "reminders": GMAIL},
                          tmp_path)
    checks = {c.name: c for c in run_checks(config)}
    assert "workspace" in checks and "token" in checks
    assert not checks["gmail"].ok and "[google] subject" in checks["gmail"].fix
