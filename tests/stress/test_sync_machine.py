"""Random organizer edits, form responses, clock steps and injected faults, with a sync after
each; the invariants must hold after every step (in the style of vdirsyncer's SyncMachine).
One fault is a write that lands after the client gave up, overtaken by a rerun at once.

Everything runs against the loopback emulator through the real clients, with a retry policy on a
fake clock (no real waiting) and a short per-request timeout.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
from hypothesis import event, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from benchkit import (
    MASTER_ID,
    NOW,
    RESPONSES_ID,
    RESPONSES_WORKSHEET,
    GoogleGroup,
    GroupSpec,
    SyncResult,
    email_of,
    response_row,
)
from formsync.emulator import Emulator
from formsync.emulator.server import FaultKind
from formsync.emulator.testing import FakeTime
from formsync.google.cells import to_serial
from formsync.google.transport import RetryPolicy
from formsync.model import MEMBERS, SESSIONS
from formsync.reminders.plan import DraftSweep

SESSION_COUNT = 4
ENDPOINTS = ("sheets.get", "sheets.values.batchGet", "sheets.values.batchUpdate",
             "sheets.values.append", "sheets.batchUpdate", "calendar.events.list",
             "calendar.events.insert", "calendar.events.patch", "calendar.events.delete",
             "gmail.*")
WRITE_ENDPOINTS = ("sheets.values.batchUpdate", "sheets.values.append", "sheets.batchUpdate",
                   "calendar.events.insert", "calendar.events.patch", "calendar.events.update",
                   "calendar.events.delete", "gmail.users.drafts.create",
                   "gmail.users.drafts.send", "gmail.users.drafts.delete")
LATE_TIMEOUT = 0.5  # the per-request timeout of the run whose write lands late
LATE = 0.8  # when that write lands, after it arrived (past LATE_TIMEOUT)
CHAPTER_TEXT = st.text(alphabet="abcdefghijklmnñopqrstuvwxyzé ÁB0123456789:-", min_size=1,
                       max_size=16).filter(lambda t: t.strip() != "")


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="formsync-machine-"))
        self.emulator = Emulator().start()
        self.group = GoogleGroup(self.emulator, self.folder,
                                 GroupSpec(members=3, sessions=SESSION_COUNT)).seed()
        self.fake = FakeTime()
        self.now = NOW
        self.next_member = 100
        self.steps = self.group.steps()
        self.last: SyncResult = self._sync()
        self.faulted = False

    def teardown(self) -> None:
        self.emulator.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------------------

    def _policy(self, timeout: float) -> RetryPolicy:
        """A fresh policy per sync: each sync is a run, with a retry budget of its own."""
        return RetryPolicy(timeout=timeout, deadline=60, base_delay=0.5, sleep=self.fake.sleep,
                           clock=self.fake.clock)

    def _sync(self) -> SyncResult:
        result = self.group.sync(steps=self.steps, now=self.now, policy=self._policy(2.0))
        self.emulator.clear_faults()
        return result

    def _after_edit(self) -> None:
        self.faulted = False
        self.last = self._sync()

    def _set_session(self, number: int, column: str, value: Any) -> None:
        header = [str(h) for h in self.emulator.sheets.values(MASTER_ID, SESSIONS)[0]]
        letter = chr(ord("A") + header.index(column))
        self.emulator.sheets.set_values(MASTER_ID, SESSIONS, [[value]],
                                        start=f"{letter}{number + 1}")

    def _add_response(self, row: list[Any]) -> None:
        count = len(self.emulator.sheets.values(RESPONSES_ID, RESPONSES_WORKSHEET))
        self.emulator.sheets.set_values(RESPONSES_ID, RESPONSES_WORKSHEET, [row],
                                        start=f"A{count + 1}")

    # -- rules: organizers, people, time, Google ----------------------------------------------

    @rule(number=st.integers(1, SESSION_COUNT), weeks=st.integers(-4, 20))
    def change_date(self, number: int, weeks: int) -> None:
        day = dt.datetime(2020, 11, 3) + dt.timedelta(weeks=weeks)
        self._set_session(number, "Date", to_serial(day))
        self._after_edit()

    @rule(number=st.integers(1, SESSION_COUNT))
    def clear_date(self, number: int) -> None:
        self._set_session(number, "Date", "")
        self._after_edit()

    @rule(number=st.integers(1, SESSION_COUNT), chapter=CHAPTER_TEXT)
    def rename_chapter(self, number: int, chapter: str) -> None:
        self._set_session(number, "Chapter", chapter)
        self._after_edit()

    @rule(kind=st.sampled_from(["new", "duplicate", "shouted duplicate", "invalid"]),
          pick=st.integers(0, 2))
    def new_response(self, kind: str, pick: int) -> None:
        moment = self.now.replace(tzinfo=None) + dt.timedelta(minutes=self.next_member)
        if kind == "new":
            row = response_row(self.next_member, moment)
        elif kind == "invalid":
            row = response_row(self.next_member, moment, email=f"nobody{self.next_member}")
        else:
            email = email_of(pick)
            row = response_row(pick, moment, name=f"Renamed {self.next_member}",
                               email=email.upper() if kind == "shouted duplicate" else email)
        self.next_member += 1
        self._add_response(row)
        self._after_edit()

    @rule(days=st.integers(1, 10))
    def clock_step(self, days: int) -> None:
        self.now += dt.timedelta(days=days)
        self._after_edit()

    @rule(endpoint=st.sampled_from(ENDPOINTS), fault=st.sampled_from(["429", "503", "drop"]),
          count=st.integers(1, 3))
    def sync_with_fault(self, endpoint: str, fault: FaultKind, count: int) -> None:
        self.emulator.inject(endpoint, fault, count=count)
        self.faulted = True
        self.last = self._sync()

    @rule(endpoint=st.sampled_from(WRITE_ENDPOINTS), number=st.integers(1, SESSION_COUNT),
          weeks=st.none() | st.integers(-4, 20), days=st.integers(0, 10))
    def rerun_while_a_write_lands_late(self, endpoint: str, number: int, weeks: int | None,
                                       days: int) -> None:
        # Edits give the sync writes to make (a sync after a sync has none): a new member (a
        # Members row, a welcome email), a session dated, moved or undated, reminders falling due.
        self._add_response(response_row(self.next_member, self.now.replace(tzinfo=None)
                                         + dt.timedelta(minutes=self.next_member)))
        self.next_member += 1
        day = None if weeks is None else dt.datetime(2020, 11, 3) + dt.timedelta(weeks=weeks)
        self._set_session(number, "Date", "" if day is None else to_serial(day))
        self.now += dt.timedelta(days=days)
        self.emulator.inject(endpoint, "late", count=1, seconds=LATE)
        before = self.emulator.counts()[endpoint]
        self.group.sync(steps=self.steps, now=self.now, policy=self._policy(LATE_TIMEOUT))
        event(f"late {endpoint}: " + ("made" if self.emulator.counts()[endpoint] > before
                                      else "not called"))
        self.emulator.clear_faults()
        self.last = self._sync()  # at once, while the write may still be in flight
        assert self.emulator.wait_for_held_requests(LATE + 10)
        # What landed after the rerun (a draft, a ledger row) is for the next run to settle.
        self.faulted = True

    # -- invariants ---------------------------------------------------------------------------

    def _valid_emails(self) -> set[str]:
        rows = self.emulator.sheets.values(RESPONSES_ID, RESPONSES_WORKSHEET)[1:]
        return {str(row[1]).strip().lower() for row in rows if "@" in str(row[1])}

    def _member_emails(self) -> list[str]:
        rows = self.emulator.sheets.values(MASTER_ID, MEMBERS)[1:]
        return [str(row[0]).strip().lower() for row in rows if row]

    def _event_sessions(self) -> list[str]:
        return [str(e.get("extendedProperties", {}).get("private", {}).get("formsync_session"))
                for e in self.group.live_events()]

    def _dated_sessions(self) -> set[str]:
        values = self.emulator.sheets.values(MASTER_ID, SESSIONS, "UNFORMATTED_VALUE")
        header = [str(h) for h in values[0]]
        number, date = header.index("Session"), header.index("Date")
        return {str(row[number]) for row in values[1:]
                if len(row) > date and row[date] not in ("", None)}

    @invariant()
    def no_member_twice_and_none_missing_after_a_success(self) -> None:
        emails = self._member_emails()
        assert len(emails) == len(set(emails)), emails
        if self.last.succeeded:
            assert self._valid_emails() <= set(emails)

    @invariant()
    def no_two_live_events_share_a_session(self) -> None:
        sessions = self._event_sessions()
        assert len(sessions) == len(set(sessions)), sessions
        dated = self._dated_sessions()
        # With no dated session at all, the safety stop keeps the events (unless --force).
        if self.last.succeeded and dated:
            assert set(sessions) == dated

    @invariant()
    def no_mail_sent_twice(self) -> None:
        sent = self.group.sent_message_ids()
        assert len(sent) == len(set(sent)), sent

    @invariant()
    def a_second_sync_after_a_clean_one_does_nothing(self) -> None:
        if self.faulted or not self.last.succeeded:
            return
        before = self.emulator.counts()
        again = self._sync()
        assert again.succeeded, again.error or again.report
        assert again.report is not None
        # Nothing to change. The one thing a plan may still hold is a read-only look for Gmail
        # drafts an interrupted send may have left: Google can create one late, so runs look
        # until one looks ledger.SETTLE after the interruption (the clock here may not move).
        left = [a for a in again.report.plan.reminders if not isinstance(a, DraftSweep)]
        assert again.report.plan.sheet_edits == () and again.report.plan.readme is None
        assert again.report.plan.calendar == () and left == [], again.report.plan.describe()
        assert (self.emulator.counts() - before).writes == 0


# max_examples comes from the loaded profile (tests/conftest.py: "ci" under CI); 10 steps each.
SyncMachine.TestCase.settings = settings(settings.default, stateful_step_count=10)
test_sync_machine = SyncMachine.TestCase
