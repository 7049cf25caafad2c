"""Timeouts, retries, deadlines, base-URL rewriting and token refresh, over real HTTP."""

from __future__ import annotations

from typing import Any

import gspread
import pytest
from google.auth.credentials import Credentials
from googleapiclient.errors import HttpError

from formsync.config import Google
from formsync.emulator import Emulator
from formsync.emulator.testing import FakeTime
from formsync.errors import BackendError
from formsync.google.transport import (
    RetryBudgetSpentError,
    RetryPolicy,
    UnknownOutcomeError,
    build_service,
    describe_call,
    google_session,
    open_gspread_client,
)


@pytest.fixture
def sheet(emulator: Emulator, gspread_client: Any) -> Any:
    emulator.sheets.create_spreadsheet("sheet-id", {"Sheet1": [["Email"], ["ana@example.com"]]})
    return gspread_client.open_by_key("sheet-id").sheet1


def test_two_quota_errors_then_success_is_retried_honouring_retry_after(
        emulator: Emulator, sheet: Any, fake_time: FakeTime) -> None:
    emulator.inject("sheets.values.get", 429, count=2, retry_after=7)
    before = emulator.counts()
    assert sheet.get_all_values() == [["Email"], ["ana@example.com"]]
    assert (emulator.counts() - before)["sheets.values.get"] == 3
    assert len(fake_time.sleeps) == 2 and all(wait >= 7 for wait in fake_time.sleeps)


def test_service_unavailable_is_retried(emulator: Emulator, sheet: Any,
                                        fake_time: FakeTime) -> None:
    emulator.inject("sheets.values.*", 503, count=3)
    sheet.update([["bo@example.com"]], "A3")
    assert emulator.sheets.values("sheet-id", "Sheet1")[2] == ["bo@example.com"]
    assert emulator.counts()["sheets.values.update"] == 4
    assert len(fake_time.sleeps) == 3


def test_dropped_connection_on_a_read_is_retried(emulator: Emulator, sheet: Any) -> None:
    emulator.inject("sheets.values.batchGet", "drop")
    (values,) = sheet.batch_get(["A1:A2"])
    assert values == [["Email"], ["ana@example.com"]]
    assert emulator.counts()["sheets.values.batchGet"] == 2


def test_repeatable_write_whose_answer_was_lost_is_retried_safely(emulator: Emulator,
                                                                  sheet: Any) -> None:
    emulator.inject("sheets.values.update", "drop_after")
    sheet.update([["x"]], "B1")
    assert emulator.counts()["sheets.values.update"] == 2
    assert emulator.sheets.values("sheet-id", "Sheet1") == [["Email", "x"], ["ana@example.com"]]


def test_lost_append_is_not_repeated_and_says_the_outcome_is_unknown(emulator: Emulator,
                                                                     sheet: Any) -> None:
    emulator.inject("sheets.values.append", "drop_after")
    with pytest.raises(UnknownOutcomeError) as raised:
        sheet.append_rows([["bo@example.com"]])
    assert "values.append" in str(raised.value) and "may or may not" in str(raised.value)
    assert emulator.counts()["sheets.values.append"] == 1
    assert emulator.sheets.values("sheet-id", "Sheet1").count(["bo@example.com"]) == 1


@pytest.fixture
def impatient_sheet(emulator: Emulator, google_cfg: Google, credentials: Credentials,
                    fake_time: FakeTime) -> Any:
    """A worksheet whose client gives up on an answer after 0.15 s."""
    emulator.sheets.create_spreadsheet("sheet-id", {"Sheet1": [["a"]]})
    policy = RetryPolicy(timeout=0.15, deadline=30, sleep=fake_time.sleep,
                         clock=fake_time.clock)
    return open_gspread_client(google_cfg, credentials, policy=policy).open_by_key(
        "sheet-id").sheet1


def test_answer_slower_than_the_timeout_is_retried(emulator: Emulator,
                                                   impatient_sheet: Any) -> None:
    emulator.inject("sheets.values.get", "slow", seconds=1.0)
    assert impatient_sheet.get_all_values() == [["a"]]
    assert emulator.counts()["sheets.values.get"] == 2


def test_a_write_slower_than_the_timeout_is_not_repeated(emulator: Emulator,
                                                        impatient_sheet: Any) -> None:
    """Google may still apply it; repeated, the late original would undo later writes."""
    emulator.inject("sheets.values.batchUpdate", "slow", seconds=0.5)
    with pytest.raises(UnknownOutcomeError, match="may or may not have applied"):
        impatient_sheet.batch_update([{"range": "A1", "values": [["b"]]}])
    assert emulator.counts()["sheets.values.batchUpdate"] == 1


