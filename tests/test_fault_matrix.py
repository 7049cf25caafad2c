"""A representative slice of scripts/fault-matrix: every fault kind at least once (SIGKILL and
a write landing late, overtaken by a rerun, included), then reruns until success; no invariant
may be violated."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from pathlib import Path

from tests.helpers import load_fault_matrix

from benchkit import ORGANIZER, GoogleGroup, GroupState

ROOT = Path(__file__).resolve().parents[1]


fault_matrix = load_fault_matrix()


def test_every_fault_kind_converges_without_losing_or_duplicating_anything(
        tmp_path: Path) -> None:
    lines: list[str] = []
    options = fault_matrix.MatrixOptions(steps=("members", "calendar"), endpoints=1,
                                         kill_points=1, echo=lines.append)
    results = fault_matrix.run_matrix(options, tmp_path)

    tried = {(r.step, r.fault) for r in results}
    for fault in (*fault_matrix.NETWORK_FAULTS, "401 expired token", "SIGKILL", "late"):
        assert ("members", fault) in tried and ("calendar", fault) in tried
    violations = [f"{r.step}/{r.fault}/{r.target}: {v}" for r in results for v in r.violations]
    assert violations == [], "\n".join(lines)
    assert all(r.runs <= 1 + fault_matrix.MAX_RERUNS for r in results)
    assert "invariant violations: 0" in fault_matrix.render_matrix(results)


def test_a_kill_during_a_reminder_send_neither_duplicates_nor_drops_mail(
        tmp_path: Path) -> None:
    options = fault_matrix.MatrixOptions(steps=("reminders",), faults=("drop_after", "sigkill"),
                                         endpoints=1, kill_points=1)
    results = fault_matrix.run_matrix(options, tmp_path)
    assert {r.fault for r in results} == {"drop_after", "SIGKILL"}
    assert [v for r in results for v in r.violations] == []


def test_reminder_writes_landing_late_under_a_rerun_neither_duplicate_nor_drop_mail(
        tmp_path: Path) -> None:
    """Gmail creates a draft, or sends one, or the ledger gains its rows, after the client gave
    up; the sync is rerun at once, while that write is still in flight."""
    writes = ("gmail.users.drafts.create", "gmail.users.drafts.send", "sheets.values.append")
    lines: list[str] = []
    options = fault_matrix.MatrixOptions(steps=("reminders",), faults=("late",), only=writes,
                                         echo=lines.append)
    results = fault_matrix.run_matrix(options, tmp_path)
    assert sorted(r.target for r in results) == sorted(writes)
    assert [v for r in results for v in r.violations] == [], "\n".join(lines)


def test_the_ledger_is_compared_by_the_row_that_counts() -> None:
    """Rows a retry superseded or a late write repeated are history; the winning row is not."""
    header = ("Kind", "Session", "Recipient", "Status", "Time")
    sent = ("reading", "3", "a@example.org", "sent", 1.0)

    def state(*rows: tuple[object, ...]) -> GroupState:
        return GroupState({"Reminders": (header, *rows)}, (), b"", b"", ())

    expected = fault_matrix.ledger_outcome(state(sent))
    late = ("reading", "3", "a@example.org", "drafting", 1.0)
    superseded = ("reading", "3", "a@example.org", "superseded", 1.0)
    assert fault_matrix.ledger_outcome(state(superseded, sent, late)) == expected
    unsent = fault_matrix.ledger_outcome(state(late))
    assert unsent.differences(expected) == ["worksheet Reminders differs"]


def test_the_invariants_catch_a_duplicated_member_and_event(tmp_path: Path) -> None:
    """The checks are not vacuous: a duplicate row, a duplicate live event and a draft left
    behind are reported."""
    steps = list(fault_matrix.ALL_STEPS_ENABLED)
    baseline = fault_matrix.make_baseline(tmp_path, steps)
    with fault_matrix.restored(baseline, tmp_path / "broken") as group:
        expected = group.state()
        members = group.emulator.sheets.values("bench-master-spreadsheet", "Members",
                                               "UNFORMATTED_VALUE")
        group.emulator.sheets.set_values("bench-master-spreadsheet", "Members", [members[1]],
                                         start=f"A{len(members) + 1}")
        event = group.live_events()[0]
        copy = {k: v for k, v in event.items() if k not in ("id", "iCalUID")}
        group.calendar_api.put_event("study-group@group.calendar.google.com", copy)
        _leave_a_draft(group, "<left-behind@example.org>")
        found = fault_matrix.check_invariants(group, expected, converged=True)
    assert any(v.startswith("members twice") for v in found)
    assert any(v.startswith("sessions with two live events") for v in found)
    assert "worksheet Members differs" in found
    assert "Gmail drafts left behind: <left-behind@example.org>" in found


def _leave_a_draft(group: GoogleGroup, message_id: str) -> None:
    message = EmailMessage()
    message["To"], message["Message-ID"] = "someone@example.org", message_id
    message.set_content("A reminder an interrupted run drafted.")
    raw = base64.urlsafe_b64encode(message.as_bytes()).decode()
    stored = {"id": "r1", "message": {"id": "m1", "threadId": "m1", "labelIds": ["DRAFT"],
                                      "raw": raw}}
    with group.emulator.state.lock:
        mailboxes = group.emulator.state.section("gmail").setdefault("mailboxes", {})
        box = mailboxes.setdefault(ORGANIZER, {"drafts": {}, "messages": {}})
        box["drafts"]["r1"] = stored
