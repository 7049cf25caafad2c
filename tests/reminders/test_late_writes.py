"""Exactly once against Google's real failure modes: a write Google applies after the client
gave up while the organizer reruns at once, and refusals of the account (not the recipient).

Through googleapiclient and real HTTP against the emulator. The "late" fault holds a request,
applies it after the client timed out and answers nothing: Google documents that a request
that timed out may still have been applied (https://cloud.google.com/apis/design/errors,
DEADLINE_EXCEEDED: "the operation may have completed successfully").
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from tests.reminders.support import Group, at, gmail_settings, make_config

from formsync.emulator.testing import FakeTime
from formsync.google.transport import RetryPolicy
from formsync.model import REMINDERS, Table
from formsync.reminders.ledger import REMINDER_HEADER
from formsync.reminders.plan import DraftSweep, Reminder, plan_reminders
from formsync.reminders.transports import GmailTransport

DAY = at("2020-10-18")  # the guide of session 1 and four reading reminders are due
EXPECTED = 5
SENDER = "grupo@example.org"


def policy(timeout: float) -> RetryPolicy:
    fake = FakeTime()
    return RetryPolicy(timeout=timeout, deadline=60, sleep=fake.sleep, clock=fake.clock)


def gmail_group(tmp_path: Path, emulator: Any, *, subject: str = SENDER) -> Group:
    google = gmail_settings(emulator, tmp_path / "key.json", subject=subject)
    return Group(tmp_path / "group", make_config(tmp_path / "group", google=google,
                                                 transport="gmail"))


def gmail(group: Group, *, timeout: float = 1.0) -> GmailTransport:
    """By default a client that gives up after 1 s (the late fault holds requests 2 s)."""
    return GmailTransport.from_config(group.config, policy=policy(timeout))


def sent_once(emulator: Any) -> Counter[str]:
    sent = Counter(str(m["Message-ID"]) for m in emulator.apis["gmail"].sent(SENDER))
    assert len(sent) == EXPECTED and set(sent.values()) == {1}, sent
    return sent


def test_a_draft_created_late_while_the_rerun_sends_is_never_sent_twice_nor_left(
        tmp_path: Path, emulator: Any) -> None:
    group = gmail_group(tmp_path, emulator)
    emulator.inject("gmail.users.drafts.create", "late", seconds=2.0)
    _, first = group.run(DAY, gmail(group))
    assert any("Gmail refused to create a draft" in p.message for p in first)

    reminders, _ = group.run(DAY.replace(minute=31), gmail(group))  # at once
    assert any(isinstance(r, DraftSweep) for r in reminders)
    assert emulator.wait_for_held_requests()  # the first run's draft now exists, late
    group.run(DAY.replace(hour=11), gmail(group))  # finds it and deletes it (or adopted it)

    sent_once(emulator)
    assert emulator.apis["gmail"].drafts(SENDER) == []
    assert set(group.statuses().values()) == {"sent", "recorded"}
    assert group.plan(DAY.replace(hour=12))[0] == []  # settled: no Gmail call any more


def test_a_draft_sent_late_while_the_rerun_recovers_it_goes_out_once(
        tmp_path: Path, emulator: Any) -> None:
    group = gmail_group(tmp_path, emulator)
    emulator.inject("gmail.users.drafts.send", "late", seconds=2.0)
    _, first = group.run(DAY, gmail(group))
    assert any("did not send" in p.message for p in first)
    group.run(DAY.replace(minute=31), gmail(group))  # at once: drafts.get, then send
    assert emulator.wait_for_held_requests()
    group.run(DAY.replace(hour=11), gmail(group))

    sent_once(emulator)
    assert emulator.apis["gmail"].drafts(SENDER) == []
    assert group.plan(DAY.replace(hour=12))[0] == []


def test_gmail_refusing_the_account_loses_no_reminder_and_after_the_fix_sends_each_once(
        tmp_path: Path, emulator: Any) -> None:
    """A service account without `subject` has no mailbox: Gmail answers 400
    failedPrecondition (googleapis/google-api-go-client#764). That is the account's fault, not
    the recipients': nothing is marked failed, one error says how to fix it."""
    group = gmail_group(tmp_path, emulator, subject="")
    _, problems = group.run(DAY, gmail(group, timeout=10))
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 1
    assert "Precondition check failed" in errors[0].message
    assert "google.subject" in errors[0].fix
    assert "failed" not in group.statuses().values()
    assert len(group.plan(DAY.replace(hour=10))[0]) >= EXPECTED  # still due

    fixed = gmail_settings(emulator, tmp_path / "fixed-key.json", subject=SENDER)
    group.config = make_config(group.root, google=fixed, transport="gmail")  # subject set
    _, problems = group.run(DAY.replace(hour=10), gmail(group, timeout=10))
    assert [p for p in problems if p.severity == "error"] == []
    sent_once(emulator)
    assert group.plan(DAY.replace(hour=11))[0] == []


def ledger(*rows: tuple[str, ...]) -> Table:
    return Table(REMINDERS, REMINDER_HEADER, rows)


def test_ledger_rows_sharing_a_key_the_most_advanced_counts_and_the_other_is_reported(
        tmp_path: Path) -> None:
    group = Group(tmp_path, make_config(tmp_path))
    sent = ("reading", "1", "ana@example.org", "sent", "<id>", "2020-10-18T09:30:00-05:00", "")
    late = ("reading", "1", "ana@example.org", "drafting", "", "2020-10-18T09:30:00-05:00", "")
    table = ledger(("setup", "", "", "recorded", "", "2020-10-01T09:00:00-05:00", ""),
                   sent, late)
    due, problems = plan_reminders(group.sessions, group.members, table, group.config, DAY)
    keys = {(r.kind, r.session, r.recipient) for r in due if isinstance(r, Reminder)}
    assert ("reading", "1", "ana@example.org") not in keys
    assert ("reading", "1", "bob@example.org") in keys
    duplicate = [p for p in problems if "recorded more than once" in p.message]
    assert [(p.sheet, p.row, p.severity) for p in duplicate] == [(REMINDERS, 4, "warning")]
    assert "row 3 (sent) counts" in duplicate[0].message


def test_reminders_an_older_version_failed_for_the_account_are_sent_again_once(
        tmp_path: Path) -> None:
    group = Group(tmp_path, make_config(tmp_path))
    precondition = "Google refused the request: HTTP 400 Precondition check failed."
    group.sheets.apply([_ledger_edit(
        ("setup", "", "", "recorded", "", "2020-10-01T09:00:00-05:00", ""),
        ("reading", "1", "ana@example.org", "failed", "", "2020-10-18T09:30:00-05:00",
         precondition),
        ("reading", "1", "bob@example.org", "failed", "", "2020-10-18T09:30:00-05:00",
         "SMTP 550 5.1.1 no such user"))])
    from formsync.reminders.transports import OutboxTransport

    outbox = OutboxTransport(tmp_path / "outbox")
    _, problems = group.run(DAY.replace(hour=10), outbox)
    requeued = [p for p in problems if "sent again now" in p.message]
    assert len(requeued) == 1 and requeued[0].message.startswith("1 reminders")
    # Sent under today's key, which records the start it announces; the old row stays.
    today = "1 @ 2020-10-20 17:00"
    assert outbox.delivered(_key("reading", today, "ana@example.org"))
    assert not outbox.delivered(_key("reading", today, "bob@example.org"))  # the recipient
    statuses = group.statuses()
    assert statuses[("reading", today, "ana@example.org")] == "sent"
    assert statuses[("reading", "1", "bob@example.org")] == "failed"
    assert group.plan(DAY.replace(hour=11))[0] == []  # once


def _key(kind: str, session: str, recipient: str) -> Any:
    from formsync.reminders.ledger import LedgerKey

    return LedgerKey(kind, session, recipient)


def _ledger_edit(*rows: tuple[str, ...]) -> Any:
    from formsync.actions import SheetEdit

    return SheetEdit(REMINDERS, REMINDER_HEADER, add_header=True, appends=rows)


def test_a_killed_run_leaves_no_temp_file_in_the_outbox_after_the_next_run(
        tmp_path: Path) -> None:
    from formsync.reminders.transports import OutboxTransport

    group = Group(tmp_path, make_config(tmp_path))
    outbox = OutboxTransport(tmp_path / "outbox")
    outbox.folder.mkdir()
    leftover = outbox.folder / ".reading__1__ana@example.org__abc.eml.k2j4h5.tmp"
    leftover.write_bytes(b"half a message")
    group.run(DAY, outbox)
    assert not leftover.exists()
    assert len(list(outbox.folder.glob("*.eml"))) == EXPECTED