def test_quota_errors_past_the_deadline_name_the_api_and_the_quota(
        emulator: Emulator, sheet: Any, fake_time: FakeTime) -> None:
    emulator.inject("sheets.values.get", 429, count=1000)
    with pytest.raises(BackendError) as raised:
        sheet.get_all_values()
    message = str(raised.value)
    assert "Google Sheets API quota exceeded (Read requests per minute per user)" in message
    assert "values.get" in message and "request more quota" in message
    assert "the run's retry budget of 60 s (google.retry_deadline_seconds) is spent" in message
    assert fake_time.now <= 60  # the configured deadline
    assert emulator.counts()["sheets.values.get"] == len(fake_time.sleeps) + 1


@pytest.fixture
def budget_policy(fake_time: FakeTime) -> RetryPolicy:
    """A 10 s retry budget; each wait is exactly the Retry-After Google sends."""
    return RetryPolicy(deadline=10, sleep=fake_time.sleep, clock=fake_time.clock,
                       jitter=lambda: 0.0)


def test_every_session_built_with_one_policy_draws_on_one_retry_budget(
        emulator: Emulator, google_cfg: Google, credentials: Credentials,
        budget_policy: RetryPolicy, fake_time: FakeTime) -> None:
    emulator.sheets.create_spreadsheet("sheet-id", {"Sheet1": [["a"]]})
    sheet = open_gspread_client(google_cfg, credentials, policy=budget_policy).open_by_key(
        "sheet-id").sheet1
    service = build_service("sheets", "v4", google_cfg, credentials, policy=budget_policy)
    emulator.inject("sheets.values.get", 429, count=2, retry_after=4)
    assert sheet.get_all_values() == [["a"]]  # retried: 8 s of the run's 10 are used
    emulator.inject("sheets.values.get", 429, count=1, retry_after=4)
    before = emulator.counts()
    with pytest.raises(RetryBudgetSpentError) as raised:  # another session: 4 s more won't fit
        service.spreadsheets().values().get(spreadsheetId="sheet-id",
                                            range="Sheet1!A1").execute()
    assert "Google Sheets API quota exceeded" in str(raised.value)
    assert "values.get; still refused after 1 attempt" in str(raised.value)
    assert "the run's retry budget of 10 s" in str(raised.value)
    assert (emulator.counts() - before)["sheets.values.get"] == 1
    assert fake_time.sleeps == [4, 4]


def test_once_the_budget_is_spent_calls_are_tried_once_and_not_retried(
        emulator: Emulator, google_cfg: Google, credentials: Credentials,
        budget_policy: RetryPolicy, fake_time: FakeTime) -> None:
    emulator.sheets.create_spreadsheet("sheet-id", {"Sheet1": [["a"]]})
    sheet = open_gspread_client(google_cfg, credentials, policy=budget_policy).open_by_key(
        "sheet-id").sheet1
    emulator.inject("sheets.values.get", 429, count=1000, retry_after=4)
    with pytest.raises(RetryBudgetSpentError):
        sheet.get_all_values()
    assert fake_time.now == 8
    emulator.clear_faults()
    assert sheet.get_all_values() == [["a"]]  # succeeding at first try: the budget is for waits
    emulator.inject("sheets.values.get", 429, count=1, retry_after=1)
    before = emulator.counts()
    with pytest.raises(RetryBudgetSpentError, match=r"1 attempt .*retry budget of 10 s"):
        sheet.get_all_values()  # a 1 s wait would fit in the 2 s left: spent is spent
    assert (emulator.counts() - before)["sheets.values.get"] == 1
    assert fake_time.now == 8


def test_server_errors_past_the_deadline_name_the_api(emulator: Emulator, sheet: Any) -> None:
    emulator.inject("sheets.batchUpdate", 500, count=1000)
    with pytest.raises(BackendError, match=r"Google Sheets API kept failing on "
                                           r"spreadsheets.batchUpdate: HTTP 500"):
        sheet.spreadsheet.add_worksheet("New", rows=1, cols=1)
    assert emulator.sheets.worksheet_titles("sheet-id") == ["Sheet1"]


def test_expired_token_is_refreshed_once_and_the_call_repeated(emulator: Emulator,
                                                               sheet: Any) -> None:
    emulator.oauth.expire_all_tokens()
    before = emulator.counts()
    assert sheet.get_all_values()[0] == ["Email"]
    step = emulator.counts() - before
    assert (step["oauth.token"], step["sheets.values.get"]) == (1, 2)


