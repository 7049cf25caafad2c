"""`google.retry_deadline_seconds` is one budget for a whole sync: the adapters a run builds
(Sheets through gspread, Calendar and Gmail through googleapiclient) share it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from formsync.backends import build_places
from formsync.config import Config
from formsync.demo import seed_google_demo
from formsync.emulator import Emulator
from formsync.emulator.testing import FakeTime
from formsync.google.sheets import GoogleSheets
from formsync.google.transport import RetryPolicy
from formsync.sync import Report, enabled_steps, run_sync

TERM_DAY = dt.datetime.fromisoformat("2020-11-15T09:30:00-06:00")


@pytest.fixture
def config(emulator: Emulator, tmp_path: Path) -> Config:
    return seed_google_demo(tmp_path, emulator)


@pytest.fixture
def run_policy(fake_time: FakeTime) -> RetryPolicy:
    """A 10 s budget for the run; each wait is exactly the Retry-After Google sends."""
    return RetryPolicy(deadline=10, sleep=fake_time.sleep, clock=fake_time.clock,
                       jitter=lambda: 0.0)


def sync(config: Config, policy: RetryPolicy) -> Report:
    """One sync, its adapters built as the CLI builds them."""
    steps = enabled_steps(config, None)
    sheets = GoogleSheets.from_config(config, policy=policy)
    return run_sync(config, build_places(config, steps, sheets=sheets, policy=policy), TERM_DAY,
                    steps=steps)


def failures_of(report: Report, step: str) -> list[str]:
    return [str(p) for p in report.failures if p.step == step]


def test_calendar_retries_draw_on_what_the_sheet_reads_left(
        emulator: Emulator, config: Config, run_policy: RetryPolicy,
        fake_time: FakeTime) -> None:
    emulator.inject("sheets.values.batchGet", 429, count=2, retry_after=4)  # 8 s of the 10
    emulator.inject("calendar.events.insert", 429, count=10**6, retry_after=4)
    before = emulator.counts()
    report = sync(config, run_policy)
    calls = emulator.counts() - before
    assert fake_time.sleeps == [4, 4]
    assert calls["calendar.events.insert"] == 1  # 4 s more would not fit: not retried
    (calendar,) = failures_of(report, "calendar")
    assert "event changes in Google Calendar not made" in calendar
    assert "the run's retry budget of 10 s (google.retry_deadline_seconds) is spent" in calendar
    # The budget bounds waiting, not work: Gmail's calls, answered at first try, go through.
    assert calls["gmail.users.drafts.send"] > 0 and failures_of(report, "reminders") == []


def test_gmail_retries_draw_on_the_same_budget(emulator: Emulator, config: Config,
                                               run_policy: RetryPolicy,
                                               fake_time: FakeTime) -> None:
    emulator.inject("sheets.values.batchGet", 429, count=2, retry_after=4)
    emulator.inject("gmail.*", 429, count=1, retry_after=4)
    before = emulator.counts()
    report = sync(config, run_policy)
    assert fake_time.sleeps == [4, 4]
    assert failures_of(report, "calendar") == []
    (reminders,) = failures_of(report, "reminders")
    assert "Gmail API quota exceeded" in reminders and "retry budget of 10 s" in reminders
    assert (emulator.counts() - before)["gmail.users.drafts.send"] == 0