def test_google_urls_are_sent_to_the_configured_base_urls(google_cfg: Google,
                                                          credentials: Credentials) -> None:
    session = google_session(google_cfg, credentials)
    assert session.rewrite("https://sheets.googleapis.com/v4/spreadsheets/x") == (
        f"{google_cfg.sheets_base_url}/v4/spreadsheets/x")
    assert session.rewrite("https://gmail.googleapis.com/gmail/v1/users/me") == (
        f"{google_cfg.gmail_base_url}/gmail/v1/users/me")
    assert session.rewrite("https://example.com/sheets.googleapis.com") == (
        "https://example.com/sheets.googleapis.com")
    default = google_session(Google(), credentials)
    assert default.rewrite("https://sheets.googleapis.com/v4/x") == (
        "https://sheets.googleapis.com/v4/x")


def test_loopback_traffic_ignores_proxy_settings(emulator: Emulator, sheet: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    emulator.oauth.expire_all_tokens()  # the token request must bypass the proxy too
    assert sheet.get_all_values()[0] == ["Email"]


@pytest.mark.parametrize(("attempt", "jitter", "retry_after", "expected"), [
    (1, 0.5, None, 0.5), (3, 0.5, None, 2.0), (10, 0.999, None, 31.968), (1, 0.0, 5.0, 5.0),
])
def test_backoff_is_full_jitter_capped_and_never_shorter_than_retry_after(
        attempt: int, jitter: float, retry_after: float | None, expected: float) -> None:
    policy = RetryPolicy(base_delay=1, max_delay=32, jitter=lambda: jitter)
    assert policy.delay(attempt, retry_after) == pytest.approx(expected)


@pytest.mark.parametrize(("method", "url", "api", "operation", "repeatable"), [
    ("GET", "https://sheets.googleapis.com/v4/spreadsheets/id/values/A1%3AB2", "Google Sheets API",
     "values.get", True),
    ("POST", "http://127.0.0.1:1/v4/spreadsheets/id/values/'A'!A1:append", "Google Sheets API",
     "values.append", False),
    ("POST", "http://h/v4/spreadsheets/id/values:batchUpdate", "Google Sheets API",
     "values.batchUpdate", True),
    ("POST", "http://h/v4/spreadsheets/id:batchUpdate", "Google Sheets API",
     "spreadsheets.batchUpdate", False),
    ("POST", "https://gmail.googleapis.com/gmail/v1/users/me/messages/send", "Gmail API",
     "POST /users/me/messages/send", False),
    ("PATCH", "https://www.googleapis.com/calendar/v3/calendars/c/events/e",
     "Google Calendar API", "PATCH /calendars/c/events/e", True),
])
def test_calls_are_named_for_messages_and_classified_for_retries(
        method: str, url: str, api: str, operation: str, repeatable: bool) -> None:
    call = describe_call(method, url)
    assert (call.api, call.operation, call.repeatable) == (api, operation, repeatable)


def test_googleapiclient_uses_the_shipped_discovery_document_and_same_retries(
        emulator: Emulator, google_cfg: Google, credentials: Credentials,
        policy: RetryPolicy, fake_time: FakeTime) -> None:
    emulator.sheets.create_spreadsheet("sheet-id", {"Sheet1": [["a", "b"]]})
    service = build_service("sheets", "v4", google_cfg, credentials, policy=policy)
    emulator.inject("sheets.values.get", 429, count=2)
    answer = service.spreadsheets().values().get(spreadsheetId="sheet-id",
                                                 range="Sheet1!A1:B1").execute()
    assert answer["values"] == [["a", "b"]]
    assert emulator.counts()["sheets.values.get"] == 3 and len(fake_time.sleeps) == 2
    with pytest.raises(HttpError) as raised:
        service.spreadsheets().get(spreadsheetId="missing").execute()
    assert raised.value.resp.status == 404


def test_calendar_service_points_at_the_configured_base_url(google_cfg: Google,
                                                            credentials: Credentials) -> None:
    calendar = build_service("calendar", "v3", google_cfg, credentials)
    gmail = build_service("gmail", "v1", google_cfg, credentials)
    assert calendar._baseUrl == f"{google_cfg.calendar_base_url}/calendar/v3/"
    assert gmail._baseUrl == f"{google_cfg.gmail_base_url}/"


def test_gspread_errors_other_than_retryable_ones_are_not_retried(
        emulator: Emulator, sheet: Any, fake_time: FakeTime) -> None:
    with pytest.raises(gspread.exceptions.APIError):
        sheet.spreadsheet.values_get("'Nope'!A1")
    assert emulator.counts()["sheets.values.get"] == 1 and fake_time.sleeps == []
